import { and, asc, count, desc, eq, gt, gte, inArray, isNotNull, isNull, lt, or } from 'drizzle-orm';
import { z } from 'zod';
import type { Db, DbOrTx, Tx } from '../db';
import {
  alertMutes,
  alertSiteStates,
  incidentEvents,
  incidents,
  SCAN_TRIGGERS,
  scans,
  sites,
} from '../db/schema';
import { lockedForUpdate } from '../db/sql';
import { type FindingId, isFindingId } from '../scan/catalogue';
import { GRADES } from '../scan/grade';
import { type Finding, type Grade, SEVERITIES, SEVERITY_RANK } from '../scan/types';
import { getAlertSettings } from '../services/alert-settings';
import { loadContext, loadFindings } from '../services/scan-sets';
import {
  type AlertChange,
  evaluateScan,
  FLAP_WINDOW_MS,
  type IncidentSnapshot,
  type Observation,
  type SeenFinding,
  type SiteMemory,
} from './engine';
import { type AlertKey, isAlertKey } from './keys';
import { type MailSettings, type PendingEvent, recordSiteEvents } from './notify';
import type { MailItem } from './render';

/**
 * The I/O around the engine: read a finished scan and the site's incidents, run evaluateScan, and write
 * its decisions — incidents, events, mail and outbox rows, the site's memory and a confirmation scan —
 * in one transaction. Any number of processes may evaluate at once: each transaction first locks the
 * site's row, then takes the site's oldest finished scan after the last one evaluated (recorded with the
 * memory), so a site's scans are evaluated one at a time, in order, each exactly once.
 */

export interface AlertIo {
  db: Db;
  now: () => Date;
  mail: MailSettings;
}

export interface EvaluationReport {
  scanId: number;
  mailId: number | null;
  confirmScanId: number | null;
}

const DAY_MS = 86_400_000;
const TRANSITIONS = ['opened', 'reopened', 'resolved'] as const;

const gradeSchema = z.custom<Grade>((value) => typeof value === 'string' && GRADES.includes(value as Grade));
const severitySchema = z.enum(SEVERITIES);
const observationSchema = z.object({
  scanId: z.number(),
  at: z.number(),
  trigger: z.enum(SCAN_TRIGGERS),
  reachable: z.boolean(),
  findings: z.record(z.string(), z.object({ severity: severitySchema, evidence: z.string() })),
  grade: gradeSchema.nullable(),
  score: z.number().nullable(),
  cert: z.object({ notAfter: z.string(), daysLeft: z.number() }).nullable(),
  error: z.string().nullable(),
});
const memorySchema = z.object({
  confirmed: z
    .object({
      findings: z.record(z.string(), severitySchema),
      grade: gradeSchema.nullable(),
      score: z.number().nullable(),
    })
    .nullable(),
  previous: observationSchema.nullable(),
  unreachableStreak: z.number().int().min(0),
  unreachableSince: z.number().nullable(),
  certWarning: z.object({ notAfter: z.string(), days: z.number() }).nullable(),
});

function onlyFindingIds<T>(record: Record<string, T>): Partial<Record<FindingId, T>> {
  return Object.fromEntries(Object.entries(record).filter(([key]) => isFindingId(key)));
}

/** Stored memory, or null (a fresh baseline) when it no longer parses. */
export function parseMemory(json: string): SiteMemory | null {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return null;
  }
  const parsed = memorySchema.safeParse(value);
  if (!parsed.success) return null;
  const { confirmed, previous, ...rest } = parsed.data;
  return {
    ...rest,
    confirmed: confirmed ? { ...confirmed, findings: onlyFindingIds(confirmed.findings) } : null,
    previous: previous ? { ...previous, findings: onlyFindingIds(previous.findings) } : null,
  };
}

/** The worst instance of each finding ID (`exposure.file` can occur once per path). */
export function worstFindings(findings: readonly Finding[]): Partial<Record<FindingId, SeenFinding>> {
  const worst: Partial<Record<FindingId, SeenFinding>> = {};
  for (const finding of findings) {
    const known = worst[finding.id];
    if (!known || SEVERITY_RANK[finding.severity] > SEVERITY_RANK[known.severity])
      worst[finding.id] = { severity: finding.severity, evidence: finding.evidence };
  }
  return worst;
}

type ScanRow = typeof scans.$inferSelect;

