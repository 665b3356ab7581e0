import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PostgresServer } from './postgres';
import { createDatabase, startPostgres } from './postgres';

const harnessPath = fileURLToPath(new URL('./postgres.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('startPostgres', () => {
  let server: PostgresServer;

  beforeAll(async () => {
    server = await startPostgres();
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('serves SQL on loopback with the throwaway settings', async () => {
    expect(server.url).toBe(`postgres://postgres@127.0.0.1:${server.port}/postgres`);
    const [row] = await query<{ version: string; fsync: string; listen: string; connections: string }>(
      server.url,
      `select version() as version, current_setting('fsync') as fsync,
              current_setting('listen_addresses') as listen, current_setting('max_connections') as connections`,
    );
    expect(row?.version).toMatch(/^PostgreSQL \d+/);
    expect(row).toMatchObject({ fsync: 'off', listen: '127.0.0.1', connections: '300' });
  });

  it('copies a template database, and drop() removes the copy even with a session open in it', async () => {
    const template = await createDatabase(server.url);
    const seed = new pg.Client({ connectionString: template.url });
    await seed.connect();
    await seed.query('create table site (host text primary key)');
    await seed.query("insert into site values ('example.com')");
    await seed.end();

    const copy = await createDatabase(server.url, { template: template.name });
    expect(copy.name).not.toBe(template.name);
    expect(await query(copy.url, 'select host from site')).toEqual([{ host: 'example.com' }]);

    const lingering = new pg.Client({ connectionString: copy.url });
    lingering.on('error', () => {}); // drop() terminates this session on purpose
    await lingering.connect();
    await copy.drop();
    await template.drop();
    const names = await query<{ datname: string }>(server.url, 'select datname from pg_database');
    expect(names.map((row) => row.datname)).not.toContain(copy.name);
    expect(names.map((row) => row.datname)).not.toContain(template.name);
    await expect(lingering.query('select 1')).rejects.toThrow();
  });

  it('stop() closes the port and removes the data directory', async () => {
    expect(await acceptsConnections(server.port)).toBe(true);
    expect(existsSync(server.dataDir)).toBe(true);
    await server.stop();
    expect(await acceptsConnections(server.port)).toBe(false);
    expect(existsSync(server.dataDir)).toBe(false);
  });
});

/** Runs a process that starts a server and then dies without calling stop(). */
function startAndDie(death: 'uncaught exception' | 'SIGTERM'): Promise<{ port: number; dataDir: string }> {
  const script = `
    import { startPostgres } from ${JSON.stringify(harnessPath)};
    const server = await startPostgres();
    console.log(JSON.stringify({ port: server.port, dataDir: server.dataDir }));
    if (${JSON.stringify(death)} === 'uncaught exception') setTimeout(() => { throw new Error('test run crashed'); });
    else setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    let started: { port: number; dataDir: string } | undefined;
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      if (started || !stdout.includes('\n')) return;
      started = JSON.parse(stdout.split('\n')[0]!);
      if (death === 'SIGTERM') child.kill('SIGTERM');
    });
    child.once('exit', () =>
      started ? resolve(started) : reject(new Error(`child never started:\n${stderr}`)),
    );
  });
}

describe.concurrent('a process that dies without stop()', () => {
  it.each(['uncaught exception', 'SIGTERM'] as const)('takes its server with it (%s)', async (death) => {
    const { port, dataDir } = await startAndDie(death);
    expect(await acceptsConnections(port)).toBe(false);
    expect(existsSync(dataDir)).toBe(false);
  });
});
