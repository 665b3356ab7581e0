import { parseArgs } from 'node:util';
import { AppError } from '../errors';
import { SEVERITIES, SEVERITY_RANK, type Severity } from '../scan/types';
import { auditProject } from './audit';
import { formatAuditReport } from './render';
import { toSarif } from './sarif';

export interface AuditIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  isTTY: boolean;
}

/** SPEC.md exit codes, as for `vigil scan`. */
export const AUDIT_EXIT = { ok: 0, findingAtOrAbove: 1, usage: 2, failed: 3 } as const;

export const AUDIT_USAGE = `Usage: vigil audit <path> [--json|--sarif] [--fail-on SEVERITY] [--include-tests]

Reads a Django project's source and reports settings and code that weaken its security.
  --json             one JSON document on stdout
  --sarif            SARIF 2.1.0 on stdout (GitHub code scanning, IDEs)
  --fail-on SEV      exit 1 when a finding of SEV or worse exists (${SEVERITIES.join(', ')})
  --include-tests    also audit tests/, test_*.py, *_tests.py …

Suppress one finding with a comment on its line or the line above:
  # vigil: ignore[code.raw-sql] the query is a constant built at import time
Project config: [tool.vigil.audit] in pyproject.toml or [audit] in vigil.toml
  exclude = ["legacy/**"], include-tests = false, disable = ["code.idor"]`;

function parseSeverity(value: string): Severity {
  const severity = SEVERITIES.find((candidate) => candidate === value.toLowerCase());
  if (!severity)
    throw new AppError(
      'invalid_request',
      `--fail-on: "${value}" is not a severity (${SEVERITIES.join(', ')})`,
    );
  return severity;
}

function isUsageError(error: unknown): boolean {
  if (error instanceof AppError) return error.code === 'invalid_request';
  return error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS');
}

function write(stream: NodeJS.WritableStream, text: string): void {
  stream.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** `vigil audit <path> [--json|--sarif] [--fail-on SEVERITY] [--include-tests]`; returns the exit code. */
export async function auditCommand(args: string[], io: AuditIo): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        json: { type: 'boolean', default: false },
        sarif: { type: 'boolean', default: false },
        'fail-on': { type: 'string' },
        'include-tests': { type: 'boolean' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    if (values.help) {
      write(io.stdout, AUDIT_USAGE);
      return AUDIT_EXIT.ok;
    }
    const [root, ...extra] = positionals;
    if (root === undefined)
      throw new AppError('invalid_request', 'vigil audit needs the path of a Django project');
    if (extra.length > 0)
      throw new AppError('invalid_request', `vigil audit takes one path, got ${positionals.length}`);
    if (values.json && values.sarif)
      throw new AppError('invalid_request', '--json and --sarif cannot be combined');
    const failOn = values['fail-on'] === undefined ? null : parseSeverity(values['fail-on']);

    const report = await auditProject(root, values['include-tests'] ? { includeTests: true } : {});

    if (values.json) write(io.stdout, JSON.stringify(report, null, 2));
    else if (values.sarif) write(io.stdout, JSON.stringify(toSarif(report), null, 2));
    else write(io.stdout, formatAuditReport(report, { color: io.isTTY }));

    const failing =
      failOn && report.findings.some((finding) => SEVERITY_RANK[finding.severity] >= SEVERITY_RANK[failOn]);
    return failing ? AUDIT_EXIT.findingAtOrAbove : AUDIT_EXIT.ok;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (isUsageError(error)) {
      write(io.stderr, `vigil audit: ${message}\nRun "vigil audit --help" for usage.`);
      return AUDIT_EXIT.usage;
    }
    write(io.stderr, `vigil audit: could not run: ${message}`);
    return AUDIT_EXIT.failed;
  }
}
