// POST/GET /graphql as a plain Node handler: CORS, the JSON body (src/http/jsonBody.ts, as
// express.json reads it: the size limit is measured after inflating, charsets other than UTF-* are refused),
// then Apollo's executeHTTPGraphQLRequest and its answer written to the socket.
//
// This is what @as-integrations/express5 does, without express around it: express's router,
// request/response prototypes and res.send (which hashes every body for an ETag that a
// `cache-control: no-store` answer never uses) cost more CPU than Apollo's own request pipeline.
import { HeaderMap, type ApolloServer, type HTTPGraphQLRequest } from '@apollo/server';
import cors from 'cors';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context } from '../graphql/context';
import { jsonBodyReader } from './jsonBody';
import type { HttpFailure } from './jsonResponses';

/** A connect-style middleware: calls next() to pass on, next(error) to fail the request. */
type Middleware = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void;

export interface GraphQLHandlerOptions {
  readonly maxBodyBytes: number;
  /** Builds the per-request context; must do no I/O. */
  readonly context: (authorization: string | undefined) => Context;
  /** Answers a request that failed outside GraphQL (a bad body, an unexpected throw). */
  readonly fail: (res: ServerResponse, error: HttpFailure) => void;
}

export function graphqlHandler(
  apollo: ApolloServer<Context>,
  options: GraphQLHandlerOptions,
): (req: IncomingMessage, res: ServerResponse) => void {
  apollo.assertStarted('graphqlHandler()');
  const allowCors = cors() as Middleware;
  const readJson = jsonBodyReader(options.maxBodyBytes);
  const failed = (res: ServerResponse) => (error: unknown) => options.fail(res, error as HttpFailure);

  const execute = async (req: IncomingMessage & { body?: unknown }, res: ServerResponse) => {
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: toApolloRequest(req),
      context: async () => options.context(req.headers.authorization),
    });
    for (const [key, value] of response.headers) res.setHeader(key, value);
    res.statusCode = response.status ?? 200;
    if (response.body.kind === 'complete') {
      res.end(response.body.string);
      return;
    }
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
  };

  return (req, res) => {
    allowCors(req, res, (corsError) => {
      if (corsError) return failed(res)(corsError);
      // A preflight was answered by cors() itself and never gets here.
      readJson(req, res, (bodyError) => {
        if (bodyError) return failed(res)(bodyError);
        execute(req, res).catch(failed(res));
      });
    });
  };
}

/** The request as Apollo's integrations hand it over: upper-case method, headers, query string, parsed body. */
function toApolloRequest(req: IncomingMessage & { body?: unknown }): HTTPGraphQLRequest {
  const headers = new HeaderMap();
  for (const [key, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
  }
  const url = req.url ?? '';
  const queryAt = url.indexOf('?');
  const hashAt = url.indexOf('#', queryAt);
  return {
    method: (req.method ?? 'GET').toUpperCase(),
    headers,
    search: queryAt === -1 ? '' : url.slice(queryAt, hashAt === -1 ? undefined : hashAt),
    body: req.body,
  };
}
