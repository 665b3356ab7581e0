import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { seedAdminAuthorization } from '../auth/testing';

/**
 * `vigil serve` as a real child process, for tests that kill it, starve its disk or lock its database:
 * what a deployment runs (bin/vigil.js, configuration by environment only), with its output kept.
 */

const VIGIL_BIN = fileURLToPath(new URL('../../bin/vigil.js', import.meta.url));
const LISTENING = /Vigil listening on (\S+)/;

export interface VigilProcessOptions {
  dataDir: string;
  /** The fixture fleet's DNS server and CA file; omitted, scans resolve nothing. */
  fleet?: { dnsServer: string; caCertFile: string };
  /** Run as this uid/gid instead of root (file permissions then apply). */
  user?: { uid: number; gid: number };
  env?: Record<string, string>;
  readyTimeoutMs?: number;
  /** An Authorization header already seeded in the data directory (a restart); by default one is made. */
  authorization?: string;
}

export interface VigilProcess {
  url: string;
  /** Authorization header value of an admin's write-scoped API token. */
  authorization: string;
  pid: number;
  /** stdout and stderr lines, in arrival order. */
  lines: string[];
  /** Set once the process has exited. */
  exit: { code: number | null; signal: NodeJS.Signals | null } | null;
  /** SIGKILL: no shutdown code runs, as in a power cut or the OOM killer. */
  kill(): Promise<void>;
  /** SIGTERM, the orderly stop; resolves with the exit code. */
  stop(): Promise<number | null>;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Spawns `vigil serve` on a free loopback port; `listening()` resolves once it listens, rejects if it exits first. */
export async function spawnVigilProcess(options: VigilProcessOptions): Promise<
  VigilProcess & {
    listening(timeoutMs?: number): Promise<VigilProcess>;
  }
> {
  const { fleet } = options;
  const authorization = options.authorization ?? (await seedAdminAuthorization(options.dataDir));
  const child = spawn(process.execPath, [VIGIL_BIN, 'serve'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.user ?? {}),
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      VIGIL_PORT: '0',
      VIGIL_HOST: '127.0.0.1',
      VIGIL_DATA_DIR: options.dataDir,
      VIGIL_TICK_CRON: '* * * * * *',
      ...(fleet
        ? {
            VIGIL_DNS_SERVERS: fleet.dnsServer,
            VIGIL_ALLOW_PRIVATE: '1',
            NODE_EXTRA_CA_CERTS: fleet.caCertFile,
          }
        : {}),
      ...options.env,
    },
  });
  const lines: string[] = [];
  const collect = (stream: NodeJS.ReadableStream) => {
    let rest = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      lines.push(...parts);
    });
  };
  collect(child.stdout!);
  collect(child.stderr!);

  const running: VigilProcess = {
    url: '',
    authorization,
    pid: child.pid ?? -1,
    lines,
    exit: null,
    async kill() {
      child.kill('SIGKILL');
      await exited(child);
    },
    async stop() {
      child.kill('SIGTERM');
      await exited(child);
      return child.exitCode;
    },
  };
  child.once('exit', (code, signal) => {
    running.exit = { code, signal };
  });

  const listening = (timeoutMs = options.readyTimeoutMs ?? 30_000) =>
    new Promise<VigilProcess>((resolve, reject) => {
      const deadline = Date.now() + timeoutMs;
      const poll = setInterval(() => {
        const url = lines.map((line) => LISTENING.exec(line)?.[1]).find(Boolean);
        if (url) {
          clearInterval(poll);
          running.url = url;
          resolve(running);
        } else if (running.exit || Date.now() > deadline) {
          clearInterval(poll);
          child.kill('SIGKILL');
          reject(
            new Error(
              `vigil serve did not start (${running.exit ? `exit ${running.exit.code}` : 'timeout'}):\n${lines.join('\n')}`,
            ),
          );
        }
      }, 50);
    });
  return Object.assign(running, { listening });
}

/** Starts `vigil serve` on a free loopback port; resolves once it listens, rejects if it exits first. */
export async function startVigilProcess(options: VigilProcessOptions): Promise<VigilProcess> {
  return (await spawnVigilProcess(options)).listening();
}

export interface ApiAnswer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: each test asserts the shape it expects.
  body: any;
  /** Milliseconds from request to full answer. */
  ms: number;
}

/** One request to a running server as its admin, JSON in and out, bounded in time. */
export async function api(
  vigil: Pick<VigilProcess, 'url' | 'authorization'>,
  path: string,
  init: { method?: string; json?: unknown; text?: string; timeoutMs?: number } = {},
): Promise<ApiAnswer> {
  const started = performance.now();
  const headers: Record<string, string> = { authorization: vigil.authorization };
  let body: string | undefined;
  if (init.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(init.json);
  } else if (init.text !== undefined) {
    headers['content-type'] = 'text/csv';
    body = init.text;
  }
  const response = await fetch(`${vigil.url}${path}`, {
    method: init.method ?? (body === undefined ? 'GET' : 'POST'),
    headers,
    ...(body === undefined ? {} : { body }),
    signal: AbortSignal.timeout(init.timeoutMs ?? 20_000),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text && response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text,
    ms: performance.now() - started,
  };
}

/** Polls until `probe` returns a value, or fails naming what it waited for. */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
