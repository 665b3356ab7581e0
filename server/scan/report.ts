import { indent, painter, SEVERITY_STYLE, type Style } from '../terminal';
import { type ScanResult, SEVERITIES } from './types';

function gradeStyle(grade: string): Style {
  if (grade.startsWith('A')) return ['bold', 'green'];
  if (grade.startsWith('B') || grade.startsWith('C')) return ['bold', 'yellow'];
  return ['bold', 'red'];
}

/** The human summary of one scan: grade, TLS, then findings grouped by severity with Django setting and fix. */
export function formatScanReport(result: ScanResult, options: { color: boolean }): string {
  const paint = painter(options.color);
  const lines: string[] = [];
  const heading = [paint('bold', result.target)];
  if (result.status === 'ok' && result.grade !== null) {
    heading.push(paint(gradeStyle(result.grade), `grade ${result.grade}`), `score ${result.score}`);
  } else {
    heading.push(paint(['bold', 'red'], result.status.toUpperCase()));
  }
  heading.push(`${result.durationMs} ms`);
  lines.push(heading.join('  ·  '));
  if (result.error) lines.push(`  ${paint('red', result.error)}`);
  if (result.addresses.length > 0) lines.push(`  addresses: ${result.addresses.join(', ')}`);
  if (result.status !== 'ok') return lines.join('\n');

  lines.push(
    result.django.detected
      ? `  Django: detected (${result.django.signals.join(', ')})`
      : '  Django: not detected (Django-only checks skipped)',
  );
  if (result.tls) {
    const expiry = result.tls.notAfter
      ? `certificate expires ${result.tls.notAfter.slice(0, 10)} (${result.tls.daysLeft} days)`
      : 'no certificate';
    lines.push(`  TLS: ${result.tls.protocols.join(', ') || 'none'}  ·  ${expiry}`);
  }
  for (const severity of SEVERITIES) {
    const findings = result.findings.filter((finding) => finding.severity === severity);
    if (findings.length === 0) continue;
    lines.push('', paint(SEVERITY_STYLE[severity], `${severity.toUpperCase()} (${findings.length})`));
    for (const finding of findings) {
      lines.push(
        `  ${paint(SEVERITY_STYLE[severity], '✗')} ${paint('bold', finding.title)}  ${paint('gray', finding.id)}`,
      );
      if (finding.evidence) lines.push(`      seen: ${finding.evidence}`);
      if (finding.django) {
        const mapping = [finding.django.setting, finding.django.checkId].filter(Boolean).join(' / ');
        lines.push(`      Django: ${mapping}`);
      }
      lines.push(`      fix:`, indent(finding.fix, '        '));
    }
  }
  if (result.findings.length === 0) lines.push('', paint('green', '  No findings.'));
  const counts = { pass: 0, fail: 0, skip: 0, error: 0 };
  for (const check of result.checks) counts[check.status]++;
  lines.push(
    '',
    `  checks: ${counts.pass} passed, ${counts.fail} failed, ${counts.skip} skipped, ${counts.error} errors`,
  );
  for (const check of result.checks.filter((item) => item.status === 'error')) {
    lines.push(`    ${paint('red', 'error')} ${check.id}: ${check.detail}`);
  }
  return lines.join('\n');
}
