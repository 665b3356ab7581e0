import { and, asc, count, desc, eq, inArray, lte, notInArray } from 'drizzle-orm';
import type { Db } from '../db';
import { isActiveScan, type ScanOutcome, scans, sites } from '../db/schema';
import { AppError } from '../errors';
import type { Grade, ScanResult } from '../scan/types';
import type { ServiceContext } from './context';
import { type ScanContext, saveContextSet, saveFindingSet } from './scan-sets';
import { type ScanSummary, summarizeScans } from './scan-views';

/**
 * The scan queue is the scans table itself: a scan is queued → running → done, and a partial unique
 * index allows one queued-or-running scan per site. The scheduler drives these functions.
 */

/** A claimed scan, with what the scan function needs to know about its site. */
export interface ScanJob {
  scanId: number;
  siteId: number;
  host: string;
  /** The site's own flag; the scheduler ORs it with the global setting. */
  allowPrivate: boolean;
  /** A Django checkout to audit along with the scan (the inside view), or null. */
  sourcePath: string | null;
  attempt: number;
}

/** A scan interrupted this many times (crash loops) is closed as an error instead of re-queued. */
export const MAX_SCAN_ATTEMPTS = 3;
/** Jitter added to each next scan: up to 10% of the interval, at most 15 minutes, never earlier. */
const MAX_JITTER_MS = 15 * 60_000;

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/** Queue writes take the write lock up front, so even two processes on one file never claim the same scan. */
const IMMEDIATE = { behavior: 'immediate' } as const;

export function nextScanTime(finishedAt: Date, intervalMinutes: number, random: () => number): Date {
  const intervalMs = intervalMinutes * 60_000;
  const jitter = Math.floor(random() * Math.min(intervalMs * 0.1, MAX_JITTER_MS));
  return new Date(finishedAt.getTime() + intervalMs + jitter);
}

function activeSiteIds(db: Db | Tx) {
  return db.select({ siteId: scans.siteId }).from(scans).where(isActiveScan(scans.state));
}

/** Queues a scheduled scan for every enabled site whose next scan time has come; returns how many. */
export function enqueueDueSites({ db, now }: Pick<ServiceContext, 'db' | 'now'>): number {
  const at = now();
  return db.transaction((tx) => {
    const due = tx
      .select({ id: sites.id })
      .from(sites)
      .where(and(eq(sites.enabled, true), lte(sites.nextScanAt, at), notInArray(sites.id, activeSiteIds(tx))))
      .orderBy(asc(sites.nextScanAt), asc(sites.id))
      .all();
    if (due.length === 0) return 0;
    tx.insert(scans)
      .values(
        due.map((site) => ({
          siteId: site.id,
          trigger: 'schedule' as const,
          state: 'queued' as const,
          queuedAt: at,
        })),
      )
      .run();
    return due.length;
  }, IMMEDIATE);
}

/** Scan now: queues a manual scan, or returns the one already queued or running for the site. */
export function requestScan({
  db,
  now,
  input,
}: Pick<ServiceContext, 'db' | 'now'> & { input: { siteId: number } }): {
  scan: ScanSummary;
  created: boolean;
} {
  const { id, created } = db.transaction((tx) => {
    const site = tx.select({ id: sites.id }).from(sites).where(eq(sites.id, input.siteId)).get();
    if (!site) throw new AppError('not_found', `Site ${input.siteId} not found`);
    const active = tx
      .select({ id: scans.id })
      .from(scans)
      .where(and(eq(scans.siteId, site.id), isActiveScan(scans.state)))
      .get();
    if (active) return { id: active.id, created: false };
    const inserted = tx
      .insert(scans)
      .values({ siteId: site.id, trigger: 'manual', state: 'queued', queuedAt: now() })
      .returning({ id: scans.id })
      .get();
    return { id: inserted.id, created: true };
  }, IMMEDIATE);
  return { scan: summarizeScans(db, [id]).get(id)!, created };
}

/** Takes the next queued scan (manual ones first, then oldest) and marks it running; null when none is waiting. */
export function claimNextScan({ db, now }: Pick<ServiceContext, 'db' | 'now'>): ScanJob | null {
  return db.transaction((tx) => {
    for (;;) {
      const next = tx
        .select({
          scanId: scans.id,
          siteId: scans.siteId,
          trigger: scans.trigger,
          attempts: scans.attempts,
          host: sites.host,
          allowPrivate: sites.allowPrivate,
          sourcePath: sites.sourcePath,
          enabled: sites.enabled,
        })
        .from(scans)
        .innerJoin(sites, eq(sites.id, scans.siteId))
        .where(and(isActiveScan(scans.state), eq(scans.state, 'queued')))
        .orderBy(desc(eq(scans.trigger, 'manual')), asc(scans.queuedAt), asc(scans.id))
        .limit(1)
        .get();
      if (!next) return null;
      // A site disabled after its scan was queued is skipped; a scan someone asked for by hand still runs.
      if (!next.enabled && next.trigger === 'schedule') {
        tx.delete(scans).where(eq(scans.id, next.scanId)).run();
        continue;
      }
      tx.update(scans)
        .set({ state: 'running', startedAt: now(), attempts: next.attempts + 1 })
        .where(eq(scans.id, next.scanId))
        .run();
      return {
        scanId: next.scanId,
        siteId: next.siteId,
        host: next.host,
        allowPrivate: next.allowPrivate,
        sourcePath: next.sourcePath,
        attempt: next.attempts + 1,
      };
    }
  }, IMMEDIATE);
}

