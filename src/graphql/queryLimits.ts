// Per-operation limits on what a client may ask for, from GraphQL Armor (depth, aliases, cost,
// directives) and graphql-js's parser (tokens). Each check runs before any resolver, so a request
// over a limit costs one parse and one validation pass and nothing else; the client gets HTTP 400
// with GRAPHQL_VALIDATION_FAILED (GRAPHQL_PARSE_FAILED for tokens) and a message naming the limit.
import type { ApolloServerOptions, ApolloServerPlugin } from '@apollo/server';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import type { GraphQLArmorRejectCallback } from '@escape.tech/graphql-armor-types';
import { GraphQLError } from 'graphql';
import type { QueryLimits } from '../config/config';

/** Names the limit in `extensions.limit`, so a client can tell which one it hit. */
export type LimitName = 'MAX_QUERY_DEPTH' | 'MAX_QUERY_ALIASES' | 'MAX_QUERY_COST' | 'MAX_QUERY_DIRECTIVES';

/**
 * Armor prefixes every rejection with "Syntax Error: " although the query parsed fine; report it
 * without that prefix and with the limit's name. Apollo sets the code (GRAPHQL_VALIDATION_FAILED)
 * and HTTP 400 for anything a validation rule reports.
 */
const reportAs =
  (limit: LimitName): GraphQLArmorRejectCallback =>
  (context, error) =>
    context?.reportError(
      new GraphQLError(error.message.replace(/^Syntax Error: /, ''), { extensions: { limit } }),
    );

const rejectWith = (limit: LimitName) => ({ propagateOnRejection: false, onReject: [reportAs(limit)] });

type LimitOptions<TContext extends object> = Pick<
  ApolloServerOptions<TContext>,
  'validationRules' | 'parseOptions' | 'allowBatchedHttpRequests'
> & { plugins: ApolloServerPlugin<TContext>[] };

/**
 * Apollo Server options enforcing the limits. `introspection` off also hides graphql-js's
 * "Did you mean …?" suggestions, which would otherwise spell out the schema field by field.
 */
export function queryLimitOptions<TContext extends object>(
  limits: QueryLimits,
  { introspection }: { introspection: boolean },
): LimitOptions<TContext> {
  const armor = new ApolloArmor({
    // Fragments are how clients share selections; they do not make a query deeper or dearer.
    maxDepth: { n: limits.depth, flattenFragments: true, ...rejectWith('MAX_QUERY_DEPTH') },
    maxAliases: { n: limits.aliases, ...rejectWith('MAX_QUERY_ALIASES') },
    costLimit: { maxCost: limits.cost, flattenFragments: true, ...rejectWith('MAX_QUERY_COST') },
    maxDirectives: { n: limits.directives, ...rejectWith('MAX_QUERY_DIRECTIVES') },
    // Armor's Apollo token plugin throws from parsingDidStart, which Apollo answers with HTTP 500
    // and an "unexpected error" log line; graphql-js's own parser limit below answers 400 instead.
    maxTokens: { enabled: false },
    blockFieldSuggestion: { enabled: !introspection },
  });
  const { plugins, validationRules } = armor.protect();
  return {
    plugins: plugins as ApolloServerPlugin<TContext>[],
    validationRules,
    parseOptions: { maxTokens: limits.tokens },
    // One operation per request: a batch would multiply every limit above by its length, and
    // `barcodes(codes:)` already answers many lookups in one operation.
    allowBatchedHttpRequests: false,
  };
}
