import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, readdirSync, readFileSync, rmSync, statfsSync } from 'node:fs';
import { appendFile, chown, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const execFileAsync = promisify(execFile);

/** The variable the vitest global setup fills with the shared server's URL (workers inherit it). */
export const TEST_POSTGRES_URL_VARIABLE = 'VIGIL_TEST_POSTGRES_URL';

const DEBIAN_POSTGRES_ROOT = '/usr/lib/postgresql';
/** initdb refuses to run as root; Debian's package creates this user. */
const SERVER_OWNER = 'postgres';
const PORT_ATTEMPTS = 5;
const START_TIMEOUT_SECONDS = 60;
const LOG_TAIL_LINES = 40;
const SHARED_MEMORY_DIR = '/dev/shm';
/** Below this much free tmpfs (Docker gives /dev/shm 64 MB by default) the data goes to disk instead. */
const SHARED_MEMORY_MIN_FREE_BYTES = 2 * 1024 ** 3;

export interface PostgresBinaries {
  binDir: string;
  initdb: string;
  pgCtl: string;
}

export interface StartPostgresOptions {
  log?: (line: string) => void;
  /** Where the server's temporary directory goes; default /dev/shm when it has room, else the OS temp dir. */
  parentDir?: string;
}

export interface PostgresServer {
  /** `postgres://postgres@127.0.0.1:PORT/postgres`: trust auth, superuser. */
  url: string;
  port: number;
  dataDir: string;
  /** Stops the server and removes its files; safe to call more than once. */
  stop(): Promise<void>;
}

export interface TestDatabase {
  url: string;
  name: string;
  /** Disconnects everyone still connected and drops the database; safe to call more than once. */
  drop(): Promise<void>;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function binariesIn(binDir: string): PostgresBinaries | undefined {
  const initdb = path.join(binDir, 'initdb');
  const pgCtl = path.join(binDir, 'pg_ctl');
  return isExecutable(initdb) && isExecutable(pgCtl) ? { binDir, initdb, pgCtl } : undefined;
}

function debianVersionsNewestFirst(): string[] {
  try {
    return readdirSync(DEBIAN_POSTGRES_ROOT)
      .filter((name) => /^\d+(\.\d+)?$/.test(name))
      .sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a));
  } catch {
    return [];
  }
}

/** Debian keeps initdb/pg_ctl off PATH in /usr/lib/postgresql/<version>/bin, so look there first. */
export function findPostgresBinaries(): PostgresBinaries {
  const candidates = [
    ...debianVersionsNewestFirst().map((version) => path.join(DEBIAN_POSTGRES_ROOT, version, 'bin')),
    ...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean),
  ];
  for (const binDir of candidates) {
    const binaries = binariesIn(binDir);
    if (binaries) return binaries;
  }
  throw new Error(
    `PostgreSQL server binaries (initdb, pg_ctl) not found in ${DEBIAN_POSTGRES_ROOT}/*/bin or on PATH; ` +
      'install them with `apt-get install postgresql`',
  );
}

const runningAsRoot = process.getuid?.() === 0;

async function serverOwnerIds(): Promise<{ uid: number; gid: number }> {
  try {
    const [uid, gid] = await Promise.all(
      ['-u', '-g'].map(async (flag) =>
        Number((await execFileAsync('id', [flag, SERVER_OWNER])).stdout.trim()),
      ),
    );
    return { uid: uid!, gid: gid! };
  } catch {
    throw new Error(
      `running as root, and initdb refuses root: the \`${SERVER_OWNER}\` system user is missing ` +
        '(`apt-get install postgresql` creates it)',
    );
  }
}

/** initdb and CREATE DATABASE spend their time creating files, which tmpfs makes about twice as fast. */
function defaultParentDir(): string {
  try {
    const { bavail, bsize } = statfsSync(SHARED_MEMORY_DIR);
    if (bavail * bsize >= SHARED_MEMORY_MIN_FREE_BYTES) return SHARED_MEMORY_DIR;
  } catch {}
  return tmpdir();
}

/** Settings for a disposable server: loopback only, durability traded for speed. */
function throwawayServerSettings(dataDir: string): Record<string, string> {
  return {
    listen_addresses: "'127.0.0.1'",
    unix_socket_directories: `'${dataDir.replaceAll("'", "''")}'`,
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    max_connections: '300',
    shared_buffers: '128MB',
  };
}

