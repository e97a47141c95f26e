// The explorer's first screen comes from src/explorer/examples.ts, and README.md shows exactly those
// examples; its settings follow introspection and API_TOKEN; each page's policy allows only what
// it loads.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { explorerSettings } from '../../src/explorer';
import { EXAMPLES } from '../../src/explorer/examples';
import { explorerPage, landingPage, TOKEN_HEADERS } from '../../src/explorer/page';

const readme = readFileSync(path.join(__dirname, '../../README.md'), 'utf8');

/** The settings block a page hands to its scripts. */
function settingsOf(html: string) {
  const json = /<script type="application\/json" id="explorer-config">(.*?)<\/script>/s.exec(html)![1]!;
  return JSON.parse(json) as {
    tabs: { title: string; query: string; headers: string }[];
    defaultHeaders: string;
    notice: string;
    sandbox?: { options: { initialState: Record<string, unknown> } };
  };
}

it("README.md's GraphQL examples are the explorer's tabs, in order and to the character", () => {
  const fenced = [...readme.matchAll(/^```graphql\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
  expect(fenced).toEqual(EXAMPLES.map((example) => example.query));
  for (const example of EXAMPLES)
    expect(example.query).toMatch(new RegExp(`^(query|mutation) ${example.name} \\{`));
});

it('has an explorer only with introspection, and the token placeholder only when writes need one', () => {
  expect(explorerSettings({ introspection: false, apiTokens: ['t'] })).toBeNull();
  expect(explorerSettings({ introspection: true, apiTokens: null })).toEqual({ writesNeedToken: false });
  expect(explorerSettings({ introspection: true, apiTokens: ['t'] })).toEqual({ writesNeedToken: true });

  const guarded = settingsOf(explorerPage({ writesNeedToken: true }).html);
  expect(guarded.tabs).toEqual(
    EXAMPLES.map(({ name, query }) => ({
      title: name,
      query,
      headers: '{"Authorization": "Bearer <API_TOKEN>"}',
    })),
  );
  expect(guarded.defaultHeaders).toBe(TOKEN_HEADERS);
  expect(guarded.notice).toMatch(/^Writes need a token/);

  const open = settingsOf(explorerPage({ writesNeedToken: false }).html);
  expect(open.tabs.map((tab) => tab.headers)).toEqual(['', '']);
  expect(open.notice).toMatch(/^Writes are open/);
});

it('/graphiql loads from this server only; the landing page adds exactly Sandbox’s script, frame and favicon', () => {
  const local =
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; worker-src 'self'; font-src 'self' data:; img-src 'self' data:; connect-src 'self'; frame-src 'none'; base-uri 'none'; form-action 'none'";
  const explorer = explorerPage({ writesNeedToken: false });
  expect(explorer.csp).toBe(local);
  expect(explorer.html).toContain(`<meta http-equiv="Content-Security-Policy" content="${local}" />`);
  expect(explorer.html).not.toMatch(/https?:\/\//);

  const landing = landingPage({ writesNeedToken: true });
  expect(landing.csp).toBe(
    "default-src 'none'; script-src 'self' https://embeddable-sandbox.cdn.apollographql.com; style-src 'self' 'unsafe-inline'; worker-src 'self'; font-src 'self' data:; img-src 'self' data: https://embeddable-explorer.cdn.apollographql.com; connect-src 'self'; frame-src https://sandbox.embed.apollographql.com; base-uri 'none'; form-action 'none'",
  );
  // No inline script: the only <script> elements are the module and the JSON settings block.
  expect([...landing.html.matchAll(/<script[^>]*>/g)].map((m) => m[0])).toEqual([
    '<script type="module" src="/graphiql/assets/landing.js">',
    '<script type="application/json" id="explorer-config">',
  ]);
  expect(settingsOf(landing.html).sandbox!.options.initialState).toEqual({
    document: EXAMPLES[0]!.query,
    headers: { Authorization: 'Bearer <API_TOKEN>' },
    includeCookies: false,
  });
});
