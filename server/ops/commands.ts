import { parseArgs } from 'node:util';
import { storageLocation } from '../config/env';
import { AppError } from '../errors';
import { backupDatabase, type DatabaseSummary, restoreDatabase } from './backup';

interface CommandIo {
  stdout: NodeJS.WritableStream;
}

function summarize(summary: DatabaseSummary): string {
  const megabytes = (summary.bytes / 1024 / 1024).toFixed(1);
  return `${summary.sites} sites, ${summary.scans} scans, schema version ${summary.schemaVersion}, ${megabytes} MB, integrity ok`;
}

function oneFile(positionals: string[], usage: string): string {
  const [file, ...extra] = positionals;
  if (!file || extra.length > 0) throw new AppError('invalid_request', `usage: ${usage}`);
  return file;
}

/** `vigil backup <file> [--force]`: an online backup of VIGIL_DATA_DIR/vigil.db, safe while the server runs; refused on PostgreSQL. */
export async function backupCommand(args: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { force: { type: 'boolean', default: false } },
  });
  const to = oneFile(positionals, 'vigil backup <file> [--force]');
  const summary = await backupDatabase({ location: storageLocation(), to, overwrite: values.force });
  io.stdout.write(`Backed up to ${summary.file}: ${summarize(summary)}.\n`);
  return 0;
}

/** `vigil restore <file>`: replaces VIGIL_DATA_DIR/vigil.db with a verified backup while no server runs; refused on PostgreSQL. */
export async function restoreCommand(args: string[], io: CommandIo): Promise<number> {
  const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
  const from = oneFile(positionals, 'vigil restore <file>');
  const report = await restoreDatabase({ location: storageLocation(), from });
  io.stdout.write(`Restored ${report.file} from ${from}: ${summarize(report.restored)}.\n`);
  io.stdout.write(
    report.previousFile
      ? `The database it replaced is kept as ${report.previousFile}; delete it once the restore looks right.\n`
      : 'There was no database before.\n',
  );
  return 0;
}