/** What the engine needs from a finished scan; null for scans that could not run (they say nothing). */
async function observe(tx: Tx, scan: ScanRow): Promise<Observation | null> {
  if (scan.outcome !== 'ok' && scan.outcome !== 'unreachable') return null;
  const at = (scan.finishedAt ?? scan.startedAt ?? scan.queuedAt).getTime();
  const scannedAt = (scan.startedAt ?? scan.finishedAt ?? scan.queuedAt).getTime();
  const context = scan.contextSetId === null ? null : await loadContext(tx, scan.contextSetId);
  const notAfter = context?.tls?.notAfter ?? null;
  const notAfterMs = notAfter ? Date.parse(notAfter) : Number.NaN;
  return {
    scanId: scan.id,
    at,
    trigger: scan.trigger,
    reachable: scan.outcome === 'ok',
    findings: scan.findingSetId === null ? {} : worstFindings(await loadFindings(tx, scan.findingSetId)),
    grade: scan.grade,
    score: scan.score,
    cert:
      notAfter && !Number.isNaN(notAfterMs)
        ? { notAfter, daysLeft: Math.floor((notAfterMs - scannedAt) / DAY_MS) }
        : null,
    error: scan.error,
  };
}

type IncidentRow = typeof incidents.$inferSelect;

/** The site's open incidents and those resolved within the flap window, with their recent transitions. */
async function loadIncidents(
  tx: Tx,
  siteId: number,
  at: Date,
): Promise<{ rows: IncidentRow[]; snapshots: IncidentSnapshot[] }> {
  const windowStart = new Date(at.getTime() - FLAP_WINDOW_MS);
  const rows = (
    await tx
      .select()
      .from(incidents)
      .where(
        and(
          eq(incidents.siteId, siteId),
          or(eq(incidents.status, 'open'), gte(incidents.resolvedAt, windowStart)),
        ),
      )
      .orderBy(asc(incidents.id))
  ).filter((row) => isAlertKey(row.key));
  const counts = new Map<number, number>();
  if (rows.length > 0)
    for (const row of await tx
      .select({ incidentId: incidentEvents.incidentId, n: count() })
      .from(incidentEvents)
      .where(
        and(
          inArray(
            incidentEvents.incidentId,
            rows.map((incident) => incident.id),
          ),
          inArray(incidentEvents.type, [...TRANSITIONS]),
          gt(incidentEvents.at, windowStart),
        ),
      )
      .groupBy(incidentEvents.incidentId))
      counts.set(row.incidentId, row.n);
  return {
    rows,
    snapshots: rows.map((row) => ({
      id: row.id,
      key: row.key as AlertKey,
      status: row.status,
      severity: row.severity,
      resolvedAt: row.resolvedAt?.getTime() ?? null,
      flapping: row.flappingSince !== null,
      recentTransitions: counts.get(row.id) ?? 0,
      fromGrade: row.fromGrade,
    })),
  };
}

/** Keys muted on the site now. */
export async function mutedKeys(tx: DbOrTx, siteId: number, at: Date): Promise<Set<string>> {
  const rows = await tx
    .select({ key: alertMutes.key })
    .from(alertMutes)
    .where(and(eq(alertMutes.siteId, siteId), gt(alertMutes.expiresAt, at)));
  return new Set(rows.map((row) => row.key));
}

async function saveMemory(
  tx: Tx,
  siteId: number,
  lastScanId: number,
  memory: SiteMemory | null,
  at: Date,
): Promise<void> {
  const json = JSON.stringify(memory);
  await tx
    .insert(alertSiteStates)
    .values({ siteId, lastScanId, memory: json, updatedAt: at })
    .onConflictDoUpdate({ target: alertSiteStates.siteId, set: { lastScanId, memory: json, updatedAt: at } });
}

/**
 * Locks the site's row for the rest of the transaction: the one lock every alert transaction about a
 * site takes first (evaluation, reminders, the end of flapping), so they run one after the other
 * whichever process runs them. False when the site is gone.
 */
export async function lockSiteForAlerts(tx: Tx, siteId: number): Promise<boolean> {
  const locked = await lockedForUpdate(
    tx.select({ id: sites.id }).from(sites).where(eq(sites.id, siteId)).limit(1),
  );
  return locked.length > 0;
}

