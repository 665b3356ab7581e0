import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTempDatabase, type TempDatabase } from '../db/temp-database';
import { type RunningServer, startServer } from '../serve';

/** `vigil serve` on a fresh database (of the test dialect): no default password, a one-time setup link instead. */

let database: TempDatabase;
const running: RunningServer[] = [];

beforeAll(async () => {
  database = await createTempDatabase();
});
afterAll(async () => {
  await Promise.all(running.map((server) => server.close()));
  await database.remove();
});

interface Started {
  server: RunningServer;
  url: string;
  logs: string[];
}

async function start(): Promise<Started> {
  const logs: string[] = [];
  const server = await startServer({
    port: 0,
    host: '127.0.0.1',
    storage: database.url,
    dashboardDir: null,
    tickCron: '0 0 0 1 1 *',
    shutdownGraceMs: 0,
    log: (line) => logs.push(line),
  });
  running.push(server);
  if (!server.url) throw new Error('vigil serve answered without an HTTP address');
  return { server, url: server.url, logs };
}

async function stop(server: RunningServer): Promise<void> {
  await server.close();
  running.splice(running.indexOf(server), 1);
}

function setup(url: string, token: string) {
  return fetch(`${url}/api/auth/setup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: url },
    body: JSON.stringify({ token, email: 'owner@example.com', password: 'granite-sparrow-ledger-64' }),
  });
}

function tokenOf(url: string | null): string {
  const token = url ? /#token=([\w-]{43})$/.exec(url)?.[1] : undefined;
  if (!token) throw new Error(`no setup token in ${url}`);
  return token;
}

describe('first run', () => {
  it('prints a one-time setup link, answers 401 until it is used, and forgets it once an admin exists', async () => {
    const first = await start();
    expect(first.server.setupUrl).toMatch(new RegExp(`^${first.url}/setup#token=[\\w-]{43}$`));
    expect(first.logs).toContain(`  ${first.server.setupUrl}`);
    expect((await fetch(`${first.url}/api/sites`)).status).toBe(401);
    expect((await fetch(`${first.url}/api/version`)).status).toBe(200);
    expect(await (await fetch(`${first.url}/api/auth/status`)).json()).toEqual({
      setupRequired: true,
    });
    const stale = tokenOf(first.server.setupUrl);
    await stop(first.server);

    // A restart before setup prints a new link; the old one no longer works.
    const second = await start();
    const fresh = tokenOf(second.server.setupUrl);
    expect(fresh).not.toBe(stale);
    expect((await setup(second.url, stale)).status).toBe(401);
    const created = await setup(second.url, fresh);
    expect(created.status).toBe(201);
    const cookie = created.headers
      .getSetCookie()
      .map((line) => line.split(';')[0])
      .join('; ');
    expect((await fetch(`${second.url}/api/sites`, { headers: { cookie } })).status).toBe(200);
    expect((await setup(second.url, fresh)).status).toBe(401);
    await stop(second.server);

    const third = await start();
    expect(third.server.setupUrl).toBeNull();
    expect(third.logs.join('\n')).not.toContain('setup#token=');
  });
});
