// The API explorer in a real browser (Debian's Chromium, offline: see test/helpers/browser.ts),
// against the real server process started as `npm start` starts it: GET /graphql falls back on the
// bundled GraphiQL when Apollo's CDN cannot be reached, and that explorer runs the README's query.
// In production with introspection off there is neither explorer nor schema.
// The online half (the real Sandbox from Apollo's CDN) cannot run here: the tests that say "CDN
// answers" or "hangs" stand a route in for the CDN's script.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page, Request } from 'playwright-core';
import { RECEIVE, SCAN } from '../../src/explorer/examples';
import { TEST_TOKEN } from '../helpers/app';
import { ARTIFACTS_DIR, launchOfflineChromium, newPage, openExplorer } from '../helpers/browser';
import { createMigratedDatabase, type TestDatabase } from '../helpers/database';
import { startServerProcess, type ServerProcess } from '../helpers/serverProcess';

const SANDBOX_SCRIPT = /^https:\/\/embeddable-sandbox\.cdn\.apollographql\.com\//;
/** The Result Window's text without Monaco's line breaks and indentation. */
const resultText = async (page: Page) =>
  (await page.locator('section[aria-label="Result Window"]').innerText()).replace(/\s+/g, '');

/** Saves a screenshot under artifacts/ (git-ignored) and prints where. */
async function saveScreenshot(page: Page, name: string): Promise<void> {
  await mkdir(ARTIFACTS_DIR, { recursive: true });
  const file = path.join(ARTIFACTS_DIR, name);
  await page.screenshot({ path: file });
  console.log(`explorer screenshot: ${file}`);
}

async function gql(server: ServerProcess, query: string) {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  });
  return (await response.json()) as {
    data?: Record<string, unknown>;
    errors?: { extensions?: { code?: string } }[];
  };
}

let browser: Browser;
beforeAll(async () => {
  browser = await launchOfflineChromium();
});
afterAll(() => browser?.close());

