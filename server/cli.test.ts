import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { type CliIo, EXIT, runCli } from './cli';

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
