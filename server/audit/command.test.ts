import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { AUDIT_EXIT, auditCommand } from './command';

const INSECURE = path.join(import.meta.dirname, 'testdata', 'insecure');
const SECURE = path.join(import.meta.dirname, 'testdata', 'secure');

async function run(args: string[], isTTY = false) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const chunks = { out: '', err: '' };
  stdout.on('data', (chunk: Buffer) => {
    chunks.out += chunk.toString();
  });
  stderr.on('data', (chunk: Buffer) => {
    chunks.err += chunk.toString();
  });
  const code = await auditCommand(args, { stdout, stderr, isTTY });
  return { code, stdout: chunks.out, stderr: chunks.err };
}

describe('vigil audit', () => {
  it('exits 0 with a readable, colourless report when not on a TTY', async () => {
    const result = await run([INSECURE]);
    expect(result.code).toBe(AUDIT_EXIT.ok);
    expect(result.stdout).not.toContain('\u001b[');
    expect(result.stdout).toContain(`Vigil audit of ${INSECURE}`);
    expect(result.stdout.indexOf('CRITICAL (1)')).toBeLessThan(result.stdout.indexOf('HIGH ('));
    expect(result.stdout.indexOf('HIGH (')).toBeLessThan(result.stdout.indexOf('MEDIUM ('));
    expect(result.stdout).toContain('shop/settings.py:6:1');
    expect(result.stdout).toContain("│ SECRET_KEY = '…'");
    expect(result.stdout).toContain('fix:\n    SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]');
    expect(result.stdout).not.toContain('9x$k2m');
    expect(result.stderr).toBe('');
  });

  it('colours the report on a TTY', async () => {
    const result = await run([INSECURE], true);
    expect(result.stdout).toContain('\u001b[31m');
  });

  it('exits 1 when a finding is at or above --fail-on, 0 when all are below', async () => {
    expect((await run([INSECURE, '--fail-on', 'critical'])).code).toBe(AUDIT_EXIT.findingAtOrAbove);
    expect((await run([SECURE, '--fail-on', 'low'])).code).toBe(AUDIT_EXIT.ok);
    expect((await run([path.join(INSECURE, 'orders', 'templates'), '--fail-on', 'HIGH'])).code).toBe(
      AUDIT_EXIT.ok,
    );
    expect((await run([path.join(INSECURE, 'orders', 'templates'), '--fail-on', 'medium'])).code).toBe(
      AUDIT_EXIT.findingAtOrAbove,
    );
  });

  it('prints exactly one JSON document with --json', async () => {
    const result = await run([SECURE, '--json']);
    expect(result.code).toBe(AUDIT_EXIT.ok);
    const report = JSON.parse(result.stdout);
    expect(Object.keys(report)).toEqual([
      'root',
      'auditedAt',
      'durationMs',
      'filesScanned',
      'findings',
      'notes',
    ]);
    expect(report).toMatchObject({ root: SECURE, filesScanned: 8, findings: [], notes: [] });
    expect(Number.isNaN(Date.parse(report.auditedAt))).toBe(false);
  });

  it('prints SARIF with --sarif and audits tests with --include-tests', async () => {
    const plain = JSON.parse((await run([INSECURE, '--sarif'])).stdout);
    const withTests = JSON.parse((await run([INSECURE, '--sarif', '--include-tests'])).stdout);
    expect(plain.version).toBe('2.1.0');
    const uris = (log: {
      runs: Array<{
        results: Array<{ locations: Array<{ physicalLocation: { artifactLocation: { uri: string } } }> }>;
      }>;
    }) => log.runs[0]!.results.map((result) => result.locations[0]!.physicalLocation.artifactLocation.uri);
    expect(uris(plain)).not.toContain('tests/test_views.py');
    expect(uris(withTests)).toContain('tests/test_views.py');
    expect(uris(withTests)).toContain('orders/tests.py');
  });

  it('exits 2 with a clear message on bad usage or a bad path', async () => {
    const cases: Array<[string[], string]> = [
      [[], 'needs the path of a Django project'],
      [[INSECURE, SECURE], 'takes one path'],
      [[INSECURE, '--json', '--sarif'], '--json and --sarif cannot be combined'],
      [[INSECURE, '--fail-on', 'severe'], '--fail-on: "severe" is not a severity'],
      [[INSECURE, '--colour'], "Unknown option '--colour'"],
      [[path.join(INSECURE, 'does-not-exist')], 'no such file or directory'],
      [[path.join(INSECURE, 'manage.py')], 'not a directory'],
    ];
    for (const [args, message] of cases) {
      const result = await run(args);
      expect(result.code, args.join(' ')).toBe(AUDIT_EXIT.usage);
      expect(result.stderr).toContain(message);
      expect(result.stdout).toBe('');
    }
  });

  it('prints usage with --help', async () => {
    const result = await run(['--help']);
    expect(result.code).toBe(AUDIT_EXIT.ok);
    expect(result.stdout).toContain('Usage: vigil audit <path>');
  });
});