describe('in development, offline (what `npm start` gives a newcomer)', () => {
  let server: ServerProcess;
  let dataDir: string;
  let page: Page;
  let requests: Request[];

  beforeAll(async () => {
    // No DATABASE_URL: the embedded PGlite, migrated and loaded with demo products on first start.
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'bc-explorer-'));
    server = await startServerProcess(
      { PGLITE_DIR: path.join(dataDir, 'pglite'), API_TOKEN: TEST_TOKEN },
      120_000,
    );
  }, 130_000);
  afterAll(async () => {
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    page = await newPage(browser);
    requests = [];
    page.on('request', (request) => requests.push(request));
  });
  afterEach(() => page.close());

  it('GET /graphql shows the local explorer with the README examples; nothing but the CDN try leaves the machine', async () => {
    await openExplorer(page, server.url);
    const origin = new URL(server.url).origin;
    const outside = requests.map((r) => r.url()).filter((url) => !url.startsWith(`${origin}/`));
    expect(outside).toEqual([expect.stringMatching(SANDBOX_SCRIPT)]);
    expect(requests.find((r) => SANDBOX_SCRIPT.test(r.url()))!.failure()?.errorText).toBe(
      'net::ERR_NAME_NOT_RESOLVED',
    );

    expect(await page.locator('.graphiql-tab').allInnerTexts()).toEqual([SCAN.name, RECEIVE.name]);
    // Writes need a token here: the headers editor holds the placeholder, never the token.
    await expect(page.getByTestId('explorer-notice').innerText()).resolves.toContain(
      'Writes need a token: in the Headers editor, replace <API_TOKEN>',
    );
    const headers = page.locator('section.graphiql-editor-tool .graphiql-editor:not(.hidden) .view-lines');
    // Monaco renders spaces as no-break spaces.
    expect((await headers.innerText()).replace(/\u00a0/g, ' ')).toBe(
      '{"Authorization": "Bearer <API_TOKEN>"}',
    );
    expect(await page.content()).not.toContain(TEST_TOKEN);

    await saveScreenshot(page, 'explorer-offline.png');
  });

  it("runs the pre-filled Scan query through the UI: a demo product's name, and the malformed code's error at its path", async () => {
    const expected = await gql(server, '{ barcode(code: "4000000000013") { product { name } } }');
    const name = (expected.data!.barcode as { product: { name: string } }).product.name;
    await openExplorer(page, server.url);
    await page.getByRole('button', { name: /Execute query/ }).click();
    await page.locator('section[aria-label="Result Window"]').getByText(name).first().waitFor();
    await saveScreenshot(page, 'explorer-scan-result.png');
    const result = await resultText(page);
    expect(result).toContain(`"name":"${name.replace(/\s+/g, '')}"`);
    // "4000000000021" has a wrong check digit: the 4th code of `receiving`.
    expect(result).toMatch(
      /"message":"Invalidcodes\[3\]:Barcode'4000000000021'hasawrongcheckdigit[^"]*","locations":\[[^\]]*\],"path":\["receiving",3\]/,
    );
  });

  it('has the schema: docs and completion', async () => {
    await openExplorer(page, server.url);
    await page.getByRole('button', { name: 'Show Documentation Explorer' }).click();
    await page.locator('.graphiql-doc-explorer').getByText('Query', { exact: true }).first().click();
    await page.locator('.graphiql-doc-explorer').getByText('barcodes', { exact: true }).first().waitFor();

    await page.getByRole('button', { name: 'New tab' }).click();
    const editor = page.locator('section[aria-label="Operation Editor"] .monaco-editor').first();
    await editor.click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.type('{ barc');
    await page.locator('.suggest-widget').getByText('barcodes').first().waitFor();
  });

  it('GET /graphiql opens the local explorer directly, without trying the CDN', async () => {
    await openExplorer(page, server.url.replace(/\/graphql$/, '/graphiql'));
    expect(requests.filter((r) => SANDBOX_SCRIPT.test(r.url()))).toEqual([]);
  });

  it('falls back on its own when the CDN does not answer at all', async () => {
    // A network that drops packets: the script request hangs until the page's timeout gives up on it.
    await page.route(SANDBOX_SCRIPT, () => {});
    await openExplorer(page, server.url);
  });

  it('shows Sandbox, not the local explorer, when the CDN answers', async () => {
    await page.route(SANDBOX_SCRIPT, (route) =>
      route.fulfill({
        contentType: 'text/javascript',
        body: `window.EmbeddedSandbox = class {
          constructor(options) {
            window.sandboxOptions = options;
            document.querySelector(options.target).textContent = 'stand-in Sandbox';
          }
        };`,
      }),
    );
    await page.goto(server.url);
    await page.getByText('stand-in Sandbox').waitFor();
    const options = (await page.evaluate('window.sandboxOptions')) as {
      initialEndpoint: string;
      initialState: { document: string; headers: Record<string, string> };
    };
    expect(options.initialEndpoint).toBe(server.url);
    expect(options.initialState.document).toBe(SCAN.query);
    expect(options.initialState.headers).toEqual({ Authorization: 'Bearer <API_TOKEN>' });
    await page.waitForTimeout(2000); // past the fallback's timeout: still Sandbox
    expect(await page.locator('.graphiql-container').count()).toBe(0);
    expect(requests.filter((r) => r.url().includes('/graphiql/assets/explorer'))).toEqual([]);
  });
});

describe('in production with introspection off', () => {
  let server: ServerProcess;
  let testDb: TestDatabase;

  beforeAll(async () => {
    testDb = await createMigratedDatabase('explorer_prod');
    server = await startServerProcess({
      NODE_ENV: 'production',
      DATABASE_URL: testDb.url,
      API_TOKEN: TEST_TOKEN,
    });
  }, 90_000);
  afterAll(async () => {
    await server?.stop();
    await testDb?.drop();
  });

  it('shows no explorer and no schema', async () => {
    const page = await newPage(browser);
    try {
      const requests: string[] = [];
      page.on('request', (request) => requests.push(request.url()));
      await page.goto(server.url);
      await page.waitForLoadState('networkidle');
      expect(await page.locator('.graphiql-container, #explorer-config, #sandbox').count()).toBe(0);
      expect(await page.content()).not.toMatch(/graphiql|sandbox|explorer/i);
      expect(requests).toEqual([server.url]);

      const explorer = await page.goto(server.url.replace(/\/graphql$/, '/graphiql'));
      expect(explorer!.status()).toBe(404);
      const asset = await page.goto(server.url.replace(/\/graphql$/, '/graphiql/assets/explorer.js'));
      expect(asset!.status()).toBe(404);
    } finally {
      await page.close();
    }
    const introspection = await gql(server, '{ __schema { types { name } } }');
    expect(introspection.data).toBeUndefined();
    expect(introspection.errors!.map((e) => e.extensions?.code)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
  });
});