/** Turns the engine's changes into incident rows and the events (with mail items) that tell of them. */
async function applyChanges(
  tx: Tx,
  input: {
    changes: readonly AlertChange[];
    rows: readonly IncidentRow[];
    snapshots: readonly IncidentSnapshot[];
    siteId: number;
    scanId: number;
    at: Date;
  },
): Promise<PendingEvent[]> {
  const { at, scanId } = input;
  const rowById = new Map(input.rows.map((row) => [row.id, row]));
  const transitionsOf = (id: number | null) =>
    (input.snapshots.find((snapshot) => snapshot.id === id)?.recentTransitions ?? 0) + 1;
  const events: PendingEvent[] = [];
  const push = (event: Omit<PendingEvent, 'scanId'>) => events.push({ ...event, scanId });

  for (const change of input.changes) {
    if (change.type === 'open') {
      const firstSeenAt = new Date(change.firstSeenAt);
      const values = {
        key: change.key,
        severity: change.severity,
        status: 'open' as const,
        evidence: change.evidence,
        openedAt: at,
        firstSeenAt,
        openScanId: scanId,
        lastNotifiedAt: at,
        fromGrade: change.grade?.from ?? null,
        updatedAt: at,
      };
      const earlier = change.reopen === null ? undefined : rowById.get(change.reopen);
      const [written] = earlier
        ? await tx
            .update(incidents)
            .set({
              ...values,
              resolvedAt: null,
              resolveScanId: null,
              acknowledgedAt: null,
              acknowledgedNote: null,
              reopenCount: earlier.reopenCount + 1,
              flappingSince: change.flap === 'starts' ? at : earlier.flappingSince,
            })
            .where(eq(incidents.id, earlier.id))
            .returning({ id: incidents.id })
        : await tx
            .insert(incidents)
            .values({ siteId: input.siteId, ...values })
            .returning({ id: incidents.id });
      if (!written) throw new Error(`incident ${change.key} of site ${input.siteId} was not written`);
      const incidentId = written.id;
      const type = earlier ? 'reopened' : 'opened';
      const item: MailItem = {
        incidentId,
        key: change.key,
        event: type,
        severity: change.severity,
        evidence: change.evidence,
        since: firstSeenAt,
        at,
        open: true,
        ...(change.certDaysLeft !== undefined ? { certDaysLeft: change.certDaysLeft } : {}),
      };
      const detail = change.grade ? `grade ${change.grade.from} → ${change.grade.to}` : change.evidence;
      if (change.flap === 'starts') {
        push({ incidentId, type, severity: change.severity, detail, item: null });
        push({
          incidentId,
          type: 'flapping',
          severity: change.severity,
          detail: `${transitionsOf(change.reopen)} opens and resolutions within an hour`,
          item: change.notify
            ? { ...item, event: 'flapping', transitions: transitionsOf(change.reopen) }
            : null,
        });
      } else push({ incidentId, type, severity: change.severity, detail, item: change.notify ? item : null });
      continue;
    }
    const row = rowById.get(change.incidentId);
    if (!row) continue;
    if (change.type === 'worse' || change.type === 'severity') {
      await tx
        .update(incidents)
        .set({ severity: change.to, evidence: change.evidence, updatedAt: at })
        .where(eq(incidents.id, row.id));
      const notify = change.type === 'worse' && change.notify;
      push({
        incidentId: row.id,
        type: change.type,
        severity: change.to,
        detail: `${row.severity} → ${change.to}`,
        item: notify
          ? {
              incidentId: row.id,
              key: change.key,
              event: 'worse',
              severity: change.to,
              previousSeverity: row.severity,
              evidence: change.evidence,
              since: row.firstSeenAt,
              at,
              open: true,
            }
          : null,
      });
    } else if (change.type === 'resolve') {
      await tx
        .update(incidents)
        .set({
          status: 'resolved',
          resolvedAt: at,
          resolveScanId: scanId,
          updatedAt: at,
          ...(change.flap === 'starts' ? { flappingSince: at } : {}),
        })
        .where(eq(incidents.id, row.id));
      const item: MailItem = {
        incidentId: row.id,
        key: change.key,
        event: 'resolved',
        severity: row.severity,
        evidence: row.evidence,
        since: row.firstSeenAt,
        at,
        open: false,
      };
      const detail = change.superseded ? 'superseded by tls.cert.expired' : 'confirmed gone';
      if (change.flap === 'starts') {
        push({ incidentId: row.id, type: 'resolved', severity: row.severity, detail, item: null });
        push({
          incidentId: row.id,
          type: 'flapping',
          severity: row.severity,
          detail: `${transitionsOf(row.id)} opens and resolutions within an hour`,
          item: change.notify ? { ...item, event: 'flapping', transitions: transitionsOf(row.id) } : null,
        });
      } else
        push({
          incidentId: row.id,
          type: 'resolved',
          severity: row.severity,
          detail,
          item: change.notify ? item : null,
        });
    } else {
      push({
        incidentId: row.id,
        type: 'cert',
        severity: row.severity,
        detail: `${change.daysLeft} days left (notAfter ${change.notAfter})`,
        item: change.notify
          ? {
              incidentId: row.id,
              key: change.key,
              event: 'cert',
              severity: row.severity,
              evidence: `notAfter ${change.notAfter}: ${change.daysLeft} days left`,
              since: row.firstSeenAt,
              at,
              open: true,
              certDaysLeft: change.daysLeft,
            }
          : null,
      });
    }
  }
  return events;
}

type EvaluationStep = EvaluationReport | 'none' | 'gone';

