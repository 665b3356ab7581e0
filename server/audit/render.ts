import { CATALOGUE } from '../scan/catalogue';
import { SEVERITIES } from '../scan/types';
import { indent, painter, SEVERITY_STYLE } from '../terminal';
import type { AuditFinding, AuditReport } from './types';

function countBySeverity(findings: readonly AuditFinding[]): string {
  return SEVERITIES.map(
    (severity) => [severity, findings.filter((finding) => finding.severity === severity).length] as const,
  )
    .filter(([, count]) => count > 0)
    .map(([severity, count]) => `${count} ${severity}`)
    .join(', ');
}

/** The human-readable audit: findings grouped by severity, each with where, what, why and the fix. */
export function formatAuditReport(report: AuditReport, options: { color: boolean }): string {
  const paint = painter(options.color);
  const total = report.findings.length;
  const lines = [
    paint('bold', `Vigil audit of ${report.root}`),
    `${report.filesScanned} files in ${report.durationMs} ms · ${
      total === 0
        ? 'no findings'
        : `${total} finding${total === 1 ? '' : 's'}: ${countBySeverity(report.findings)}`
    }`,
  ];
  for (const severity of SEVERITIES) {
    const group = report.findings.filter((finding) => finding.severity === severity);
    if (group.length === 0) continue;
    lines.push('', paint(SEVERITY_STYLE[severity], `${severity.toUpperCase()} (${group.length})`));
    for (const finding of group) {
      const { file, line, column } = finding.location;
      lines.push(
        '',
        `  ${paint(SEVERITY_STYLE[severity], finding.id)}  ${paint('bold', finding.title)}`,
        `  ${paint('underline', `${file}:${line}:${column}`)}`,
        `    ${paint('dim', '│')} ${finding.excerpt}`,
        `  ${finding.detail}`,
        `  ${paint('dim', 'why:')} ${whyOf(finding)}`,
        `  ${paint('green', 'fix:')}`,
        indent(finding.fix, '    '),
      );
    }
  }
  if (report.notes.length > 0) {
    lines.push('', paint('bold', 'Notes'));
    for (const note of report.notes) {
      const where = note.file ? `${note.file}${note.line ? `:${note.line}` : ''}: ` : '';
      lines.push(`  - ${where}${note.message}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** The catalogue's reason, with the Django setting it maps to. */
function whyOf(finding: AuditFinding): string {
  const { why } = CATALOGUE[finding.id];
  return finding.django?.setting ? `${why} (Django: ${finding.django.setting})` : why;
}
