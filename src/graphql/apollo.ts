// The Apollo Server: schema, error formatting, Sandbox or no landing page, and the write guard.
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import type { Server } from 'node:http';
import type { Config } from '../config/config';
import type { Logger } from '../logger';
import type { Context } from './context';
import { unauthenticated } from './errors';
import { createFormatError } from './formatError';
import { loadTypeDefs, resolvers } from './schema';

/**
 * Rejects a mutation operation without a write token before any resolver runs, so an
 * unauthenticated write has no side effect at all (not even a partial one from a first field).
 */
const writeGuard: ApolloServerPlugin<Context> = {
  async requestDidStart() {
    return {
      async didResolveOperation({ operation, contextValue }) {
        if (operation?.operation === 'mutation' && !contextValue.canWrite()) throw unauthenticated();
      },
    };
  },
};

export function createApolloServer(
  config: Config,
  logger: Logger,
  httpServer: Server,
): ApolloServer<Context> {
  return new ApolloServer<Context>({
    typeDefs: loadTypeDefs(),
    resolvers: resolvers as never,
    introspection: config.introspection,
    includeStacktraceInErrorResponses: false,
    // main.ts owns the signals: it stops the whole app (HTTP, Apollo, database) in order and exits.
    stopOnTerminationSignals: false,
    formatError: createFormatError(logger),
    plugins: [
      writeGuard,
      ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis: config.shutdownTimeoutMs }),
      config.introspection
        ? ApolloServerPluginLandingPageLocalDefault({ embed: true, includeCookies: false })
        : ApolloServerPluginLandingPageDisabled(),
    ],
  });
}
