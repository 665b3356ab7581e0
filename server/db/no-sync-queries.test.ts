import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * Services are written once for SQLite and PostgreSQL: queries are awaited, never finished with
 * `.all()`, `.get()` or `.run()`, which only Drizzle's SQLite builders have (they would type-check and then
 * fail on PostgreSQL). server/db, which talks to the drivers themselves, is the one exception.
 */
const SERVER = fileURLToPath(new URL('..', import.meta.url));
const SYNC_FINISHER = /\.(all|get|run)\(\s*\)/;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'db' && dir === SERVER ? [] : sourceFiles(path);
    // Tests run on PostgreSQL themselves (unit-postgres), and some hold Python source as text.
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

describe('queries outside server/db', () => {
  it('are awaited, not finished with a SQLite-only .all(), .get() or .run()', () => {
    const offenders = sourceFiles(SERVER).flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .flatMap((line, index) =>
          SYNC_FINISHER.test(line) ? [`${relative(SERVER, file)}:${index + 1}: ${line.trim()}`] : [],
        ),
    );
    expect(offenders).toEqual([]);
  });
});
