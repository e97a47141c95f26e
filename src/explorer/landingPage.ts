// Apollo's landing page slot (GET /graphql from a browser): our page instead of Apollo's default,
// so that Sandbox falls back on the local explorer when Apollo's CDN cannot be reached.
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { landingPage, type ExplorerSettings } from './page';

export function explorerLandingPage<TContext extends BaseContext>(
  settings: ExplorerSettings,
): ApolloServerPlugin<TContext> {
  const { html } = landingPage(settings);
  return {
    async serverWillStart() {
      return {
        async renderLandingPage() {
          return { html };
        },
      };
    },
  };
}
