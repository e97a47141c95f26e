// `npm run <command>` entry: reads .env like the server does, runs one command (runCli.ts), exits
// with its code.
import 'dotenv/config';
import { runCli } from './runCli';

runCli(process.argv.slice(2), process.env, {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
}).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
