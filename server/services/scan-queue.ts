import { and, asc, count, desc, eq, gt, gte, inArray, like, lte, notInArray } from 'drizzle-orm';
import type { DbOrTx, Tx } from '../db';
import { isActiveScan, isFailedScan, type ScanOutcome, scans, sites } from '../db/schema';
import { AppError } from '../errors';
import type { Grade, ScanResult } from '../scan/types';
import type { ServiceContext } from './context';
import { type ScanContext, saveContextSet, saveFindingSet } from './scan-sets';
import { type ScanSummary, summarizeScans } from './scan-views';

/**
 * The scans table is the record of every scan and of where it stands: queued → running → done, and a
 * partial unique index allows one queued-or-running scan per site. On SQLite it is also the queue workers
 * take scans from (claimNextScan); on PostgreSQL pg-boss jobs carry scan ids to workers, which claim the
 * scan row itself with claimScan (server/scheduler/pg-boss-queue.ts).
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
/** The error of a scan the queue gave up on: these are the dead letters the API lists. */
export const GAVE_UP_PREFIX = 'Gave up: ';
/** Jitter added to each next scan: up to 10% of the interval, at most 15 minutes, never earlier. */
const MAX_JITTER_MS = 15 * 60_000;

export function nextScanTime(finishedAt: Date, intervalMinutes: number, random: () => number): Date {
  const intervalMs = intervalMinutes * 60_000;
  const jitter = Math.floor(random() * Math.min(intervalMs * 0.1, MAX_JITTER_MS));
  return new Date(finishedAt.getTime() + intervalMs + jitter);
}

function activeSiteIds(db: DbOrTx) {
  return db.select({ siteId: scans.siteId }).from(scans).where(isActiveScan(scans.state));
}

/**
 * Queues a scheduled scan for every enabled site whose next scan time has come; returns how many. Two
 * schedulers at once cannot queue a site twice: the partial unique index drops the second row.
 */
export async function enqueueDueSites({ db, now }: Pick<ServiceContext, 'db' | 'now'>): Promise<number> {
  const at = now();
  return db.transaction(async (tx) => {
    const due = await tx
      .select({ id: sites.id })
      .from(sites)
      .where(and(eq(sites.enabled, true), lte(sites.nextScanAt, at), notInArray(sites.id, activeSiteIds(tx))))
      .orderBy(asc(sites.nextScanAt), asc(sites.id));
    if (due.length === 0) return 0;
    const inserted = await tx
      .insert(scans)
      .values(
        due.map((site) => ({
          siteId: site.id,
          trigger: 'schedule' as const,
          state: 'queued' as const,
          queuedAt: at,
        })),
      )
      .onConflictDoNothing()
      .returning({ id: scans.id });
    return inserted.length;
  });
}

/** Scan now: queues a manual scan, or returns the one already queued or running for the site. */
export async function requestScan({
  db,
  now,
  input,
}: Pick<ServiceContext, 'db' | 'now'> & { input: { siteId: number } }): Promise<{
  scan: ScanSummary;
  created: boolean;
}> {
  const { id, created } = await db.transaction(async (tx) => {
    const [site] = await tx.select({ id: sites.id }).from(sites).where(eq(sites.id, input.siteId)).limit(1);
    if (!site) throw new AppError('not_found', `Site ${input.siteId} not found`);
    const [inserted] = await tx
      .insert(scans)
      .values({ siteId: site.id, trigger: 'manual', state: 'queued', queuedAt: now() })
      .onConflictDoNothing()
      .returning({ id: scans.id });
    if (inserted) return { id: inserted.id, created: true };
    // The site already has a queued or running scan (the partial unique index refused a second one).
    const [active] = await tx
      .select({ id: scans.id })
      .from(scans)
      .where(and(eq(scans.siteId, site.id), isActiveScan(scans.state)))
      .limit(1);
    if (!active)
      throw new AppError('conflict', `Site ${input.siteId} changed while queueing its scan; try again`);
    return { id: active.id, created: false };
  });
  const summary = (await summarizeScans(db, [id])).get(id);
  if (!summary) throw new AppError('not_found', `Scan ${id} not found`);
  return { scan: summary, created };
}

