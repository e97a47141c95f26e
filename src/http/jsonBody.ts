// The JSON request body, as express.json (body-parser) reads it, with a shorter path for the
// request every GraphQL client sends: POST, `content-type: application/json`, a content-length
// within the limit, no content-encoding. That one is read and parsed here with body-parser's own
// rules (strict: an object or array; an empty body is {}; a UTF-8 BOM is dropped); anything else
// (compressed, chunked, other charsets, too large, no body) goes to body-parser itself, which
// inflates before measuring, refuses non-UTF charsets, and so on. test/integration/limits.test.ts
// sends the same bodies down both paths and requires the same answers.
//
// Why: body-parser's generic path (type-is, content-type parsing, raw-body's stream handling,
// iconv decoding) was ~8% of a `{ __typename }` request's CPU in a profile.
import bodyParser from 'body-parser';
import type { IncomingMessage, ServerResponse } from 'node:http';

type Next = (error?: unknown) => void;
export type BodyReader = (req: IncomingMessage & { body?: unknown }, res: ServerResponse, next: Next) => void;

/** The content types read here; any other spelling goes to body-parser. */
const PLAIN_JSON = new Set(['application/json', 'application/json; charset=utf-8']);

/** body-parser's strict mode: the first character that is not JSON whitespace must open an object or array. */
const FIRST_NON_WHITESPACE = /^[ \t\n\r]*([^ \t\n\r]|$)/;

export function jsonBodyReader(limitBytes: number): BodyReader {
  const generic = bodyParser.json({ limit: limitBytes }) as BodyReader;
  return (req, res, next) => {
    const { headers } = req;
    const length = Number(headers['content-length']);
    const plain =
      req.method === 'POST' &&
      headers['transfer-encoding'] === undefined &&
      headers['content-encoding'] === undefined &&
      Number.isInteger(length) &&
      length <= limitBytes &&
      PLAIN_JSON.has(headers['content-type']?.toLowerCase() ?? '');
    if (!plain) return generic(req, res, next);

    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.once('end', () => {
      let body: unknown;
      try {
        body = parseStrict(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return next({ status: 400, type: 'entity.parse.failed' });
      }
      req.body = body;
      next();
    });
    // The client went away mid-body (body-parser's 'request aborted'); nobody reads the answer.
    req.once('aborted', () => next({ status: 400, type: 'request.aborted' }));
  };
}

function parseStrict(text: string): unknown {
  const json = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (json.length === 0) return {};
  const first = FIRST_NON_WHITESPACE.exec(json)![1];
  if (first !== '{' && first !== '[') throw new SyntaxError('not a JSON object or array');
  return JSON.parse(json);
}
