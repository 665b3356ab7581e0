import { parseArgs } from 'node:util';
import { env } from './config/env';
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
  vigil serve                 the dashboard, API and scheduler (same as npm start)
  vigil migrate               apply database migrations and exit
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

async function serveCommand(): Promise<number> {
  const { startServer } = await import('./serve');
  const config = env();
  const server = await startServer({
    port: config.VIGIL_PORT,
    host: config.VIGIL_HOST,
    dataDir: config.VIGIL_DATA_DIR,
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
  const dataDir = env().VIGIL_DATA_DIR;
  const { file, applied } = await migrateDatabase(dataDir);
  write(io.stdout, applied > 0 ? `Applied ${applied} migration(s) to ${file}.` : `${file} is up to date.`);
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
        return await serveCommand();
      case 'migrate':
        return await migrateCommand(io);
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
