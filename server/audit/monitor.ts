import type { ScanResult } from '../scan/types';
import { auditProject } from './audit';

/**
 * The inside view in the monitor: audits a site's checkout and adds its findings to the scan, so they
 * are stored, diffed and alerted like the others. Grade and score stay the outside view's (SPEC.md:
 * audits have no grade). Only reachable scans get it: an error or unreachable scan records no findings.
 */
export async function addInsideView(result: ScanResult, sourcePath: string): Promise<ScanResult> {
  if (result.status !== 'ok') return result;
  try {
    const report = await auditProject(sourcePath);
    const count = report.findings.length;
    return {
      ...result,
      findings: [...result.findings, ...report.findings],
      checks: [
        ...result.checks,
        {
          id: 'audit',
          status: count > 0 ? 'fail' : 'pass',
          detail: `${report.filesScanned} files of ${sourcePath} audited in ${report.durationMs} ms: ${count} findings`,
        },
      ],
    };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return {
      ...result,
      checks: [
        ...result.checks,
        { id: 'audit', status: 'error', detail: `audit of ${sourcePath} failed: ${reason}` },
      ],
    };
  }
}
