import { sql } from 'drizzle-orm';
import type { Grade } from '../scan/types';
import type { Db } from './client';
import { type ScanOutcome, scans } from './schema';

export interface FinishedScanRow {
  siteId: number;
  queuedAt: Date;
  startedAt: Date;
  finishedAt: Date;
  outcome: ScanOutcome;
  grade: Grade | null;
  score: number | null;
  durationMs: number;
  error: string | null;
  findingSetId: number;
  contextSetId: number;
}

/**
 * One prepared insert of finished scans, for loading history in bulk (benchmarks, imports from other
 * tools); call it inside a transaction. Returns the new scan's id.
 */
export function prepareFinishedScanInsert(db: Db): (row: FinishedScanRow) => number {
  const value = (name: keyof FinishedScanRow) => sql.placeholder(name);
  const statement = db
    .insert(scans)
    .values({
      siteId: value('siteId'),
      trigger: 'schedule',
      state: 'done',
      attempts: 1,
      queuedAt: value('queuedAt'),
      startedAt: value('startedAt'),
      finishedAt: value('finishedAt'),
      outcome: value('outcome'),
      grade: value('grade'),
      score: value('score'),
      durationMs: value('durationMs'),
      error: value('error'),
      findingSetId: value('findingSetId'),
      contextSetId: value('contextSetId'),
    })
    .prepare();
  return (row) => Number(statement.run({ ...row }).lastInsertRowid);
}
