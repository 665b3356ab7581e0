import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository's `vigil` binary: what `npm start` and the image run. */
export const VIGIL_BIN = fileURLToPath(new URL('../../../bin/vigil.js', import.meta.url));

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** From the stop signal to the exit. */
  ms: number;
}

export interface VigilProcess {
  child: ChildProcess;
  /** Where it listens, from its "Vigil listening on …" line. */
  url: string;
  /** Everything it printed so far. */
  output(): string;
  /** Sends the signal and waits for the exit; kills it after timeoutMs. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<Exit>;
}

export interface StartOptions {
  /** argv after the node binary, e.g. [VIGIL_BIN, 'serve']. */
  args: string[];
  env: Record<string, string | undefined>;
  cwd?: string;
  /** Run as this user and group (the test runs as root), like a container's USER. */
  user?: { uid: number; gid: number };
  startTimeoutMs?: number;
}

/** Starts `node … serve` in a child process and resolves once it listens; rejects with its output if it exits. */
export function startVigilProcess(options: StartOptions): Promise<VigilProcess> {
  const child = spawn(process.execPath, options.args, {
    env: options.env,
    ...(options.cwd ? { cwd: options.cwd } : {}),
    ...(options.user ? { uid: options.user.uid, gid: options.user.gid } : {}),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );

  const stop = async (signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000): Promise<Exit> => {
    const started = Date.now();
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const { code, signal: endSignal } = await exited;
    clearTimeout(killer);
    return { code, signal: endSignal, ms: Date.now() - started };
  };

  return new Promise((resolve, reject) => {
    const deadline = setTimeout(() => {
      void stop('SIGKILL');
      reject(new Error(`vigil did not start within ${options.startTimeoutMs ?? 30_000} ms:\n${output}`));
    }, options.startTimeoutMs ?? 30_000);
    const watch = setInterval(() => {
      const url = /Vigil listening on (http:\/\/\S+)/.exec(output)?.[1];
      if (!url) return;
      clearInterval(watch);
      clearTimeout(deadline);
      resolve({ child, url, output: () => output, stop });
    }, 25);
    void exited.then(({ code, signal }) => {
      clearInterval(watch);
      clearTimeout(deadline);
      reject(new Error(`vigil exited (${code ?? signal}) before listening:\n${output}`));
    });
  });
}

/** Runs one `vigil` CLI command to completion. */
export function runVigil(
  args: string[],
  env: Record<string, string | undefined>,
  timeoutMs = 60_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [VIGIL_BIN, ...args], { env, timeout: timeoutMs }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 99) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
