import type { Config } from '../config/config';
import type { Database } from '../db/database';

/** What a CLI command gets: the parsed config, an open database, and where to print. */
export interface CliDeps {
  readonly config: Config;
  readonly db: Database;
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}