function configLines(settings: Record<string, string>): string {
  const lines = Object.entries(settings).map(([name, value]) => `${name} = ${value}`);
  return `\n# throwaway test server (server/testing/postgres.ts)\n${lines.join('\n')}\n`;
}

/** A TCP port on 127.0.0.1 that nothing listens on (it was free a moment ago). */
export async function freeLoopbackPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', resolve);
  });
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

async function logTail(logFile: string): Promise<string> {
  const text = await readFile(logFile, 'utf8').catch(() => '(no log written)');
  return text.trimEnd().split('\n').slice(-LOG_TAIL_LINES).join('\n');
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message.trim() : String(error);
}

/** The postmaster's pid (first line of postmaster.pid), while that file exists. */
function postmasterPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A postmaster that has exited stays a zombie until init reaps it, which some container inits do slowly.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.charAt(stat.lastIndexOf(')') + 2) !== 'Z';
  } catch {
    return true;
  }
}

function signalQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {}
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * A server this process is starting or running. pg_ctl detaches the postmaster, so a test run that
 * dies without calling stop() would leave it behind; the exit and signal handlers clean these up.
 */
interface TrackedServer {
  rootDir: string;
  dataDir: string;
  /** Process group of the initdb or pg_ctl run in progress: killed whole if the process exits mid-step. */
  stepGroup?: number | undefined;
}

const trackedServers = new Set<TrackedServer>();
const EXIT_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function killTrackedServersNow(): void {
  const servers = [...trackedServers];
  for (const { stepGroup } of servers) if (stepGroup !== undefined) signalQuietly(-stepGroup, 'SIGKILL');
  const postmasters = servers.flatMap((server) => postmasterPid(server.dataDir) ?? []);
  // SIGQUIT is an immediate shutdown: the backends exit and the postmaster follows.
  for (const pid of postmasters) signalQuietly(pid, 'SIGQUIT');
  for (const pid of postmasters) {
    for (let waited = 0; waited < 5_000 && isAlive(pid); waited += 20) sleepSync(20);
  }
  for (const server of servers) {
    try {
      rmSync(server.rootDir, { recursive: true, force: true, maxRetries: 5 });
    } catch {}
  }
  trackedServers.clear();
  unwatchProcess();
}

function onExitSignal(signal: NodeJS.Signals): void {
  killTrackedServersNow();
  // Keep the signal's default effect (terminate) unless someone else handles it.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function unwatchProcess(): void {
  process.off('exit', killTrackedServersNow);
  for (const signal of EXIT_SIGNALS) process.off(signal, onExitSignal);
}

function track(server: TrackedServer): void {
  if (trackedServers.size === 0) {
    process.on('exit', killTrackedServersNow);
    for (const signal of EXIT_SIGNALS) process.on(signal, onExitSignal);
  }
  trackedServers.add(server);
}

function untrack(server: TrackedServer): void {
  trackedServers.delete(server);
  if (trackedServers.size === 0) unwatchProcess();
}

/** Runs a server program as the user that owns the data directory, in a process group of its own. */
function runAsServerOwner(server: TrackedServer, program: string, args: string[]): Promise<void> {
  const [file, fileArgs] = runningAsRoot
    ? ['runuser', ['-u', SERVER_OWNER, '--', program, ...args]]
    : [program, args];
  return new Promise((resolve, reject) => {
    const step = spawn(file, fileArgs, {
      cwd: server.rootDir,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server.stepGroup = step.pid;
    let output = '';
    const collect = (chunk: Buffer) => {
      output += chunk;
    };
    step.stdout.on('data', collect);
    step.stderr.on('data', collect);
    step.once('error', (error) => {
      server.stepGroup = undefined;
      reject(error);
    });
    step.once('close', (code, signal) => {
      server.stepGroup = undefined;
      if (code === 0) resolve();
      else
        reject(
          new Error(
            `${path.basename(program)} ${args.join(' ')} failed (${signal ?? `exit ${code}`}): ${output.trim()}`,
          ),
        );
    });
  });
}

/** Stops whatever runs in the server's data directory, harder each time the gentler way fails. */
async function shutDown(pgCtl: string, server: TrackedServer): Promise<void> {
  for (const mode of ['fast', 'immediate']) {
    try {
      await runAsServerOwner(server, pgCtl, ['stop', '-D', server.dataDir, '-m', mode, '-w', '-t', '30']);
      return;
    } catch {}
  }
  const pid = postmasterPid(server.dataDir);
  if (pid !== undefined && isAlive(pid)) signalQuietly(pid, 'SIGKILL');
}

async function startOnFreePort(pgCtl: string, server: TrackedServer, logFile: string): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const port = await freeLoopbackPort();
    await rm(logFile, { force: true });
    const startArgs = [
      'start',
      '-D',
      server.dataDir,
      '-l',
      logFile,
      '-w',
      '-t',
      String(START_TIMEOUT_SECONDS),
    ];
    try {
      await runAsServerOwner(server, pgCtl, [...startArgs, '-o', `-p ${port}`]);
      return port;
    } catch (error) {
      const tail = await logTail(logFile);
      // Another process may take the port between our probe closing it and postgres binding it.
      if (attempt < PORT_ATTEMPTS && /could not bind|address already in use/i.test(tail)) continue;
      throw new Error(
        `pg_ctl start failed on 127.0.0.1:${port}: ${errorText(error)}\n--- server log (last lines) ---\n${tail}`,
      );
    }
  }
}

