import { parseArgs } from 'node:util';
import { env, storageLocation } from './config/env';
import { AppError } from './errors';
import { mapConcurrent } from './map-concurrent';
import { GRADES, gradeRank } from './scan/grade';
import { formatScanReport } from './scan/report';
import { type ScanOptions, scanTarget } from './scan/scan';
import { parseTarget, type Target } from './scan/target';
import type { Grade, ScanResult } from './scan/types';

export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  isTTY: boolean;
}

/** SPEC.md exit codes. */
export const EXIT = { ok: 0, belowThreshold: 1, usage: 2, scanFailed: 3 } as const;

const SCAN_CONCURRENCY = 4;

const USAGE = `Usage:
  vigil scan <target...> [--json] [--dns host:port[,…]] [--allow-private] [--fail-under GRADE]
  vigil audit <path> [--json|--sarif] [--fail-on SEVERITY] [--include-tests]
  vigil serve [--role all|web|scheduler|worker] [--region LABEL] [--concurrency N]
                              the dashboard, API, scheduler and scan workers (same as npm start);
                              split roles and regions need PostgreSQL (VIGIL_DATABASE_URL)
  vigil migrate               apply database migrations and exit
  vigil migrate-to-postgres <sqlite-file> <postgres-url>
                              copy an installation into an empty PostgreSQL database and verify it
  vigil backup <file> [--force]
                              online backup of the database (safe while the server runs)
  vigil restore <file>        replace the database with a verified backup (server stopped)

Targets: shop.example.com, shop.example.com:8443, https://shop.example.com/
Grades: ${GRADES.join(' ')}`;

function write(stream: NodeJS.WritableStream, text: string): void {
  stream.write(text.endsWith('\n') ? text : `${text}\n`);
}

function parseGrade(value: string): Grade {
  const grade = GRADES.find((candidate) => candidate === value.toUpperCase());
  if (!grade)
    throw new AppError('invalid_request', `--fail-under: "${value}" is not a grade (${GRADES.join(' ')})`);
  return grade;
}

async function scanCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      dns: { type: 'string' },
      'allow-private': { type: 'boolean', default: false },
      'fail-under': { type: 'string' },
    },
  });
  if (positionals.length === 0) throw new AppError('invalid_request', 'vigil scan needs at least one target');
  const config = env();
  const allowPrivate = values['allow-private'] || config.VIGIL_ALLOW_PRIVATE;
  const failUnder = values['fail-under'] === undefined ? null : parseGrade(values['fail-under']);
  const targets: Target[] = positionals.map((input) => parseTarget(input, { allowIpLiteral: allowPrivate }));
  const dnsServers = values.dns
    ? values.dns
        .split(',')
        .map((server) => server.trim())
        .filter(Boolean)
    : config.VIGIL_DNS_SERVERS;
  const options: ScanOptions = { allowPrivate, dnsServers };

  const results = await mapConcurrent(targets, SCAN_CONCURRENCY, (target) => scanTarget(target, options));

  if (values.json) {
    write(io.stdout, JSON.stringify(results.length === 1 ? results[0] : results, null, 2));
  } else {
    write(io.stdout, results.map((result) => formatScanReport(result, { color: io.isTTY })).join('\n\n'));
  }
  if (results.some((result) => result.status === 'error')) return EXIT.scanFailed;
  if (failUnder && results.some((result) => isBelow(result, failUnder))) return EXIT.belowThreshold;
  return EXIT.ok;
}

/** An unreachable site has no grade, so it cannot prove it is above the bar. */
function isBelow(result: ScanResult, threshold: Grade): boolean {
  return result.grade === null || gradeRank(result.grade) > gradeRank(threshold);
}

const ROLES = ['all', 'web', 'scheduler', 'worker'] as const;