const claimColumns = {
  scanId: scans.id,
  siteId: scans.siteId,
  trigger: scans.trigger,
  state: scans.state,
  attempts: scans.attempts,
  host: sites.host,
  allowPrivate: sites.allowPrivate,
  sourcePath: sites.sourcePath,
  enabled: sites.enabled,
};

/** Marks a scan running for `worker`; a scheduled scan of a site disabled since it was queued is dropped (null). */
async function startScan(
  tx: Tx,
  next: {
    scanId: number;
    siteId: number;
    trigger: string;
    attempts: number;
    host: string;
    allowPrivate: boolean;
    sourcePath: string | null;
    enabled: boolean;
  },
  at: Date,
  runner: { worker: string | null; region: string | null },
): Promise<ScanJob | null> {
  // A scan someone asked for by hand still runs.
  if (!next.enabled && next.trigger === 'schedule') {
    await tx.delete(scans).where(eq(scans.id, next.scanId));
    return null;
  }
  const attempt = next.attempts + 1;
  await tx
    .update(scans)
    .set({ state: 'running', startedAt: at, attempts: attempt, worker: runner.worker, region: runner.region })
    .where(eq(scans.id, next.scanId));
  return {
    scanId: next.scanId,
    siteId: next.siteId,
    host: next.host,
    allowPrivate: next.allowPrivate,
    sourcePath: next.sourcePath,
    attempt,
  };
}

/** SQLite's queue: takes the next queued scan (manual ones first, then oldest) and marks it running; null when none waits. */
export async function claimNextScan({
  db,
  now,
}: Pick<ServiceContext, 'db' | 'now'>): Promise<ScanJob | null> {
  return db.transaction(async (tx) => {
    for (;;) {
      const [next] = await tx
        .select(claimColumns)
        .from(scans)
        .innerJoin(sites, eq(sites.id, scans.siteId))
        .where(and(isActiveScan(scans.state), eq(scans.state, 'queued')))
        .orderBy(desc(eq(scans.trigger, 'manual')), asc(scans.queuedAt), asc(scans.id))
        .limit(1);
      if (!next) return null;
      const job = await startScan(tx, next, now(), { worker: null, region: null });
      if (job) return job;
    }
  });
}

export type ClaimResult = { job: ScanJob } | { skip: 'finished' | 'gone' | 'disabled' };

/**
 * PostgreSQL workers: claims the scan a job names. A queued scan starts; a running one is taken over (its
 * job came back after the previous worker's lease ran out, so that worker is dead or too late to record);
 * a finished or deleted one is skipped and its job completed.
 */
export async function claimScan({
  db,
  now,
  input,
}: Pick<ServiceContext, 'db' | 'now'> & {
  input: { scanId: number; worker: string; region: string | null };
}): Promise<ClaimResult> {
  return db.transaction(async (tx) => {
    const [next] = await tx
      .select(claimColumns)
      .from(scans)
      .innerJoin(sites, eq(sites.id, scans.siteId))
      .where(eq(scans.id, input.scanId))
      .limit(1);
    if (!next) return { skip: 'gone' };
    if (next.state === 'done') return { skip: 'finished' };
    const job = await startScan(tx, next, now(), { worker: input.worker, region: input.region });
    return job ? { job } : { skip: 'disabled' };
  });
}

