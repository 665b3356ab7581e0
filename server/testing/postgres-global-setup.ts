import { startPostgres, TEST_POSTGRES_URL_VARIABLE } from './postgres';

/**
 * vitest globalSetup: one PostgreSQL server for the whole run, its URL passed to the test workers
 * through the environment they inherit. A URL already set means a server is provided; start none.
 */
export default async function setup(): Promise<() => Promise<void>> {
  if (process.env[TEST_POSTGRES_URL_VARIABLE]) return async () => {};
  const startedAt = performance.now();
  const server = await startPostgres();
  process.env[TEST_POSTGRES_URL_VARIABLE] = server.url;
  console.log(
    `PostgreSQL for tests at ${server.url} (ready in ${Math.round(performance.now() - startedAt)} ms)`,
  );
  return async () => {
    delete process.env[TEST_POSTGRES_URL_VARIABLE];
    await server.stop();
  };
}
