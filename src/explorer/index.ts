// The API explorer: Apollo Sandbox at GET /graphql with the bundled GraphiQL as its offline
// fallback, and GraphiQL alone at GET /graphiql. See docs/explorer.md.
import type { Config } from '../config/config';
import type { ExplorerSettings } from './page';

export { explorerLandingPage } from './landingPage';
export { ExplorerBundleMissingError, explorerRoutes, type NodeHandler } from './routes';
export type { ExplorerSettings } from './page';

/**
 * The explorer's settings, or null when there is none: the explorer goes with introspection
 * (GRAPHQL_INTROSPECTION, off in production by default), because without the schema it could
 * only show errors, and serving it would tell a stranger what this server is.
 */
export function explorerSettings(
  config: Pick<Config, 'introspection' | 'apiTokens'>,
): ExplorerSettings | null {
  return config.introspection ? { writesNeedToken: config.apiTokens !== null } : null;
}
