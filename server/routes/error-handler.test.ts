import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { databaseFile } from '../db';
import { testDialect } from '../db/temp-database';
import { createTestApp, jsonRequest, readJson } from './test-app';

let t: Awaited<ReturnType<typeof createTestApp>>;
beforeEach(async () => {
  t = await createTestApp();
});
afterEach(async () => {
  await t.close();
});

describe('storage faults through the API', () => {
  // Another process holding the SQLite file's write lock; PostgreSQL's lock fault (SQLSTATE 55P03) is
  // mapped and tested in server/db/faults.test.ts.
  it.skipIf(testDialect() === 'pg')(
    'answers a write refused by a lock with 503 in the one error shape, naming the lock',
    async () => {
      // A credential used a moment ago is not written again, so reads need no write.
      expect((await t.app.request('/api/sites')).status).toBe(200);
      const other = new BetterSqlite3(databaseFile(t.dataDir));
      other.exec('BEGIN IMMEDIATE');
      try {
        const response = await t.app.request('/api/sites', jsonRequest('POST', { host: 'shop.example.com' }));
        expect(response.status).toBe(503);
        expect(response.headers.get('retry-after')).toBe('5');
        expect(await readJson(response)).toEqual({
          error: {
            code: 'unavailable',
            message: 'Database unavailable: the database is locked by another process',
          },
        });
        // Reads go on while another process writes.
        expect((await t.app.request('/api/sites')).status).toBe(200);
      } finally {
        other.close();
      }
      expect(
        (await t.app.request('/api/sites', jsonRequest('POST', { host: 'shop.example.com' }))).status,
      ).toBe(201);
    },
  );

  it('answers any request on a closed database with 503, not 500', async () => {
    await t.closeDatabase();
    const response = await t.app.request('/api/overview');
    expect(response.status).toBe(503);
    expect(await readJson(response)).toEqual({
      error: { code: 'unavailable', message: 'Database unavailable: the database is closed' },
    });
  });
});
