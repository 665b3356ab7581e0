import { defineConfig } from 'drizzle-kit';

// `npx drizzle-kit generate` writes SQLite migrations next to where the PostgreSQL ones will go (issue 11).
export default defineConfig({
  dialect: 'sqlite',
  schema: './server/db/schema.ts',
  out: './migrations/sqlite',
});
