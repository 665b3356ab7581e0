import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type CliIo, EXIT, runCli } from './cli';

/** The SQLite data directory `vigil serve` and `vigil migrate` would use (env() reads it once). */
let dataDir: string;

beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'vigil-cli-'));
  vi.stubEnv('VIGIL_DATA_DIR', dataDir);
  vi.stubEnv('VIGIL_DATABASE_URL', '');
  // Were a check to let a bad value through, a server would start on loopback only.
  vi.stubEnv('VIGIL_HOST', '127.0.0.1');
  vi.stubEnv('VIGIL_PORT', '0');
});

afterAll(() => {
  vi.unstubAllEnvs();
  rmSync(dataDir, { recursive: true, force: true });
});

function captureIo(): CliIo & { out(): string; err(): string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const chunks = { out: [] as Buffer[], err: [] as Buffer[] };
  stdout.on('data', (chunk: Buffer) => chunks.out.push(chunk));
  stderr.on('data', (chunk: Buffer) => chunks.err.push(chunk));
  return {
    stdout,
    stderr,
    isTTY: false,
    out: () => Buffer.concat(chunks.out).toString(),
    err: () => Buffer.concat(chunks.err).toString(),
  };
}

describe('vigil CLI usage errors', () => {
  it('exits 2 with the usage when no command is given', async () => {
    const io = captureIo();
    expect(await runCli([], io)).toBe(EXIT.usage);
    expect(io.err()).toContain('vigil scan <target...>');
  });

  it('exits 2 on an unknown command', async () => {
    const io = captureIo();
    expect(await runCli(['scna', 'example.com'], io)).toBe(EXIT.usage);
    expect(io.err()).toContain('Unknown command "scna"');
  });

  it('exits 2 on a malformed target and scans nothing', async () => {
    const io = captureIo();
    expect(await runCli(['scan', 'good.example.com', 'bad host', '--json'], io)).toBe(EXIT.usage);
    expect(io.err()).toContain('Invalid target "bad host": contains white space');
    expect(io.out()).toBe('');
  });

  it('exits 2 on an IP literal unless private targets are allowed', async () => {
    const io = captureIo();
    expect(await runCli(['scan', '10.0.0.1'], io)).toBe(EXIT.usage);
    expect(io.err()).toContain('--allow-private');
  });

  it('exits 2 on an unknown flag and on a bad --fail-under grade', async () => {
    const io = captureIo();
    expect(await runCli(['scan', 'example.com', '--jsn'], io)).toBe(EXIT.usage);
    expect(io.err()).toContain("Unknown option '--jsn'");
    const second = captureIo();
    expect(await runCli(['scan', 'example.com', '--fail-under', 'Q'], second)).toBe(EXIT.usage);
    expect(second.err()).toContain('"Q" is not a grade');
  });

  it('exits 2 when scan has no target', async () => {
    const io = captureIo();
    expect(await runCli(['scan'], io)).toBe(EXIT.usage);
    expect(io.err()).toContain('at least one target');
  });
});

describe('vigil serve usage errors', () => {
  it('refuses split roles on a SQLite data directory, saying they need PostgreSQL, and opens nothing', async () => {
    for (const role of ['worker', 'web', 'scheduler']) {
      const io = captureIo();
      expect(await runCli(['serve', `--role=${role}`], io), role).toBe(EXIT.usage);
      expect(io.err()).toBe(
        `vigil: --role=${role} needs PostgreSQL (VIGIL_DATABASE_URL): one SQLite file is served by one process, --role=all\n`,
      );
    }
    expect(existsSync(join(dataDir, 'vigil.db'))).toBe(false);
    expect(readdirSync(dataDir)).toEqual([]);
  });

  it('exits 2 on an unknown role, naming the ones there are', async () => {
    const io = captureIo();
    expect(await runCli(['serve', '--role', 'cook'], io)).toBe(EXIT.usage);
    expect(io.err()).toBe('vigil: --role: "cook" is not one of all, web, scheduler, worker\n');
    const missing = captureIo();
    expect(await runCli(['serve', '--role'], missing)).toBe(EXIT.usage);
    expect(missing.err()).toContain("Option '--role <value>' argument missing");
  });

  // With --role=worker on SQLite, a value that slipped through would still be refused (for its storage)
  // instead of starting a server; the message tells the two apart.
  it('exits 2 on a region label that is not 1-30 of a-z 0-9 -', async () => {
    for (const region of ['EU', 'eu west', '-eu', 'x'.repeat(31), '']) {
      const io = captureIo();
      expect(await runCli(['serve', '--role=worker', `--region=${region}`], io), region).toBe(EXIT.usage);
      expect(io.err()).toBe(`vigil: --region: "${region}" must be 1-30 of a-z 0-9 -\n`);
    }
  });

  it('exits 2 on a concurrency that is not a whole number from 1 to 64', async () => {
    for (const concurrency of ['0', '65', '2.5', 'many', '-3', '']) {
      const io = captureIo();
      expect(await runCli(['serve', '--role=worker', `--concurrency=${concurrency}`], io), concurrency).toBe(
        EXIT.usage,
      );
      expect(io.err()).toBe(`vigil: --concurrency: "${concurrency}" must be a whole number from 1 to 64\n`);
    }
  });

  it('takes a good region and concurrency as far as the storage check', async () => {
    const io = captureIo();
    expect(await runCli(['serve', '--role=worker', '--region=eu-west-1', '--concurrency=64'], io)).toBe(
      EXIT.usage,
    );
    expect(io.err()).toContain('--role=worker needs PostgreSQL');
  });
});

describe('vigil migrate-to-postgres usage errors', () => {
  it('exits 2 without both a SQLite file and a PostgreSQL URL, or with more', async () => {
    for (const args of [[], ['data/vigil.db'], ['data/vigil.db', 'postgres://db/vigil', 'extra']]) {
      const io = captureIo();
      expect(await runCli(['migrate-to-postgres', ...args], io), args.join(' ')).toBe(EXIT.usage);
      expect(io.err()).toBe('vigil: vigil migrate-to-postgres needs <sqlite-file> <postgres-url>\n');
      expect(io.out()).toBe('');
    }
  });

  it('exits 2 when the target is not a postgres:// URL, and copies nothing', async () => {
    for (const target of ['mysql://db/vigil', join(dataDir, 'copy.db'), 'postgres:/db']) {
      const io = captureIo();
      expect(await runCli(['migrate-to-postgres', join(dataDir, 'vigil.db'), target], io), target).toBe(
        EXIT.usage,
      );
      expect(io.err()).toBe(`vigil: "${target}" is not a postgres:// URL\n`);
      expect(io.out()).toBe('');
    }
    expect(readdirSync(dataDir)).toEqual([]);
  });
});