/**
 * Starts a private PostgreSQL server on 127.0.0.1 in a fresh temporary directory, built for tests:
 * trust auth, no fsync. Stop it with stop(); if the process exits first, it is killed on the way out.
 */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresServer> {
  const log = options.log ?? (() => {});
  const binaries = findPostgresBinaries();
  const rootDir = await mkdtemp(path.join(options.parentDir ?? defaultParentDir(), 'vigil-postgres-'));
  const server: TrackedServer = { rootDir, dataDir: path.join(rootDir, 'data') };
  const { dataDir } = server;
  const logFile = path.join(rootDir, 'server.log');
  const removeFiles = () => rm(rootDir, { recursive: true, force: true, maxRetries: 3 });
  track(server);
  try {
    await mkdir(dataDir, { mode: 0o700 });
    if (runningAsRoot) {
      const { uid, gid } = await serverOwnerIds();
      await chown(rootDir, uid, gid);
      await chown(dataDir, uid, gid);
    }

    const initdbStarted = performance.now();
    const initdbArgs = [
      '-D',
      dataDir,
      '-A',
      'trust',
      '-U',
      'postgres',
      '--no-sync',
      '-E',
      'UTF8',
      '--locale=C',
    ];
    await runAsServerOwner(server, binaries.initdb, initdbArgs);
    await appendFile(path.join(dataDir, 'postgresql.conf'), configLines(throwawayServerSettings(dataDir)));
    log(`initdb (${binaries.binDir}) took ${Math.round(performance.now() - initdbStarted)} ms`);

    const startStarted = performance.now();
    const port = await startOnFreePort(binaries.pgCtl, server, logFile);
    log(`listening on 127.0.0.1:${port} after ${Math.round(performance.now() - startStarted)} ms`);

    let stopping: Promise<void> | undefined;
    const stop = () => {
      stopping ??= (async () => {
        await shutDown(binaries.pgCtl, server);
        untrack(server);
        await removeFiles();
      })();
      return stopping;
    };
    return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, port, dataDir, stop };
  } catch (error) {
    await shutDown(binaries.pgCtl, server);
    untrack(server);
    await removeFiles();
    throw error;
  }
}

async function withClient<T>(connectionString: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

function databaseUrl(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${encodeURIComponent(name)}`;
  return url.toString();
}

/**
 * Creates a database on the server at serverUrl (connecting to its database, normally `postgres`).
 * A template must have no open connections: PostgreSQL waits up to 5 s for them, then fails.
 */
export async function createDatabase(
  serverUrl: string,
  options: { template?: string; name?: string } = {},
): Promise<TestDatabase> {
  const name = options.name ?? `vigil_test_${randomBytes(8).toString('hex')}`;
  await withClient(serverUrl, async (client) => {
    const template =
      options.template === undefined ? '' : ` TEMPLATE ${client.escapeIdentifier(options.template)}`;
    await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}${template}`);
  });
  const drop = () =>
    withClient(serverUrl, async (client) => {
      // FORCE terminates the sessions still connected (pg_terminate_backend) before dropping.
      await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)} WITH (FORCE)`);
    });
  return { url: databaseUrl(serverUrl, name), name, drop };
}

/** The shared test server's URL, set by postgres-global-setup.ts. */
export function testPostgresUrl(): string {
  const url = process.env[TEST_POSTGRES_URL_VARIABLE];
  if (!url) {
    throw new Error(
      `${TEST_POSTGRES_URL_VARIABLE} is not set: run the tests through vitest (its global setup starts PostgreSQL) ` +
        'or point it at a server',
    );
  }
  return url;
}
