// The two HTML pages of the explorer, each with the Content-Security-Policy it needs and no more:
// - /graphiql: the local explorer (GraphiQL) and nothing from outside this server;
// - the landing page at GET /graphql: Apollo Sandbox from Apollo's CDN, and the local explorer when
//   Sandbox cannot be loaded (web/explorer/landing.ts decides in the browser).
// No inline script in either: the settings travel as a JSON block the scripts read, so script-src
// needs neither 'unsafe-inline' nor a nonce.
import { DEFAULT_EMBEDDED_SANDBOX_VERSION } from '@apollo/server/plugin/landingPage/default';
import { EXAMPLES } from './examples';

/** Where the bundle is served (src/explorer/routes.ts); absolute, so it works from both pages. */
export const ASSETS_PATH = '/graphiql/assets/';
export const EXPLORER_PATH = '/graphiql';
const ENDPOINT = '/graphql';

/** The header editor's contents when writes need a token: a placeholder, never a token. */
export const TOKEN_HEADERS = '{"Authorization": "Bearer <API_TOKEN>"}';

// The same script Apollo's own landing page loads (its default version), from its CDN; Sandbox
// itself runs in an iframe from the embed host and sends its requests through this page.
const SANDBOX_CDN = 'https://embeddable-sandbox.cdn.apollographql.com';
const SANDBOX_SCRIPT = `${SANDBOX_CDN}/${DEFAULT_EMBEDDED_SANDBOX_VERSION}/embeddable-sandbox.umd.production.min.js`;
const SANDBOX_FRAME = 'https://sandbox.embed.apollographql.com';
// Sandbox adds Apollo's favicon from here when this server has none.
const SANDBOX_FAVICON = 'https://embeddable-explorer.cdn.apollographql.com';

/**
 * How long the Sandbox script may take before the local explorer takes over. Offline the script
 * fails at once (its host does not resolve); this bounds a network that drops packets instead.
 */
export const SANDBOX_TIMEOUT_MS = 1500;

export interface ExplorerSettings {
  /** API_TOKEN is set: mutations need `Authorization: Bearer <token>`. */
  readonly writesNeedToken: boolean;
}

export interface Page {
  readonly html: string;
  readonly csp: string;
}

/** The local explorer alone (GET /graphiql). */
export function explorerPage(settings: ExplorerSettings): Page {
  const csp = policy({});
  return {
    csp,
    html: document(
      csp,
      `<link rel="stylesheet" href="${ASSETS_PATH}explorer.css" />
    <script type="module" src="${ASSETS_PATH}explorer.js"></script>`,
      '',
      config(settings),
    ),
  };
}

/** Apollo Sandbox, falling back on the local explorer (GET /graphql, Apollo's landing page). */
export function landingPage(settings: ExplorerSettings): Page {
  const csp = policy({
    'script-src': [SANDBOX_CDN],
    'frame-src': [SANDBOX_FRAME],
    'img-src': [SANDBOX_FAVICON],
  });
  const sandbox = {
    scriptUrl: SANDBOX_SCRIPT,
    timeoutMs: SANDBOX_TIMEOUT_MS,
    // EmbeddedSandbox's options, as Apollo's landing page sets them (includeCookies: false as before).
    options: {
      initialState: {
        document: EXAMPLES[0]!.query,
        ...(settings.writesNeedToken && { headers: JSON.parse(TOKEN_HEADERS) as object }),
        includeCookies: false,
      },
      hideCookieToggle: false,
      endpointIsEditable: false,
    },
  };
  return {
    csp,
    html: document(
      csp,
      `<script type="module" src="${ASSETS_PATH}landing.js"></script>`,
      `<p id="sandbox-loading">Loading Apollo Sandbox; the local explorer opens if it cannot be loaded.</p>
    <div id="sandbox"></div>`,
      { ...config(settings), sandbox },
    ),
  };
}

function config(settings: ExplorerSettings) {
  const headers = settings.writesNeedToken ? TOKEN_HEADERS : '';
  return {
    endpoint: ENDPOINT,
    assets: ASSETS_PATH,
    tabs: EXAMPLES.map(({ name, query }) => ({ title: name, query, headers })),
    defaultHeaders: headers,
    notice: settings.writesNeedToken
      ? "Writes need a token: in the Headers editor, replace <API_TOKEN> with one of this server's API_TOKEN values. Reads need none."
      : 'Writes are open to anyone: API_TOKEN is not set (development only).',
  };
}

type Directive =
  'script-src' | 'style-src' | 'worker-src' | 'font-src' | 'img-src' | 'connect-src' | 'frame-src';

/**
 * Everything from this server only, plus the extra sources given. style-src needs 'unsafe-inline'
 * because Monaco (GraphiQL's editor) writes <style> elements at run time and takes no nonce;
 * fonts and a few images are data: URLs inside graphiql's stylesheet.
 */
function policy(extra: Partial<Record<Directive, string[]>>): string {
  const directives: Record<Directive, string[]> = {
    'script-src': ["'self'"],
    'style-src': ["'self'", "'unsafe-inline'"],
    'worker-src': ["'self'"],
    'font-src': ["'self'", 'data:'],
    'img-src': ["'self'", 'data:'],
    'connect-src': ["'self'"],
    'frame-src': ["'none'"],
  };
  for (const [name, sources] of Object.entries(extra) as [Directive, string[]][]) {
    directives[name] = [...directives[name].filter((s) => s !== "'none'"), ...sources];
  }
  return [
    "default-src 'none'",
    ...Object.entries(directives).map(([name, sources]) => `${name} ${sources.join(' ')}`),
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

function document(csp: string, head: string, body: string, settings: object): string {
  // JSON in a <script> block: `<` escaped so that no string in it can close the block.
  const json = JSON.stringify(settings).replace(/</g, '\\u003c');
  return `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <meta http-equiv="Content-Security-Policy" content="${csp}" />
    <title>barcode-cache GraphQL explorer</title>
    <style>
      html, body { height: 100%; margin: 0; }
      #sandbox { position: absolute; inset: 0; }
      #sandbox-loading { font: 14px system-ui, sans-serif; padding: 1em; }
    </style>
    ${head}
  </head>
  <body>
    <noscript>The explorer needs JavaScript.</noscript>
    ${body}
    <div id="explorer" hidden></div>
    <script type="application/json" id="explorer-config">${json}</script>
  </body>
</html>
`;
}
