// Debian's Chromium driven by playwright-core (`npx playwright install` cannot download a browser
// here), offline: every host name but the loopback address fails to resolve, as on a machine with
// no internet, whatever network the machine running the tests has. Playwright starts each browser
// with a fresh --user-data-dir of its own (a temporary directory it removes on close), and every
// test page gets a new context: no localStorage (GraphiQL keeps its tabs there) carries over.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page, type Response } from 'playwright-core';

/** Any Chromium or Chrome; Debian's package by default (`apt-get install -y chromium`). */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Where tests save screenshots (git-ignored). */
export const ARTIFACTS_DIR = path.resolve(__dirname, '../../artifacts');

// The flags this machine's notes give for a headless Chromium as root; without the background
// networking ones, Chromium keeps trying Google's hosts.
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // No internet: names do not resolve (net::ERR_NAME_NOT_RESOLVED), as offline; but localhost
  // does, as on any machine (the URL the server's start-up line gives is http://localhost:...).
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost',
];

export async function launchOfflineChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    // Fails rather than skips: a skipped browser test would pass a build whose explorer nobody opened.
    throw new Error(
      `No Chromium at ${CHROMIUM_PATH}: install it (Debian: apt-get update && apt-get install -y chromium) ` +
        'or point CHROMIUM_PATH at a Chromium or Chrome binary. The browser tests do not skip.',
    );
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: FLAGS });
}

/** A page in a context of its own (fresh storage), closed with its context. */
export async function newPage(browser: Browser): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const page = await context.newPage();
  page.once('close', () => void context.close());
  return page;
}

/** The introspection request GraphiQL sends on load: its answer is the schema (docs, completion). */
export const isIntrospection = (response: Response): boolean =>
  response.request().method() === 'POST' &&
  (response.request().postData() ?? '').includes('IntrospectionQuery');

/**
 * Waits until the explorer can be used: the operation editor shows the given text and the run
 * button ("Execute query", not "Stop" while a request runs) is there and enabled.
 */
export async function waitUntilInteractive(page: Page, editorText = 'query Scan'): Promise<void> {
  await page.locator('section[aria-label="Operation Editor"]').getByText(editorText).first().waitFor();
  // GraphiQL 5 never disables its button today; `disabled: false` keeps "interactive" honest if it
  // starts to.
  await page.getByRole('button', { name: /^Execute query/, disabled: false }).waitFor();
}

/**
 * Opens an explorer page and waits until it is interactive (waitUntilInteractive) and GraphiQL has
 * the schema (its introspection answer arrived), so docs and completion work.
 */
export async function openExplorer(page: Page, url: string, editorText = 'query Scan'): Promise<void> {
  const schema = page.waitForResponse(isIntrospection);
  // Not until "load": a Sandbox script that hangs holds the load event back, not the explorer.
  await page.goto(url, { waitUntil: 'domcontentloaded' });
  await waitUntilInteractive(page, editorText);
  const answer = await schema;
  if (answer.status() !== 200)
    throw new Error(`introspection answered ${answer.status()}: ${await answer.text()}`);
}
