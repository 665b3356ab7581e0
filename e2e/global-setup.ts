import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const bin = (name: string) => fileURLToPath(new URL(`../node_modules/.bin/${name}`, import.meta.url));

const readySchema = z.object({
  url: z.string().url(),
  setupUrl: z.string().url(),
  control: z.string().url(),
  hosts: z.record(z.string(), z.string()),
});

function buildDashboard(): void {
  const result = spawnSync(bin('vite'), ['build', '--config', 'web/vite.config.ts', '--logLevel', 'error'], {
    cwd: repoRoot,
    stdio: 'inherit',
  });
  if (result.status !== 0) throw new Error(`vite build failed (exit ${result.status})`);
}

function waitForReady(child: ChildProcess, timeoutMs: number): Promise<z.infer<typeof readySchema>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`e2e harness not ready after ${timeoutMs} ms`)),
      timeoutMs,
    );
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => {
      clearTimeout(timer);
      try {
        resolve(readySchema.parse(JSON.parse(line)));
      } catch (error) {
        reject(new Error(`e2e harness said something unexpected: ${line} (${error})`));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`e2e harness exited early with code ${code}`));
    });
  });
}

/**
 * Builds the SPA, starts fleet + server (e2e/harness.ts), and hands their addresses to the workers via env:
 * also the first-run setup link (the first-run project uses it) and where that project leaves the admin's
 * signed-in browser state for every later journey.
 */
export default async function globalSetup(): Promise<() => Promise<void>> {
  if (process.env.VIGIL_E2E_SKIP_BUILD !== '1') buildDashboard();
  const child = spawn(bin('tsx'), ['e2e/harness.ts'], { cwd: repoRoot, stdio: ['pipe', 'pipe', 'inherit'] });
  const ready = await waitForReady(child, 60_000);
  process.env.VIGIL_E2E_URL = ready.url;
  process.env.VIGIL_E2E_SETUP_URL = ready.setupUrl;
  const stateDir = mkdtempSync(join(tmpdir(), 'vigil-e2e-state-'));
  process.env.VIGIL_E2E_ADMIN_STATE = join(stateDir, 'admin.json');
  process.env.VIGIL_E2E_CONTROL = ready.control;
  process.env.VIGIL_E2E_HOSTS = JSON.stringify(ready.hosts);
  return async () => {
    rmSync(stateDir, { recursive: true, force: true });
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timeout = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timeout);
  };
}
