import { and, asc, count, eq, gt, gte, inArray, isNotNull, isNull, lt, or } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../db';
import {
  alertMutes,
  alertSiteStates,
  incidentEvents,
  incidents,
  isActiveScan,
  SCAN_TRIGGERS,
  scans,
  sites,
} from '../db/schema';
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
import type { Tx } from './outbox';
import type { MailItem } from './render';

/**
 * The I/O around the engine: read a finished scan and the site's incidents, run evaluateScan, and write
 * its decisions — incidents, events, mail and outbox rows, the site's memory and a confirmation scan —
 * in one transaction. Evaluating a scan twice is a no-op (the memory records the last scan evaluated).
 */

export interface AlertIo {
  db: Db;
  now: () => Date;
  mail: MailSettings;
}

export interface EvaluationReport {
  evaluated: boolean;
  mailId: number | null;
  confirmScanId: number | null;
}

const NOTHING: EvaluationReport = { evaluated: false, mailId: null, confirmScanId: null };
const IMMEDIATE = { behavior: 'immediate' } as const;
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
function observe(db: Db, scan: ScanRow): Observation | null {
  if (scan.outcome !== 'ok' && scan.outcome !== 'unreachable') return null;
  const at = (scan.finishedAt ?? scan.startedAt ?? scan.queuedAt).getTime();
  const scannedAt = (scan.startedAt ?? scan.finishedAt ?? scan.queuedAt).getTime();
  const context = scan.contextSetId === null ? null : loadContext(db, scan.contextSetId);
  const notAfter = context?.tls?.notAfter ?? null;
  const notAfterMs = notAfter ? Date.parse(notAfter) : Number.NaN;
  return {
    scanId: scan.id,
    at,
    trigger: scan.trigger,
    reachable: scan.outcome === 'ok',
    findings: scan.findingSetId === null ? {} : worstFindings(loadFindings(db, scan.findingSetId)),
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
function loadIncidents(
  tx: Tx,
  siteId: number,
  at: Date,
): { rows: IncidentRow[]; snapshots: IncidentSnapshot[] } {
  const windowStart = new Date(at.getTime() - FLAP_WINDOW_MS);
  const rows = tx
    .select()
    .from(incidents)
    .where(
      and(
        eq(incidents.siteId, siteId),
        or(eq(incidents.status, 'open'), gte(incidents.resolvedAt, windowStart)),
      ),
    )
    .all()
    .filter((row) => isAlertKey(row.key));
  const counts = new Map<number, number>();
  if (rows.length > 0)
    for (const row of tx
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
      .groupBy(incidentEvents.incidentId)
      .all())
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
export function mutedKeys(tx: Pick<Tx, 'select'>, siteId: number, at: Date): Set<string> {
  return new Set(
    tx
      .select({ key: alertMutes.key })
      .from(alertMutes)
      .where(and(eq(alertMutes.siteId, siteId), gt(alertMutes.expiresAt, at)))
      .all()
      .map((row) => row.key),
  );
}

function saveMemory(tx: Tx, siteId: number, lastScanId: number, memory: SiteMemory | null, at: Date): void {
  const json = JSON.stringify(memory);
  tx.insert(alertSiteStates)
    .values({ siteId, lastScanId, memory: json, updatedAt: at })
    .onConflictDoUpdate({ target: alertSiteStates.siteId, set: { lastScanId, memory: json, updatedAt: at } })
    .run();
}

/** Turns the engine's changes into incident rows and the events (with mail items) that tell of them. */
function applyChanges(
  tx: Tx,
  input: {
    changes: readonly AlertChange[];
    rows: readonly IncidentRow[];
    snapshots: readonly IncidentSnapshot[];
    siteId: number;
    scanId: number;
    at: Date;
  },
): PendingEvent[] {
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
      const incidentId = earlier
        ? tx
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
            .get().id
        : tx
            .insert(incidents)
            .values({ siteId: input.siteId, ...values })
            .returning({ id: incidents.id })
            .get().id;
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
      tx.update(incidents)
        .set({ severity: change.to, evidence: change.evidence, updatedAt: at })
        .where(eq(incidents.id, row.id))
        .run();
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
      tx.update(incidents)
        .set({
          status: 'resolved',
          resolvedAt: at,
          resolveScanId: scanId,
          updatedAt: at,
          ...(change.flap === 'starts' ? { flappingSince: at } : {}),
        })
        .where(eq(incidents.id, row.id))
        .run();
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

/** Runs the engine over one finished scan, once; the scheduler calls it after every scan it records. */
export function evaluateFinishedScan(io: AlertIo, scanId: number): EvaluationReport {
  const { db } = io;
  return db.transaction((tx) => {
    const found = tx
      .select({ scan: scans, host: sites.host, enabled: sites.enabled })
      .from(scans)
      .innerJoin(sites, eq(sites.id, scans.siteId))
      .where(and(eq(scans.id, scanId), eq(scans.state, 'done')))
      .get();
    if (!found) return NOTHING;
    const { scan } = found;
    const state = tx.select().from(alertSiteStates).where(eq(alertSiteStates.siteId, scan.siteId)).get();
    if (state && state.lastScanId >= scan.id) return NOTHING;
    const at = io.now();
    const memory = state ? parseMemory(state.memory) : null;
    // Same connection, same transaction: better-sqlite3 runs the callback synchronously.
    const observation = observe(db, scan);
    if (!observation) {
      saveMemory(tx, scan.siteId, scan.id, memory, at);
      return { ...NOTHING, evaluated: true };
    }
    const { rows, snapshots } = loadIncidents(tx, scan.siteId, at);
    const evaluation = evaluateScan({
      memory,
      observation,
      incidents: snapshots,
      muted: mutedKeys(tx, scan.siteId, at),
      settings: getAlertSettings({ db }),
      now: at.getTime(),
    });
    const events = applyChanges(tx, {
      changes: evaluation.changes,
      rows,
      snapshots,
      siteId: scan.siteId,
      scanId: scan.id,
      at,
    });
    const mailId = recordSiteEvents(tx, {
      kind: 'change',
      site: { id: scan.siteId, host: found.host },
      grade: evaluation.grade,
      events,
      at,
      mail: io.mail,
    });
    saveMemory(tx, scan.siteId, scan.id, evaluation.memory, at);
    let confirmScanId: number | null = null;
    if (evaluation.confirm && found.enabled) {
      const active = tx
        .select({ id: scans.id })
        .from(scans)
        .where(and(eq(scans.siteId, scan.siteId), isActiveScan(scans.state)))
        .get();
      // A scan already waiting (someone pressed "scan now") confirms just as well.
      if (!active)
        confirmScanId = tx
          .insert(scans)
          .values({ siteId: scan.siteId, trigger: 'confirm', state: 'queued', queuedAt: at })
          .returning({ id: scans.id })
          .get().id;
    }
    return { evaluated: true, mailId, confirmScanId };
  }, IMMEDIATE);
}

/**
 * Start-up catch-up: scans recorded but not evaluated (a crash between the two) are evaluated in order.
 * A site the engine has never seen starts from its newest scan, so old history never turns into mail.
 */
export function evaluatePendingScans(io: AlertIo): EvaluationReport[] {
  const behind = io.db
    .select({ siteId: sites.id, newest: sites.lastScanId, evaluated: alertSiteStates.lastScanId })
    .from(sites)
    .leftJoin(alertSiteStates, eq(alertSiteStates.siteId, sites.id))
    .where(
      and(
        isNotNull(sites.lastScanId),
        or(isNull(alertSiteStates.lastScanId), lt(alertSiteStates.lastScanId, sites.lastScanId)),
      ),
    )
    .all();
  const reports: EvaluationReport[] = [];
  for (const site of behind) {
    if (site.newest === null) continue;
    const scanIds =
      site.evaluated === null
        ? [site.newest]
        : io.db
            .select({ id: scans.id })
            .from(scans)
            .where(and(eq(scans.siteId, site.siteId), eq(scans.state, 'done'), gt(scans.id, site.evaluated)))
            .orderBy(asc(scans.id))
            .all()
            .map((row) => row.id);
    for (const scanId of scanIds) reports.push(evaluateFinishedScan(io, scanId));
  }
  return reports;
}
