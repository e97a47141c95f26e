// The process logger (pino). Secrets are redacted by path here, once, so no call site has to remember.
import pino, { type Logger } from 'pino';
import type { Config } from './config/config';

export type { Logger };

export const REDACTED_PATHS = [
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'password',
  '*.password',
  'token',
  '*.token',
  'apiTokens',
  '*.apiTokens',
];

export function createLogger(config: Pick<Config, 'logLevel'>, destination?: pino.DestinationStream): Logger {
  return pino(
    { level: config.logLevel, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } },
    destination,
  );
}
