// `npm run db:migrate`: applies pending migrations; exits 1 with the reason when it cannot.
import { migrate, MigrationError } from '../db/migrate';
import type { CliDeps } from './deps';

export async function run(_args: string[], { db, out, err }: CliDeps): Promise<number> {
  try {
    const { applied, alreadyApplied } = await migrate(db.sessions, undefined, (name) =>
      out(`applied ${name}`),
    );
    out(
      applied.length
        ? `✅ ${applied.length} migration(s) applied (${alreadyApplied} already applied)`
        : `✅ Database is up to date (${alreadyApplied} migration(s) applied earlier)`,
    );
    return 0;
  } catch (error) {
    if (!(error instanceof MigrationError)) throw error;
    err(`❌ ${error.message}`);
    return 1;
  }
}
