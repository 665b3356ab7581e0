import { execFile } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createDockerignore, envAssignments, execForm, parseDockerfile, splitFlags } from './dockerfile';
import { startVigilProcess, type VigilProcess } from './testing/vigil-process';

/**
 * No Docker engine here, so this builds the runtime image's /app the way docker/Dockerfile does (its COPY
 * lines, the .dockerignore'd build context, production dependencies only), then runs the image's CMD from
 * WORKDIR as a non-root user with the image's ENV and a fresh data directory, probes it with the image's
 * HEALTHCHECK command, and stops it the way `docker stop` does.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NOBODY = { uid: 65534, gid: 65534 };
const IS_ROOT = process.getuid?.() === 0;
/** Docker's own HEALTHCHECK --timeout in the Dockerfile is 5 s. */
const PROBE_TIMEOUT_MS = 5000;

const stages = parseDockerfile(readFileSync(join(ROOT, 'docker/Dockerfile'), 'utf8'));
const runtime = stages.at(-1)!;
const instructions = (keyword: string) => runtime.instructions.filter((line) => line.keyword === keyword);
const ignored = createDockerignore(readFileSync(join(ROOT, '.dockerignore'), 'utf8'));

const lockfile = z
  .object({ packages: z.record(z.string(), z.object({ dev: z.boolean().optional() }).loose()) })
  .parse(JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')));

/** What `npm prune --omit=dev` leaves: every top-level package the lockfile does not mark dev-only. */
function copyProductionDependencies(target: string): void {
  for (const [path, entry] of Object.entries(lockfile.packages)) {
    if (!path.startsWith('node_modules/') || path.includes('/node_modules/', 1) || entry.dev) continue;
    const source = join(ROOT, path);
    // Optional packages for other platforms are in the lockfile but not installed.
    if (existsSync(source))
      cpSync(source, join(target, path.slice('node_modules/'.length)), { recursive: true });
  }
}

function copyFromContext(path: string, target: string): void {
  const source = join(ROOT, path);
  // web/dist is built inside the image; here it comes from `npm run build` (npm ci's prepare).
  if (path === 'web/dist') {
    if (!existsSync(join(source, 'index.html')))
      throw new Error('web/dist is missing: run `npm run build` first');
    cpSync(source, target, { recursive: true });
    return;
  }
  cpSync(source, target, {
    recursive: true,
    filter: (file) => !ignored(relative(ROOT, file).split('\\').join('/')),
  });
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

function runProbe(command: string[], env: Record<string, string>): Promise<number> {
  const [program, ...args] = command;
  expect(program).toBe('node');
  return new Promise((resolve) => {
    execFile(process.execPath, args, { env, timeout: PROBE_TIMEOUT_MS }, (error) =>
      resolve(error ? (typeof error.code === 'number' ? error.code : 99) : 0),
    );
  });
}

let imageRoot: string;
let appDir: string;
let dataDir: string;
let imageEnv: Record<string, string>;

beforeAll(() => {
  imageRoot = mkdtempSync(join(tmpdir(), 'vigil-image-'));
  chmodSync(imageRoot, 0o755);
  const workdir = instructions('WORKDIR').at(-1)?.args ?? '/';
  appDir = join(imageRoot, workdir);
  mkdirSync(appDir, { recursive: true });
  for (const copy of instructions('COPY').map((line) => splitFlags(line.args))) {
    const [source = '', destination = ''] = copy.rest.split(/\s+/);
    const path = relative(workdir, source);
    const target = join(appDir, destination);
    if (path === 'node_modules') copyProductionDependencies(target);
    else copyFromContext(path, target);
  }
  dataDir = join(imageRoot, 'data');
  mkdirSync(dataDir);
  if (IS_ROOT) chownSync(dataDir, NOBODY.uid, NOBODY.gid);
  imageEnv = Object.assign({}, ...instructions('ENV').map((line) => envAssignments(line.args)));
}, 60_000);

afterAll(() => {
  rmSync(imageRoot, { recursive: true, force: true });
});

describe('the runtime image, without Docker', () => {
  it('starts with its CMD as a non-root user, is healthy by its HEALTHCHECK, and stops on SIGTERM with exit 0', async () => {
    const command = execForm(instructions('CMD').at(-1)!.args)!;
    expect(command[0]).toBe('node');
    const filesBefore = listFiles(appDir);
    const env = {
      PATH: '/usr/local/bin:/usr/bin:/bin',
      HOME: appDir,
      ...imageEnv,
      VIGIL_DATA_DIR: dataDir,
      // Loopback and a free port instead of 0.0.0.0:8080; the probe below gets the port the same way.
      VIGIL_HOST: '127.0.0.1',
      VIGIL_PORT: '0',
    };
    let server: VigilProcess | null = await startVigilProcess({
      args: command.slice(1),
      cwd: appDir,
      env,
      ...(IS_ROOT ? { user: NOBODY } : {}),
      startTimeoutMs: 45_000,
    });
    try {
      const status = readFileSync(`/proc/${server.child.pid}/status`, 'utf8');
      expect(/^Uid:\s+(\d+)/m.exec(status)?.[1]).not.toBe('0');

      const port = new URL(server.url).port;
      const healthcheck = splitFlags(instructions('HEALTHCHECK').at(-1)!.args);
      const probe = execForm(healthcheck.rest.replace(/^CMD\s+/, ''))!;
      const probeEnv = { PATH: env.PATH, ...imageEnv, VIGIL_PORT: port };
      expect(await runProbe(probe, probeEnv)).toBe(0);

      const health = await fetch(`${server.url}/healthz`);
      expect(health.status).toBe(200);
      const version = (await (await fetch(`${server.url}/api/version`)).json()) as { schemaVersion: number };
      const migrations = readdirSync(join(ROOT, 'migrations/sqlite')).filter((name) => name.endsWith('.sql'));
      expect(version.schemaVersion).toBe(migrations.length);
      const dashboard = await fetch(`${server.url}/sites`);
      expect(dashboard.status).toBe(200);
      expect(await dashboard.text()).toContain('<div id="root"');

      const database = statSync(join(dataDir, 'vigil.db'));
      if (IS_ROOT) expect(database.uid).toBe(NOBODY.uid);

      const exit = await server.stop('SIGTERM');
      server = null;
      expect(exit).toMatchObject({ code: 0, signal: null });
      expect(exit.ms).toBeLessThan(5000);
      // It wrote nothing under /app: the compose file runs the image with a read-only root filesystem.
      expect(listFiles(appDir)).toEqual(filesBefore);
      // And the HEALTHCHECK fails once the server is gone, so it is not vacuous.
      expect(await runProbe(probe, probeEnv)).not.toBe(0);
    } finally {
      await server?.stop('SIGKILL');
    }
  });
});
