// The page's settings, written by the server into <script type="application/json" id="explorer-config">
// (src/explorer/page.ts renders it): JSON in the page, not a global set by an inline script, so that
// the Content-Security-Policy needs no 'unsafe-inline' and no nonce for scripts.
export interface ExplorerTab {
  readonly title: string;
  readonly query: string;
  readonly headers: string;
}

export interface ExplorerConfig {
  /** Where GraphQL requests go, relative to the page (e.g. /graphql). */
  readonly endpoint: string;
  /** Where the bundle lives, e.g. /graphiql/assets/ (with the trailing slash). */
  readonly assets: string;
  readonly tabs: readonly ExplorerTab[];
  /** Headers of a tab the user opens; the token placeholder when writes need one. */
  readonly defaultHeaders: string;
  /** The line above the explorer (writes need a token, or are open). */
  readonly notice: string;
  /** Only on the landing page at /graphql: Apollo Sandbox, tried first. */
  readonly sandbox?: {
    readonly scriptUrl: string;
    /** How long the Sandbox script may take to load before the local explorer takes over. */
    readonly timeoutMs: number;
    /** Passed to `new EmbeddedSandbox(...)` as is. */
    readonly options: Record<string, unknown>;
  };
}

export function readConfig(): ExplorerConfig {
  const element = document.getElementById('explorer-config');
  if (!element?.textContent) throw new Error('explorer: no #explorer-config in the page');
  return JSON.parse(element.textContent) as ExplorerConfig;
}