interface ScanOutcomeFields {
  outcome: ScanOutcome;
  grade: Grade | null;
  score: number | null;
  durationMs: number;
  error: string | null;
  findingSetId: number | null;
  contextSetId: number | null;
}

/** Closes a running scan and moves its site's clock on; false when the scan is no longer running (site deleted, re-queued). */
function finishScan(
  tx: Tx,
  scanId: number,
  finishedAt: Date,
  random: () => number,
  fields: (tx: Tx, startedAt: Date) => ScanOutcomeFields,
): boolean {
  const scan = tx
    .select({ siteId: scans.siteId, startedAt: scans.startedAt, intervalMinutes: sites.intervalMinutes })
    .from(scans)
    .innerJoin(sites, eq(sites.id, scans.siteId))
    .where(and(eq(scans.id, scanId), eq(scans.state, 'running')))
    .get();
  if (!scan) return false;
  const startedAt = scan.startedAt ?? finishedAt;
  tx.update(scans)
    .set({ state: 'done', finishedAt, ...fields(tx, startedAt) })
    .where(eq(scans.id, scanId))
    .run();
  tx.update(sites)
    .set({ lastScanId: scanId, nextScanAt: nextScanTime(finishedAt, scan.intervalMinutes, random) })
    .where(eq(sites.id, scan.siteId))
    .run();
  return true;
}

export function contextOf(result: ScanResult): ScanContext {
  return {
    target: result.target,
    addresses: result.addresses,
    django: result.django,
    tls: result.tls
      ? { protocols: result.tls.protocols, notAfter: result.tls.notAfter, issuer: result.tls.issuer }
      : null,
    checks: result.checks,
  };
}

/** Stores a scan's result (findings and context deduplicated) and marks it done. */
export function completeScan({
  db,
  now,
  random,
  input,
}: Pick<ServiceContext, 'db' | 'now'> & {
  random: () => number;
  input: { scanId: number; result: ScanResult };
}): boolean {
  const { result } = input;
  return db.transaction(
    (tx) =>
      finishScan(tx, input.scanId, now(), random, (writer) => ({
        outcome: result.status,
        grade: result.grade,
        score: result.score,
        durationMs: Math.max(0, Math.round(result.durationMs)),
        error: result.error ?? null,
        findingSetId: saveFindingSet(writer, result.findings),
        contextSetId: saveContextSet(writer, contextOf(result)),
      })),
    IMMEDIATE,
  );
}

/** The scan function threw or timed out: the scan is done with outcome `error` and the message. */
export function failScan({
  db,
  now,
  random,
  input,
}: Pick<ServiceContext, 'db' | 'now'> & {
  random: () => number;
  input: { scanId: number; error: string };
}): boolean {
  const finishedAt = now();
  return db.transaction(
    (tx) =>
      finishScan(tx, input.scanId, finishedAt, random, (_writer, startedAt) => ({
        outcome: 'error',
        grade: null,
        score: null,
        durationMs: Math.max(0, finishedAt.getTime() - startedAt.getTime()),
        error: input.error,
        findingSetId: null,
        contextSetId: null,
      })),
    IMMEDIATE,
  );
}

/**
 * Start-up recovery: scans left running by a crash go back to the queue (same row, so nothing is counted
 * twice); one interrupted MAX_SCAN_ATTEMPTS times is closed as an error so a crashing target cannot loop.
 */
export function recoverInterruptedScans({
  db,
  now,
  random,
}: Pick<ServiceContext, 'db' | 'now'> & { random: () => number }): { requeued: number; abandoned: number } {
  const running = db
    .select({ id: scans.id, attempts: scans.attempts })
    .from(scans)
    .where(and(isActiveScan(scans.state), eq(scans.state, 'running')))
    .all();
  const abandon = running.filter((scan) => scan.attempts >= MAX_SCAN_ATTEMPTS).map((scan) => scan.id);
  const requeue = running.filter((scan) => scan.attempts < MAX_SCAN_ATTEMPTS).map((scan) => scan.id);
  for (const scanId of abandon) {
    failScan({
      db,
      now,
      random,
      input: { scanId, error: `Scan interrupted ${MAX_SCAN_ATTEMPTS} times (server restarted while it ran)` },
    });
  }
  if (requeue.length > 0)
    db.update(scans).set({ state: 'queued', startedAt: null }).where(inArray(scans.id, requeue)).run();
  return { requeued: requeue.length, abandoned: abandon.length };
}

/** Graceful shutdown: running scans that did not finish in time go back to the queue, their attempt not counted. */
export function requeueScans({
  db,
  input,
}: Pick<ServiceContext, 'db'> & { input: { scanIds: readonly number[] } }): number {
  if (input.scanIds.length === 0) return 0;
  return db.transaction((tx) => {
    const running = tx
      .select({ id: scans.id, attempts: scans.attempts })
      .from(scans)
      .where(and(inArray(scans.id, [...input.scanIds]), eq(scans.state, 'running')))
      .all();
    for (const scan of running) {
      tx.update(scans)
        .set({ state: 'queued', startedAt: null, attempts: Math.max(0, scan.attempts - 1) })
        .where(eq(scans.id, scan.id))
        .run();
    }
    return running.length;
  }, IMMEDIATE);
}

/** How many scans wait and run, for health and progress. */
export function countActiveScans({ db }: Pick<ServiceContext, 'db'>): { queued: number; running: number } {
  const rows = db
    .select({ state: scans.state, n: count() })
    .from(scans)
    .where(isActiveScan(scans.state))
    .groupBy(scans.state)
    .all();
  return {
    queued: rows.find((row) => row.state === 'queued')?.n ?? 0,
    running: rows.find((row) => row.state === 'running')?.n ?? 0,
  };
}
