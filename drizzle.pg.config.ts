import { defineConfig } from 'drizzle-kit';

// `npx drizzle-kit generate --config drizzle.pg.config.ts` writes the PostgreSQL migrations; drizzle.config.ts the SQLite ones.
export default defineConfig({
  dialect: 'postgresql',
  schema: './server/db/pg-schema.ts',
  out: './migrations/pg',
});