async function serveCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      role: { type: 'string' },
      region: { type: 'string' },
      concurrency: { type: 'string' },
    },
  });
  const role = values.role ?? env().VIGIL_ROLE;
  if (!ROLES.some((known) => known === role))
    throw new AppError('invalid_request', `--role: "${role}" is not one of ${ROLES.join(', ')}`);
  if (values.region !== undefined && !/^[a-z0-9][a-z0-9-]{0,29}$/.test(values.region))
    throw new AppError('invalid_request', `--region: "${values.region}" must be 1-30 of a-z 0-9 -`);
  const concurrency = values.concurrency === undefined ? undefined : Number(values.concurrency);
  if (concurrency !== undefined && !(Number.isInteger(concurrency) && concurrency >= 1 && concurrency <= 64))
    throw new AppError(
      'invalid_request',
      `--concurrency: "${values.concurrency}" must be a whole number from 1 to 64`,
    );
  const { startServer } = await import('./serve');
  const config = env();
  const server = await startServer({
    port: config.VIGIL_PORT,
    host: config.VIGIL_HOST,
    storage: storageLocation(),
    role: role as (typeof ROLES)[number],
    ...(values.region !== undefined ? { region: values.region } : {}),
    ...(concurrency !== undefined ? { workerConcurrency: concurrency } : {}),
  });
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      server.close().then(resolve, resolve);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  return EXIT.ok;
}

async function migrateCommand(io: CliIo): Promise<number> {
  const { migrateDatabase } = await import('./db');
  const { location, applied } = await migrateDatabase(storageLocation());
  write(
    io.stdout,
    applied > 0 ? `Applied ${applied} migration(s) to ${location}.` : `${location} is up to date.`,
  );
  return EXIT.ok;
}

async function migrateToPostgresCommand(args: string[], io: CliIo): Promise<number> {
  const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
  const [sqliteFile, postgresUrl, ...extra] = positionals;
  if (!sqliteFile || !postgresUrl || extra.length > 0)
    throw new AppError('invalid_request', 'vigil migrate-to-postgres needs <sqlite-file> <postgres-url>');
  const { isPostgresUrl } = await import('./db');
  if (!isPostgresUrl(postgresUrl))
    throw new AppError('invalid_request', `"${postgresUrl}" is not a postgres:// URL`);
  const { copyToPostgres } = await import('./db/copy-to-postgres');
  write(io.stdout, `Copying ${sqliteFile} …`);
  const report = await copyToPostgres(sqliteFile, postgresUrl, { log: (line) => write(io.stdout, line) });
  const width = Math.max(...report.tables.map((entry) => entry.table.length));
  for (const entry of report.tables)
    write(
      io.stdout,
      `${entry.table.padEnd(width)}  ${String(entry.sqlite).padStart(9)} → ${String(entry.postgres).padStart(9)}${entry.sqlite === entry.postgres ? '' : '  MISMATCH'}`,
    );
  write(
    io.stdout,
    `history checksum (${report.history.scans} scans): ${report.history.sqlite.slice(0, 16)} → ${report.history.postgres.slice(0, 16)}${report.history.sqlite === report.history.postgres ? '' : '  MISMATCH'}`,
  );
  if (!report.ok) {
    write(io.stderr, 'vigil: the copy does not match its source; do not switch to it');
    return EXIT.scanFailed;
  }
  write(
    io.stdout,
    `Copied and verified in ${(report.ms / 1000).toFixed(1)} s. Point VIGIL_DATABASE_URL at ${report.to} to switch.`,
  );
  return EXIT.ok;
}

/** Runs one CLI invocation and returns its exit code; never calls process.exit. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'scan':
        return await scanCommand(rest, io);
      case 'audit': {
        const { auditCommand } = await import('./audit/command');
        return await auditCommand(rest, io);
      }
      case 'serve':
        return await serveCommand(rest);
      case 'migrate':
        return await migrateCommand(io);
      case 'migrate-to-postgres':
        return await migrateToPostgresCommand(rest, io);
      case 'backup': {
        const { backupCommand } = await import('./ops/commands');
        return await backupCommand(rest, io);
      }
      case 'restore': {
        const { restoreCommand } = await import('./ops/commands');
        return await restoreCommand(rest, io);
      }
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        write(command === undefined ? io.stderr : io.stdout, USAGE);
        return command === undefined ? EXIT.usage : EXIT.ok;
      default:
        write(io.stderr, `Unknown command "${command}".\n\n${USAGE}`);
        return EXIT.usage;
    }
  } catch (error) {
    if (error instanceof AppError && (error.code === 'invalid_target' || error.code === 'invalid_request')) {
      write(io.stderr, `vigil: ${error.message}`);
      return EXIT.usage;
    }
    if (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')) {
      write(io.stderr, `vigil: ${error.message}\n\n${USAGE}`);
      return EXIT.usage;
    }
    write(io.stderr, `vigil: ${error instanceof Error ? error.message : String(error)}`);
    return EXIT.scanFailed;
  }
}
