// BENCHMARK PEER ONLY: the `response-cache` mode, Apollo's whole-response cache set up the way
// Apollo's documentation tells users to: @apollo/server-plugin-response-cache, the server's
// `cache` a KeyvAdapter over Keyv with the @keyv/redis store, and @cacheControl hints on the
// types the queries return. It runs on the batched wiring (the project's DataLoaders, no
// cache of ours), so a miss costs what `batched` costs and a hit skips execution entirely.
// Nothing in src/ uses it; bench/server.ts passes it to createApp.
import responseCachePlugin from '@apollo/server-plugin-response-cache';
import { KeyvAdapter } from '@apollo/utils.keyvadapter';
import KeyvRedis from '@keyv/redis';
import Keyv from 'keyv';
import type { ApolloExtras } from '../src/graphql/apollo';

/**
 * A minute: what a user who reads the docs would pick for data that "rarely changes". Any TTL
 * lets a read after an acknowledged write show the old answer until it expires.
 */
export const RESPONSE_MAX_AGE_SECONDS = 60;

/** The directive Apollo's docs have users declare, and hints on every object type a query returns. */
const CACHE_CONTROL_SDL = `
enum CacheControlScope {
  PUBLIC
  PRIVATE
}
directive @cacheControl(maxAge: Int, scope: CacheControlScope, inheritMaxAge: Boolean) on FIELD_DEFINITION | OBJECT | INTERFACE | UNION
${['Barcode', 'Product', 'ProductConnection', 'ProductEdge', 'PageInfo']
  .map((type) => `extend type ${type} @cacheControl(maxAge: ${RESPONSE_MAX_AGE_SECONDS})`)
  .join('\n')}
`;

export function responseCacheExtras(
  redisUrl: string,
  namespace: string,
): ApolloExtras & { close(): Promise<void> } {
  const keyv = new Keyv({ store: new KeyvRedis(redisUrl), namespace });
  return {
    typeDefs: [CACHE_CONTROL_SDL],
    cache: new KeyvAdapter(keyv),
    plugins: [responseCachePlugin()],
    close: () => keyv.disconnect(),
  };
}
