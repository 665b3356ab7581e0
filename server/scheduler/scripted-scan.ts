import { makeFinding } from '../scan/catalogue';
import { gradeFor, scoreFindings } from '../scan/grade';
import type { BonusId, Finding, ScanResult } from '../scan/types';
import type { RunScan } from './scheduler';

/** A real ScanResult for the given findings, graded by the real table: for tests and benchmarks, no network. */
export function scanResultFor(
  host: string,
  findings: readonly Finding[],
  options: { scannedAt?: Date; bonuses?: BonusId[]; durationMs?: number } = {},
): ScanResult {
  const score = scoreFindings(findings, options.bonuses ?? []);
  return {
    target: host,
    host,
    addresses: ['203.0.113.7'],
    scannedAt: (options.scannedAt ?? new Date()).toISOString(),
    durationMs: options.durationMs ?? 120,
    status: 'ok',
    grade: gradeFor(score, findings),
    score,
    django: { detected: true, signals: ['cookie:csrftoken'] },
    tls: {
      protocols: ['TLSv1.2', 'TLSv1.3'],
      notAfter: '2030-01-01T00:00:00.000Z',
      issuer: 'CN=Test CA',
      daysLeft: 1000,
    },
    findings: [...findings],
    checks: [
      {
        id: 'hsts',
        status: findings.some((f) => f.id.startsWith('hsts.')) ? 'fail' : 'pass',
        detail: 'checked',
      },
    ],
  };
}

export const TYPICAL_FINDINGS: readonly Finding[] = [
  makeFinding('hsts.missing', { evidence: 'no Strict-Transport-Security header on https://site/' }),
  makeFinding('csp.missing', { evidence: 'no Content-Security-Policy header' }),
  makeFinding('referrer-policy.missing', { evidence: 'no Referrer-Policy header' }),
];

/**
 * A scan function whose findings per host the test sets and changes at will; it records every call so tests
 * can see how many scans ran at once. `gate` holds scans until released.
 */
export function createScriptedScan(initial: Record<string, readonly Finding[]> = {}) {
  const findingsByHost = new Map<string, readonly Finding[]>(Object.entries(initial));
  const calls: { host: string; allowPrivate: boolean }[] = [];
  let running = 0;
  let maxRunning = 0;
  let gate: Promise<void> | null = null;
  let open: (() => void) | null = null;

  const runScan: RunScan = async (job, signal) => {
    calls.push({ host: job.host, allowPrivate: job.allowPrivate });
    running += 1;
    maxRunning = Math.max(maxRunning, running);
    try {
      if (gate) {
        const aborted = new Promise<never>((_, reject) =>
          signal.addEventListener('abort', () => reject(signal.reason), { once: true }),
        );
        await Promise.race([gate, aborted]);
      }
      if (findingsByHost.get(job.host) === undefined && job.host.startsWith('broken.'))
        throw new Error(`scan engine crashed on ${job.host}`);
      return scanResultFor(job.host, findingsByHost.get(job.host) ?? TYPICAL_FINDINGS);
    } finally {
      running -= 1;
    }
  };

  return {
    runScan,
    calls,
    get maxRunning() {
      return maxRunning;
    },
    setFindings(host: string, findings: readonly Finding[]) {
      findingsByHost.set(host, findings);
    },
    /** Scans started from now on wait until release(). */
    hold() {
      gate = new Promise((resolve) => {
        open = resolve;
      });
    },
    release() {
      open?.();
      gate = null;
      open = null;
    },
  };
}
