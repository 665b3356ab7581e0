import { addInsideView } from '../audit/monitor';
import { type ScanOptions, scanTarget } from '../scan/scan';
import { parseTarget } from '../scan/target';
import type { RunScan } from './scheduler';

/** The production scan function: the real engine with the server's DNS servers and trust store, plus the inside view. */
export function createScanRunner(
  options: Pick<ScanOptions, 'dnsServers' | 'extraCaPems' | 'extraCaFile'>,
): RunScan {
  return async (job, signal) => {
    const result = await scanTarget(parseTarget(job.host, { allowIpLiteral: job.allowPrivate }), {
      ...options,
      allowPrivate: job.allowPrivate,
      signal,
    });
    return job.sourcePath ? addInsideView(result, job.sourcePath) : result;
  };
}
