import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fleet, SITE_PRESETS, startFleet } from './testing/fleet';

/** The real `vigil` binary in a child process, trusting the fleet's CA through NODE_EXTRA_CA_CERTS. */
const VIGIL = fileURLToPath(new URL('../bin/vigil.js', import.meta.url));

let fleet: Fleet;

beforeAll(async () => {
  fleet = await startFleet({ hardened: SITE_PRESETS.hardened, debug: SITE_PRESETS.debug });
});

afterAll(() => fleet?.close());

function vigil(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [VIGIL, ...args],
      {
        env: { ...process.env, NODE_EXTRA_CA_CERTS: fleet.caCertFile, VIGIL_DNS_SERVERS: '', ...env },
        timeout: 60_000,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 99) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('vigil scan (the binary)', () => {
  it('prints exactly one JSON document and exits 0', async () => {
    const result = await vigil([
      'scan',
      fleet.host('hardened'),
      '--json',
      '--dns',
      fleet.dnsServer,
      '--allow-private',
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const scan = JSON.parse(result.stdout);
    expect(scan).toMatchObject({ host: fleet.host('hardened'), status: 'ok', grade: 'A+', findings: [] });
    expect(scan.addresses).toEqual([fleet.address('hardened')]);
  });

  it('prints an array for several targets and exits 1 below --fail-under', async () => {
    const result = await vigil([
      'scan',
      fleet.host('hardened'),
      fleet.host('debug'),
      '--json',
      '--dns',
      fleet.dnsServer,
      '--allow-private',
      '--fail-under',
      'B',
    ]);
    expect(result.code).toBe(1);
    const scans = JSON.parse(result.stdout);
    expect(scans.map((scan: { grade: string }) => scan.grade)).toEqual(['A+', 'F']);
  });

  it('prints a readable summary with the finding, its Django setting and its fix', async () => {
    const result = await vigil(['scan', fleet.host('debug'), '--dns', fleet.dnsServer, '--allow-private']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('grade F');
    expect(result.stdout).toContain('CRITICAL (1)');
    expect(result.stdout).toContain('Django DEBUG is on');
    expect(result.stdout).toContain('Django: DEBUG / security.W018');
    expect(result.stdout).toContain('DEBUG = False');
    expect(result.stdout).not.toContain('\u001b['); // no colour when stdout is not a terminal
  });

  it('exits 3 when the scan cannot run (private address not allowed)', async () => {
    const result = await vigil(['scan', fleet.host('hardened'), '--json', '--dns', fleet.dnsServer]);
    expect(result.code).toBe(3);
    expect(JSON.parse(result.stdout)).toMatchObject({
      status: 'error',
      error: expect.stringContaining('--allow-private'),
    });
  });

  it('exits 2 on a bad target', async () => {
    const result = await vigil(['scan', 'not a host']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Invalid target');
  });
});

describe('vigil serve (the binary)', () => {
  it('exits 2 when asked for a worker over a SQLite data directory, and opens nothing', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'vigil-cli-serve-'));
    try {
      const result = await vigil(['serve', '--role=worker'], {
        VIGIL_DATA_DIR: dataDir,
        VIGIL_DATABASE_URL: '',
        VIGIL_HOST: '127.0.0.1',
        VIGIL_PORT: '0',
      });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('--role=worker needs PostgreSQL (VIGIL_DATABASE_URL)');
      expect(readdirSync(dataDir)).toEqual([]);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
