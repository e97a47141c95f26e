// The CLI's dispatch, apart from the process (index.ts) so tests run it with an env of their own:
// loads the config like the server does, opens the database, runs one command, returns its code.
// Each command lives in its own file as run(args, deps) → exit code; one that reports a refused
// configuration in its own format (preflight) also exports onConfigError.
import { ConfigError, loadConfig } from '../config/config';
import { openDatabase } from '../db/database';
import type { CliDeps } from './deps';
import * as cacheCheck from './cacheCheck';
import * as cacheClear from './cacheClear';
import * as cacheWarm from './cacheWarm';
import * as migrate from './migrate';
import * as preflight from './preflight';
import * as seed from './seed';

interface Command {
  run(args: string[], deps: CliDeps): Promise<number>;
  onConfigError?(error: ConfigError, out: (line: string) => void): number;
}

const COMMANDS: Record<string, Command> = {
  'db:migrate': migrate,
  'db:seed': seed,
  'cache:check': cacheCheck,
  'cache:warm': cacheWarm,
  'cache:clear': cacheClear,
  preflight,
};

export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

export async function runCli(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  io: CliIo,
): Promise<number> {
  const [name = '', ...args] = argv;
  const command = COMMANDS[name];
  if (!command) {
    io.err(`Unknown command '${name}'. Commands: ${Object.keys(COMMANDS).join(', ')}`);
    return 2;
  }
  let config;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    if (command.onConfigError) return command.onConfigError(error, io.out);
    io.err(`Configuration error:\n${error.message}`);
    return 1;
  }
  const db = await openDatabase(config.database);
  try {
    return await command.run(args, { config, db, ...io });
  } finally {
    await db.close();
  }
}
