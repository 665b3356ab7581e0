import { defineConfig } from 'vitest/config';

/** The dashboard's pure helpers and the SPA middleware; the root config covers server/ only. */
export default defineConfig({
  test: {
    include: ['web/**/*.test.ts'],
    root: new URL('..', import.meta.url).pathname,
    testTimeout: 30_000,
  },
});
