import { pathToFileURL } from 'node:url';
import { CATALOGUE } from '../scan/catalogue';
import type { Severity } from '../scan/types';
import type { AuditFindingId, AuditReport } from './types';

export const SARIF_SCHEMA =
  'https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json';

export type SarifLevel = 'error' | 'warning' | 'note';

export const SARIF_LEVEL: Record<Severity, SarifLevel> = {
  critical: 'error',
  high: 'error',
  medium: 'warning',
  low: 'note',
  info: 'note',
};

/** GitHub code scanning reads `security-severity` (0–10) to rank alerts as critical/high/medium/low. */
export const SECURITY_SEVERITY: Record<Severity, string> = {
  critical: '9.5',
  high: '8.0',
  medium: '5.0',
  low: '3.0',
  info: '0.0',
};

const BASE_ID = '%SRCROOT%';

interface SarifMessage {
  text: string;
  markdown?: string;
}

export interface SarifRule {
  id: string;
  name: string;
  shortDescription: SarifMessage;
  fullDescription: SarifMessage;
  help: SarifMessage;
  defaultConfiguration: { level: SarifLevel };
  properties: { 'security-severity': string; tags: string[]; precision: 'high' | 'medium' | 'low' };
}

export interface SarifResult {
  ruleId: string;
  ruleIndex: number;
  level: SarifLevel;
  message: SarifMessage;
  locations: Array<{
    physicalLocation: {
      artifactLocation: { uri: string; uriBaseId: string };
      region: { startLine: number; startColumn: number; snippet: { text: string } };
    };
  }>;
}

export interface SarifLog {
  $schema: string;
  version: '2.1.0';
  runs: Array<{
    tool: { driver: { name: string; rules: SarifRule[] } };
    originalUriBaseIds: Record<string, { uri: string }>;
    invocations: Array<{
      executionSuccessful: boolean;
      toolExecutionNotifications: Array<{ level: SarifLevel; message: SarifMessage }>;
    }>;
    results: SarifResult[];
  }>;
}

/** `code.raw-sql` → `CodeRawSql`: SARIF rule names are identifiers, ids keep the catalogue's dots. */
function ruleName(id: string): string {
  return id
    .split(/[.-]/)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

/** `code.idor` is a review hint; the other checks are exact patterns. */
function precisionOf(id: AuditFindingId): SarifRule['properties']['precision'] {
  return id === 'code.idor' ? 'low' : 'high';
}

function ruleFor(id: AuditFindingId): SarifRule {
  const entry = CATALOGUE[id];
  const setting = entry.django?.setting ? `\n\nDjango: ${entry.django.setting}` : '';
  return {
    id,
    name: ruleName(id),
    shortDescription: { text: entry.title },
    fullDescription: { text: entry.why },
    help: {
      text: `${entry.why}\n\nFix:\n${entry.fix}${setting}`,
      markdown: `${entry.why}\n\n**Fix**\n\n\`\`\`python\n${entry.fix}\n\`\`\`${setting}`,
    },
    defaultConfiguration: { level: SARIF_LEVEL[entry.severity] },
    properties: {
      'security-severity': SECURITY_SEVERITY[entry.severity],
      tags: ['security', id.split('.')[0] ?? 'code'],
      precision: precisionOf(id),
    },
  };
}

function uriOf(relativePath: string): string {
  return relativePath.split('/').map(encodeURIComponent).join('/');
}

/** The report as SARIF 2.1.0, for GitHub code scanning and IDEs. */
export function toSarif(report: AuditReport): SarifLog {
  const ids = [...new Set(report.findings.map((finding) => finding.id))].sort();
  const ruleIndex = new Map(ids.map((id, index) => [id, index]));
  const rootUri = pathToFileURL(report.root).href;
  return {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'vigil', rules: ids.map(ruleFor) } },
        originalUriBaseIds: { [BASE_ID]: { uri: rootUri.endsWith('/') ? rootUri : `${rootUri}/` } },
        invocations: [
          {
            executionSuccessful: true,
            toolExecutionNotifications: report.notes.map((note) => ({
              level: note.kind === 'suppression' ? 'warning' : 'note',
              message: {
                text: note.file
                  ? `${note.file}${note.line ? `:${note.line}` : ''}: ${note.message}`
                  : note.message,
              },
            })),
          },
        ],
        results: report.findings.map((finding) => ({
          ruleId: finding.id,
          ruleIndex: ruleIndex.get(finding.id) ?? 0,
          level: SARIF_LEVEL[finding.severity],
          message: { text: `${finding.detail} Fix: ${finding.fix.split('\n')[0]}` },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: uriOf(finding.location.file), uriBaseId: BASE_ID },
                region: {
                  startLine: finding.location.line,
                  startColumn: finding.location.column,
                  snippet: { text: finding.excerpt },
                },
              },
            },
          ],
        })),
      },
    ],
  };
}
