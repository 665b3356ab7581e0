import { defineConfig } from 'vitest/config';

/**
 * Two projects: unit tests run files in parallel; integration tests (`*.int.test.ts`: real servers,
 * TLS, DNS, fleets on loopback) run one file at a time, so their network time limits are not
 * measuring how busy two cores are with other test files.
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['server/**/*.test.ts', 'web/**/*.test.ts'],
          exclude: ['**/*.int.test.ts', '**/node_modules/**'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
          pool: 'forks',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['server/**/*.int.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 90_000,
          pool: 'forks',
          fileParallelism: false,
        },
      },
    ],
  },
});
