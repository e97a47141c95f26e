// `npm run <command>` entry: loads the config like the server does, runs one command, exits
// with its code. Each command lives in its own file as run(args, deps) → exit code.
import 'dotenv/config';
import { ConfigError, loadConfig } from '../config/config';
import { openDatabase } from '../db/database';
import type { CliDeps } from './deps';
import * as cacheCheck from './cacheCheck';
import * as cacheClear from './cacheClear';
import * as cacheWarm from './cacheWarm';
import * as migrate from './migrate';
import * as seed from './seed';

const COMMANDS: Record<string, (args: string[], deps: CliDeps) => Promise<number>> = {
  'db:migrate': migrate.run,
  'db:seed': seed.run,
  'cache:check': cacheCheck.run,
  'cache:warm': cacheWarm.run,
  'cache:clear': cacheClear.run,
};

async function main(): Promise<number> {
  const [name = '', ...args] = process.argv.slice(2);
  const command = COMMANDS[name];
  if (!command) {
    console.error(`Unknown command '${name}'. Commands: ${Object.keys(COMMANDS).join(', ')}`);
    return 2;
  }
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`Configuration error:\n${error.message}`);
      return 1;
    }
    throw error;
  }
  const db = await openDatabase(config.database);
  try {
    return await command(args, {
      config,
      db,
      out: (line) => console.log(line),
      err: (line) => console.error(line),
    });
  } finally {
    await db.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