/** Queued scans with their site's required region, in queue order (by id), after `afterId`: what a dispatcher hands to workers. */
export async function listQueuedScans({
  db,
  input,
}: Pick<ServiceContext, 'db'> & {
  input: { queuedSince: Date | null; afterId: number; limit: number };
}): Promise<{ scanId: number; siteId: number; region: string | null; trigger: string }[]> {
  return db
    .select({ scanId: scans.id, siteId: scans.siteId, region: sites.region, trigger: scans.trigger })
    .from(scans)
    .innerJoin(sites, eq(sites.id, scans.siteId))
    .where(
      and(
        isActiveScan(scans.state),
        eq(scans.state, 'queued'),
        gt(scans.id, input.afterId),
        input.queuedSince ? gte(scans.queuedAt, input.queuedSince) : undefined,
      ),
    )
    .orderBy(asc(scans.id))
    .limit(input.limit);
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

/**
 * Closes a running scan and moves its site's clock on; false when the scan is no longer running (site
 * deleted, re-queued) or, with `worker`, when another worker has taken it over since.
 */
async function finishScan(
  tx: Tx,
  input: { scanId: number; worker?: string | null },
  finishedAt: Date,
  random: () => number,
  fields: (tx: Tx, startedAt: Date) => Promise<ScanOutcomeFields>,
): Promise<boolean> {
  const [scan] = await tx
    .select({ siteId: scans.siteId, startedAt: scans.startedAt, intervalMinutes: sites.intervalMinutes })
    .from(scans)
    .innerJoin(sites, eq(sites.id, scans.siteId))
    .where(
      and(
        eq(scans.id, input.scanId),
        eq(scans.state, 'running'),
        input.worker ? eq(scans.worker, input.worker) : undefined,
      ),
    )
    .limit(1);
  if (!scan) return false;
  const startedAt = scan.startedAt ?? finishedAt;
  const values = await fields(tx, startedAt);
  const closed = await tx
    .update(scans)
    .set({ state: 'done', finishedAt, ...values })
    .where(and(eq(scans.id, input.scanId), eq(scans.state, 'running')))
    .returning({ id: scans.id });
  if (closed.length === 0) return false;
  await tx
    .update(sites)
    .set({ lastScanId: input.scanId, nextScanAt: nextScanTime(finishedAt, scan.intervalMinutes, random) })
    .where(eq(sites.id, scan.siteId));
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
export async function completeScan({
  db,
  now,
  random,
  input,
}: Pick<ServiceContext, 'db' | 'now'> & {
  random: () => number;
  input: { scanId: number; result: ScanResult; worker?: string | null };
}): Promise<boolean> {
  const { result } = input;
  return db.transaction((tx) =>
    finishScan(tx, input, now(), random, async (writer) => ({
      outcome: result.status,
      grade: result.grade,
      score: result.score,
      durationMs: Math.max(0, Math.round(result.durationMs)),
      error: result.error ?? null,
      findingSetId: await saveFindingSet(writer, result.findings),
      contextSetId: await saveContextSet(writer, contextOf(result)),
    })),
  );
}

/** The scan function threw or timed out, or the queue gave up: the scan is done with outcome `error`. */
export async function failScan({
  db,
  now,
  random,
  input,
}: Pick<ServiceContext, 'db' | 'now'> & {
  random: () => number;
  input: { scanId: number; error: string; worker?: string | null };
}): Promise<boolean> {
  const finishedAt = now();
  return db.transaction((tx) =>
    finishScan(tx, input, finishedAt, random, async (_writer, startedAt) => ({
      outcome: 'error',
      grade: null,
      score: null,
      durationMs: Math.max(0, finishedAt.getTime() - startedAt.getTime()),
      error: input.error,
      findingSetId: null,
      contextSetId: null,
    })),
  );
}

/**
 * The queue gave up on a scan (dead letter): close it as an error whatever state it is in, so its site is
 * scheduled again. False when it had already finished.
 */
export async function abandonScan({
  db,
  now,
  random,
  input,
}: Pick<ServiceContext, 'db' | 'now'> & {
  random: () => number;
  input: { scanId: number; reason: string };
}): Promise<boolean> {
  // A queued scan never started: mark it running first so it closes like any other.
  await db
    .update(scans)
    .set({ state: 'running', startedAt: now() })
    .where(and(eq(scans.id, input.scanId), eq(scans.state, 'queued')));
  return failScan({
    db,
    now,
    random,
    input: { scanId: input.scanId, error: `${GAVE_UP_PREFIX}${input.reason}` },
  });
}

/**
 * SQLite start-up recovery: scans left running by a crash go back to the queue (same row, so nothing is
 * counted twice); one interrupted MAX_SCAN_ATTEMPTS times is given up on so a crashing target cannot loop.
 */
export async function recoverInterruptedScans({
  db,
  now,
  random,
}: Pick<ServiceContext, 'db' | 'now'> & { random: () => number }): Promise<{
  requeued: number;
  abandoned: number;
}> {
  const running = await db
    .select({ id: scans.id, attempts: scans.attempts })
    .from(scans)
    .where(and(isActiveScan(scans.state), eq(scans.state, 'running')));
  const abandon = running.filter((scan) => scan.attempts >= MAX_SCAN_ATTEMPTS).map((scan) => scan.id);
  const requeue = running.filter((scan) => scan.attempts < MAX_SCAN_ATTEMPTS).map((scan) => scan.id);
  for (const scanId of abandon) {
    await failScan({
      db,
      now,
      random,
      input: {
        scanId,
        error: `${GAVE_UP_PREFIX}scan interrupted ${MAX_SCAN_ATTEMPTS} times (server restarted while it ran)`,
      },
    });
  }
  if (requeue.length > 0)
    await db.update(scans).set({ state: 'queued', startedAt: null }).where(inArray(scans.id, requeue));
  return { requeued: requeue.length, abandoned: abandon.length };
}

/** Graceful shutdown: running scans that did not finish in time go back to the queue, their attempt not counted. */
export async function requeueScans({
  db,
  input,
}: Pick<ServiceContext, 'db'> & {
  input: { scanIds: readonly number[]; worker?: string | null };
}): Promise<number> {
  if (input.scanIds.length === 0) return 0;
  return db.transaction(async (tx) => {
    const running = await tx
      .select({ id: scans.id, attempts: scans.attempts })
      .from(scans)
      .where(
        and(
          inArray(scans.id, [...input.scanIds]),
          eq(scans.state, 'running'),
          input.worker ? eq(scans.worker, input.worker) : undefined,
        ),
      );
    for (const scan of running) {
      await tx
        .update(scans)
        .set({ state: 'queued', startedAt: null, worker: null, attempts: Math.max(0, scan.attempts - 1) })
        .where(eq(scans.id, scan.id));
    }
    return running.length;
  });
}

/** How many scans wait and run, for health and progress. */
export async function countActiveScans({
  db,
}: Pick<ServiceContext, 'db'>): Promise<{ queued: number; running: number }> {
  const rows = await db
    .select({ state: scans.state, n: count() })
    .from(scans)
    .where(isActiveScan(scans.state))
    .groupBy(scans.state);
  return {
    queued: rows.find((row) => row.state === 'queued')?.n ?? 0,
    running: rows.find((row) => row.state === 'running')?.n ?? 0,
  };
}

export interface DeadLetter {
  scanId: number;
  siteId: number;
  host: string;
  attempts: number;
  reason: string;
  at: string;
}

/** Scans the queue gave up on (retries exhausted, or interrupted too often), newest first. */
export async function listDeadLetters({
  db,
  input,
}: Pick<ServiceContext, 'db'> & { input: { limit: number } }): Promise<DeadLetter[]> {
  const rows = await db
    .select({
      scanId: scans.id,
      siteId: scans.siteId,
      host: sites.host,
      attempts: scans.attempts,
      error: scans.error,
      finishedAt: scans.finishedAt,
    })
    .from(scans)
    .innerJoin(sites, eq(sites.id, scans.siteId))
    .where(and(isFailedScan(scans.outcome), like(scans.error, `${GAVE_UP_PREFIX}%`)))
    .orderBy(desc(scans.id))
    .limit(input.limit);
  return rows.map((row) => ({
    scanId: row.scanId,
    siteId: row.siteId,
    host: row.host,
    attempts: row.attempts,
    reason: (row.error ?? '').slice(GAVE_UP_PREFIX.length),
    at: (row.finishedAt ?? new Date(0)).toISOString(),
  }));
}