/**
 * One transaction: lock the site, take its next finished scan the engine has not seen and evaluate it.
 * The next scan is the oldest after the last one evaluated; a site the engine has never seen starts
 * from its newest, so old history never turns into mail.
 */
async function evaluateNextScan(io: AlertIo, siteId: number): Promise<EvaluationStep> {
  return io.db.transaction(async (tx) => {
    if (!(await lockSiteForAlerts(tx, siteId))) return 'gone';
    const [state] = await tx
      .select()
      .from(alertSiteStates)
      .where(eq(alertSiteStates.siteId, siteId))
      .limit(1);
    const [found] = await tx
      .select({ scan: scans, host: sites.host, enabled: sites.enabled })
      .from(scans)
      .innerJoin(sites, eq(sites.id, scans.siteId))
      .where(
        and(
          eq(scans.siteId, siteId),
          eq(scans.state, 'done'),
          state ? gt(scans.id, state.lastScanId) : undefined,
        ),
      )
      .orderBy(state ? asc(scans.id) : desc(scans.id))
      .limit(1);
    if (!found) return 'none';
    const { scan } = found;
    const at = io.now();
    const memory = state ? parseMemory(state.memory) : null;
    const observation = await observe(tx, scan);
    if (!observation) {
      await saveMemory(tx, siteId, scan.id, memory, at);
      return { scanId: scan.id, mailId: null, confirmScanId: null };
    }
    const { rows, snapshots } = await loadIncidents(tx, siteId, at);
    const evaluation = evaluateScan({
      memory,
      observation,
      incidents: snapshots,
      muted: await mutedKeys(tx, siteId, at),
      settings: await getAlertSettings({ db: tx }),
      now: at.getTime(),
    });
    const events = await applyChanges(tx, {
      changes: evaluation.changes,
      rows,
      snapshots,
      siteId,
      scanId: scan.id,
      at,
    });
    const mailId = await recordSiteEvents(tx, {
      kind: 'change',
      site: { id: siteId, host: found.host },
      grade: evaluation.grade,
      events,
      at,
      mail: io.mail,
    });
    await saveMemory(tx, siteId, scan.id, evaluation.memory, at);
    let confirmScanId: number | null = null;
    if (evaluation.confirm && found.enabled) {
      // A scan already waiting (someone pressed "scan now") confirms just as well: the partial unique
      // index on active scans turns this insert into nothing then.
      const [queued] = await tx
        .insert(scans)
        .values({ siteId, trigger: 'confirm', state: 'queued', queuedAt: at })
        .onConflictDoNothing()
        .returning({ id: scans.id });
      confirmScanId = queued?.id ?? null;
    }
    return { scanId: scan.id, mailId, confirmScanId };
  });
}

/**
 * Evaluates every finished scan of the site the engine has not seen, in order, one transaction each.
 * Safe to call from any process at any time: what another process evaluated meanwhile is skipped.
 */
export async function evaluateSiteScans(io: AlertIo, siteId: number): Promise<EvaluationReport[]> {
  const reports: EvaluationReport[] = [];
  for (;;) {
    const step = await evaluateNextScan(io, siteId);
    if (step === 'none' || step === 'gone') return reports;
    reports.push(step);
  }
}

/** The scheduler's hook after it records a scan: evaluates it, and any of the site's scans before it not yet evaluated. */
export async function evaluateFinishedScan(io: AlertIo, scanId: number): Promise<EvaluationReport[]> {
  const [scan] = await io.db
    .select({ siteId: scans.siteId })
    .from(scans)
    .where(eq(scans.id, scanId))
    .limit(1);
  return scan ? evaluateSiteScans(io, scan.siteId) : [];
}

/**
 * Catch-up, at start-up and in every outbox round: scans recorded but not evaluated (the process that
 * recorded one died first) are evaluated in order. Several processes doing it at once share the work
 * safely (evaluateSiteScans). A site that fails is reported and skipped, so it holds up no other site.
 */
export async function evaluatePendingScans(
  io: AlertIo,
  onSiteError: (siteId: number, error: unknown) => void,
): Promise<EvaluationReport[]> {
  const behind = await io.db
    .select({ siteId: sites.id })
    .from(sites)
    .leftJoin(alertSiteStates, eq(alertSiteStates.siteId, sites.id))
    .where(
      and(
        isNotNull(sites.lastScanId),
        or(isNull(alertSiteStates.lastScanId), lt(alertSiteStates.lastScanId, sites.lastScanId)),
      ),
    )
    .orderBy(asc(sites.id));
  const reports: EvaluationReport[] = [];
  for (const { siteId } of behind) {
    try {
      reports.push(...(await evaluateSiteScans(io, siteId)));
    } catch (error) {
      onSiteError(siteId, error);
    }
  }
  return reports;
}
