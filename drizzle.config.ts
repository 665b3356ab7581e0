import { defineConfig } from 'drizzle-kit';

// `npx drizzle-kit generate` writes the SQLite migrations; drizzle.pg.config.ts the PostgreSQL ones.
export default defineConfig({
  dialect: 'sqlite',
  schema: './server/db/sqlite-schema.ts',
  out: './migrations/sqlite',
});
