// The Apollo Server: schema, error formatting, query limits, the explorer's landing page (Sandbox
// with the local explorer as its offline fallback) or none, and the write guard.
import {
  ApolloServer,
  type ApolloServerOptions,
  type ApolloServerPlugin,
  type GraphQLRequestListener,
} from '@apollo/server';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import type { Config } from '../config/config';
import { explorerLandingPage, explorerSettings } from '../explorer';
import type { Logger } from '../logger';
import type { Context } from './context';
import { unauthenticated } from './errors';
import { createFormatError } from './formatError';
import { queryLimitOptions } from './queryLimits';
import { loadTypeDefs, resolvers } from './schema';

/**
 * What every request gets from this server, in one plugin with one listener shared by all
 * requests (each plugin costs every request its own promises in Apollo's hook calls):
 * - a mutation operation without a write token is rejected before any resolver runs, so an
 *   unauthenticated write has no side effect at all (not even a partial one from a first field);
 * - responses are never cacheable by browsers or proxies: freshness is the server-side cache's
 *   job, and only its invalidation knows when an answer changed. This replaces Apollo's
 *   cache-control plugin (disabled below), which sets the same header but wraps every field
 *   resolver to compute per-field hints we never declare, about 6% of a warm 50-code list's CPU
 *   in a profile.
 */
const requestPolicy: ApolloServerPlugin<Context> = (() => {
  const listener: GraphQLRequestListener<Context> = {
    async didResolveOperation({ operation, contextValue }) {
      if (operation?.operation === 'mutation' && !contextValue.canWrite()) throw unauthenticated();
    },
    async willSendResponse({ response }) {
      response.http.headers.set('cache-control', 'no-store');
    },
  };
  return { requestDidStart: async () => listener };
})();

/**
 * What the benchmark's `response-cache` peer (bench/responseCache.ts) adds: SDL with
 * @cacheControl hints, plugins, and the server's key-value cache. With extras, Apollo's
 * cache-control plugin stays on (the response cache reads its hints). Nothing in src/ passes them.
 */
export interface ApolloExtras {
  readonly typeDefs: readonly string[];
  readonly plugins: readonly ApolloServerPlugin<Context>[];
  readonly cache: NonNullable<ApolloServerOptions<Context>['cache']>;
}

export function createApolloServer(
  config: Config,
  logger: Logger,
  extras?: ApolloExtras,
): ApolloServer<Context> {
  const limits = queryLimitOptions<Context>(config.queryLimits, { introspection: config.introspection });
  const explorer = explorerSettings(config);
  return new ApolloServer<Context>({
    typeDefs: [...loadTypeDefs(), ...(extras?.typeDefs ?? [])],
    ...(extras && { cache: extras.cache }),
    resolvers: resolvers as never,
    introspection: config.introspection,
    includeStacktraceInErrorResponses: false,
    // main.ts owns the signals: it stops the whole app (HTTP, Apollo, database) in order and exits.
    // The HTTP server is drained by src/http/drain.ts (not Apollo's drainHttpServer: see there).
    stopOnTerminationSignals: false,
    formatError: createFormatError(logger),
    validationRules: limits.validationRules,
    parseOptions: limits.parseOptions,
    allowBatchedHttpRequests: limits.allowBatchedHttpRequests,
    plugins: [
      ...limits.plugins,
      requestPolicy,
      // Apollo installs it on its own, to trace subgraphs only; this schema is none, and the
      // idle plugin would still be called on every request.
      ApolloServerPluginInlineTraceDisabled(),
      ...(extras ? extras.plugins : [ApolloServerPluginCacheControlDisabled()]),
      explorer ? explorerLandingPage<Context>(explorer) : ApolloServerPluginLandingPageDisabled(),
    ],
  });
}
