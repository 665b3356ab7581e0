import { type ScanOptions, scanTarget } from '../scan/scan';
import { parseTarget } from '../scan/target';
import type { RunScan } from './scheduler';

/** The production scan function: the real engine with the server's DNS servers and trust store. */
export function createScanRunner(
  options: Pick<ScanOptions, 'dnsServers' | 'extraCaPems' | 'extraCaFile'>,
): RunScan {
  return (job, signal) =>
    scanTarget(parseTarget(job.host, { allowIpLiteral: job.allowPrivate }), {
      ...options,
      allowPrivate: job.allowPrivate,
      signal,
    });
}
