// Prisma 7 CLI configuration. The CLI is only used for `prisma generate` here (see scripts/generate.ts);
// migrations are applied by src/db/migrate.ts, which records them exactly as `prisma migrate deploy` does.
import 'dotenv/config';
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? '' },
});
