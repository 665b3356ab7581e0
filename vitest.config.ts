import { defineConfig } from 'vitest/config';

/**
 * Unit tests run files in parallel; integration tests (`*.int.test.ts`: real servers, TLS, DNS, fleets on
 * loopback) run one file at a time, so their network time limits are not measuring how busy two cores are
 * with other test files. The storage-backed suites (services, API, alerts, accounts, scheduler, operations)
 * run a second time on a real PostgreSQL server the `postgres` projects start (VIGIL_TEST_DIALECT=pg).
 */
const STORAGE_SUITES = [
  'server/db/**/*.test.ts',
  'server/services/**/*.test.ts',
  'server/routes/**/*.test.ts',
  'server/alerts/**/*.test.ts',
  'server/auth/**/*.test.ts',
  'server/ops/**/*.test.ts',
  'server/scheduler/**/*.test.ts',
  'server/faults/**/*.test.ts',
  'server/serve.test.ts',
];
const POSTGRES_SETUP = './server/testing/postgres-global-setup.ts';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['server/**/*.test.ts', 'web/**/*.test.ts'],
          exclude: ['**/*.int.test.ts', '**/*.pg.test.ts', '**/node_modules/**'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
          pool: 'forks',
        },
      },
      {
        test: {
          name: 'unit-postgres',
          include: [...STORAGE_SUITES, 'server/**/*.pg.test.ts'],
          exclude: ['**/*.int.test.ts', '**/node_modules/**'],
          env: { VIGIL_TEST_DIALECT: 'pg' },
          globalSetup: [POSTGRES_SETUP],
          testTimeout: 30_000,
          hookTimeout: 60_000,
          pool: 'forks',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['server/**/*.int.test.ts'],
          globalSetup: [POSTGRES_SETUP],
          testTimeout: 60_000,
          hookTimeout: 90_000,
          pool: 'forks',
          fileParallelism: false,
        },
      },
    ],
  },
});
