import type { ScanTrigger } from '../db/schema';
import type { FindingId } from '../scan/catalogue';
import { gradeRank } from '../scan/grade';
import { type Grade, SEVERITY_RANK, type Severity } from '../scan/types';
import {
  type AlertKey,
  CERT_EXPIRING_KEY,
  GRADE_DROP_KEY,
  SITE_CONDITION_SEVERITY,
  UNREACHABLE_KEY,
} from './keys';

/**
 * The incident engine, as one pure function: what the site looked like when last confirmed, plus one
 * finished scan, gives the incidents to open, worsen and resolve, the new memory of the site, and
 * whether to ask for a confirmation rescan. No I/O: evaluate.ts reads its input and writes its output.
 */

export interface AlertSettings {
  /** Findings below this severity never open an incident (certificate expiry always does). */
  minSeverity: Severity;
  /** A confirmed fall of this many grade steps opens a `grade.drop` incident; 0 turns it off. */
  gradeDropSteps: number;
  /** `unreachable` scans in a row before a `site.unreachable` incident opens. */
  unreachableAfter: number;
  /** Hours between reminders of an open, unacknowledged incident; 0 sends none. */
  reminderHours: number;
  /** UTC hour at which digest recipients get the day's changes. */
  digestHour: number;
}

export const DEFAULT_ALERT_SETTINGS: AlertSettings = {
  minSeverity: 'medium',
  gradeDropSteps: 2,
  unreachableAfter: 3,
  reminderHours: 24,
  digestHour: 8,
};

/** An incident that opened and closed this often within FLAP_WINDOW_MS is flapping. */
export const FLAP_TRANSITIONS = 3;
export const FLAP_WINDOW_MS = 60 * 60_000;
/** Certificate expiry warns once when each of these is reached. */
export const CERT_WARNING_DAYS = [30, 14, 7, 1] as const;

export interface SeenFinding {
  severity: Severity;
  evidence: string;
}

/** One finished scan as the engine sees it. */
export interface Observation {
  scanId: number;
  at: number;
  trigger: ScanTrigger;
  /** false: the scan's outcome was `unreachable` (nothing answered), so it says nothing about findings. */
  reachable: boolean;
  /** The worst instance of each finding ID. */
  findings: Partial<Record<FindingId, SeenFinding>>;
  grade: Grade | null;
  score: number | null;
  cert: { notAfter: string; daysLeft: number } | null;
  /** Why nothing answered, for unreachable scans. */
  error: string | null;
}

/** The site as two scans in a row agreed it looks: regressions are measured against this. */
export interface ConfirmedState {
  findings: Partial<Record<FindingId, Severity>>;
  grade: Grade | null;
  score: number | null;
}

/** What the engine remembers about a site between scans. */
export interface SiteMemory {
  confirmed: ConfirmedState | null;
  /** The scan before this one: a change it also showed is confirmed. */
  previous: Observation | null;
  unreachableStreak: number;
  unreachableSince: number | null;
  /** The lowest expiry threshold already warned about, for which certificate. */
  certWarning: { notAfter: string; days: number } | null;
}

export const EMPTY_MEMORY: SiteMemory = {
  confirmed: null,
  previous: null,
  unreachableStreak: 0,
  unreachableSince: null,
  certWarning: null,
};

/** An open incident of the site, or one resolved within FLAP_WINDOW_MS (it reopens rather than a new one). */
export interface IncidentSnapshot {
  id: number;
  key: AlertKey;
  status: 'open' | 'resolved';
  severity: Severity;
  resolvedAt: number | null;
  flapping: boolean;
  /** Opens, reopens and resolutions within FLAP_WINDOW_MS before now. */
  recentTransitions: number;
  /** For `grade.drop`: the grade before the drop. */
  fromGrade: Grade | null;
}

/** `starts`: this transition makes the incident flapping (one mail says so); `ongoing`: already flapping, no mail. */
export type Flap = 'starts' | 'ongoing' | null;

export type AlertChange =
  | {
      type: 'open';
      key: AlertKey;
      severity: Severity;
      evidence: string;
      /** The resolved incident this reopens, when it closed within the flap window. */
      reopen: number | null;
      firstSeenAt: number;
      flap: Flap;
      notify: boolean;
      grade?: { from: Grade; to: Grade };
      certDaysLeft?: number;
    }
  | {
      type: 'worse';
      incidentId: number;
      key: AlertKey;
      from: Severity;
      to: Severity;
      evidence: string;
      notify: boolean;
    }
  | { type: 'severity'; incidentId: number; key: AlertKey; to: Severity; evidence: string }
  | { type: 'resolve'; incidentId: number; key: AlertKey; flap: Flap; notify: boolean; superseded: boolean }
  | {
      type: 'cert';
      incidentId: number;
      key: AlertKey;
      daysLeft: number;
      threshold: number;
      notAfter: string;
      notify: boolean;
    };

export interface ScanEvaluation {
  memory: SiteMemory;
  changes: AlertChange[];
  /** Queue one immediate rescan: a scheduled scan showed an alert-worthy change the scan before did not. */
  confirm: boolean;
  /** Confirmed grade before and after this scan (equal when it did not change). */
  grade: { from: Grade | null; to: Grade | null };
}

export interface EvaluationInput {
  memory: SiteMemory | null;
  observation: Observation;
  incidents: readonly IncidentSnapshot[];
  /** Keys muted on this site right now: incidents still open and close, but nobody is mailed. */
  muted: ReadonlySet<string>;
  settings: AlertSettings;
  now: number;
}

/** The smallest warning threshold the certificate has reached, or null above 30 days. */
export function certThreshold(daysLeft: number): number | null {
  let reached: number | null = null;
  for (const days of CERT_WARNING_DAYS) if (daysLeft <= days) reached = days;
  return reached;
}

function isAlertWorthy(key: AlertKey, severity: Severity, settings: AlertSettings): boolean {
  return key === CERT_EXPIRING_KEY || SEVERITY_RANK[severity] >= SEVERITY_RANK[settings.minSeverity];
}

function transition(incident: IncidentSnapshot | undefined, muted: boolean): { flap: Flap; notify: boolean } {
  if (incident?.flapping) return { flap: 'ongoing', notify: false };
  const transitions = (incident?.recentTransitions ?? 0) + 1;
  return { flap: transitions >= FLAP_TRANSITIONS ? 'starts' : null, notify: !muted };
}

type FindingEffect = 'open' | 'worse' | 'severity' | 'resolve' | 'silent';

function findingEffect(
  key: FindingId,
  before: Severity | undefined,
  seen: SeenFinding | undefined,
  incident: IncidentSnapshot | undefined,
  settings: AlertSettings,
): FindingEffect {
  if (!seen) return incident ? 'resolve' : 'silent';
  if (incident) {
    const rise = SEVERITY_RANK[seen.severity] - SEVERITY_RANK[incident.severity];
    // Certificate expiry speaks through its day thresholds, not through its severity.
    if (rise > 0 && key !== CERT_EXPIRING_KEY) return 'worse';
    return rise === 0 ? 'silent' : 'severity';
  }
  const rose = before === undefined || SEVERITY_RANK[seen.severity] > SEVERITY_RANK[before];
  return rose && isAlertWorthy(key, seen.severity, settings) ? 'open' : 'silent';
}

function gradeEffect(
  before: Grade | null,
  after: Grade | null,
  incident: IncidentSnapshot | undefined,
  settings: AlertSettings,
): 'open' | 'resolve' | 'silent' {
  if (settings.gradeDropSteps <= 0 || before === null || after === null) return 'silent';
  if (incident) {
    const base = incident.fromGrade ?? before;
    return gradeRank(after) - gradeRank(base) < settings.gradeDropSteps ? 'resolve' : 'silent';
  }
  return gradeRank(after) - gradeRank(before) >= settings.gradeDropSteps ? 'open' : 'silent';
}

/** Decides what one finished, reachable-or-unreachable scan means for the site's incidents. */
export function evaluateScan(input: EvaluationInput): ScanEvaluation {
  const { observation: seen, settings, now } = input;
  const memory = input.memory ?? EMPTY_MEMORY;
  const open = new Map<AlertKey, IncidentSnapshot>();
  const recentlyResolved = new Map<AlertKey, IncidentSnapshot>();
  for (const incident of input.incidents) {
    if (incident.status === 'open') open.set(incident.key, incident);
    else if (incident.resolvedAt !== null && now - incident.resolvedAt < FLAP_WINDOW_MS) {
      const known = recentlyResolved.get(incident.key);
      if (!known || (known.resolvedAt ?? 0) < incident.resolvedAt)
        recentlyResolved.set(incident.key, incident);
    }
  }
  const changes: AlertChange[] = [];
  const gradeBefore = memory.confirmed?.grade ?? null;

  const openChange = (
    key: AlertKey,
    severity: Severity,
    evidence: string,
    firstSeenAt: number,
    extra: Pick<Extract<AlertChange, { type: 'open' }>, 'grade' | 'certDaysLeft'> = {},
  ): void => {
    const earlier = recentlyResolved.get(key);
    changes.push({
      type: 'open',
      key,
      severity,
      evidence,
      reopen: earlier?.id ?? null,
      firstSeenAt,
      ...transition(earlier, input.muted.has(key)),
      ...extra,
    });
  };
  const resolveChange = (incident: IncidentSnapshot, superseded = false): void => {
    const { flap, notify } = transition(incident, input.muted.has(incident.key));
    changes.push({
      type: 'resolve',
      incidentId: incident.id,
      key: incident.key,
      flap,
      notify: notify && !superseded,
      superseded,
    });
  };

  if (!seen.reachable) {
    const streak = memory.unreachableStreak + 1;
    const since = memory.unreachableSince ?? seen.at;
    if (streak >= settings.unreachableAfter && !open.has(UNREACHABLE_KEY)) {
      const evidence = `${streak} scans in a row got no answer${seen.error ? `: ${seen.error}` : ''}`;
      openChange(UNREACHABLE_KEY, SITE_CONDITION_SEVERITY[UNREACHABLE_KEY], evidence, since);
    }
    return {
      memory: { ...memory, previous: seen, unreachableStreak: streak, unreachableSince: since },
      changes,
      confirm: false,
      grade: { from: gradeBefore, to: gradeBefore },
    };
  }

  const previous = memory.previous?.reachable ? memory.previous : null;
  const firstSeenAt = previous?.at ?? seen.at;
  let unconfirmed = false;

  const unreachable = open.get(UNREACHABLE_KEY);
  if (unreachable) {
    if (previous) resolveChange(unreachable);
    else unconfirmed = true;
  }

  const base: SiteMemory = { ...memory, previous: seen, unreachableStreak: 0, unreachableSince: null };
  if (!memory.confirmed) {
    // The site's first answer is its baseline: what it already had is not a regression.
    return {
      memory: {
        ...base,
        confirmed: { findings: severitiesOf(seen), grade: seen.grade, score: seen.score },
      },
      changes,
      confirm: unconfirmed && seen.trigger === 'schedule',
      grade: { from: null, to: seen.grade },
    };
  }

  const confirmed: ConfirmedState = { ...memory.confirmed, findings: { ...memory.confirmed.findings } };
  const keys = [
    ...new Set([...Object.keys(confirmed.findings), ...Object.keys(seen.findings)] as FindingId[]),
  ].sort();
  for (const key of keys) {
    const before = confirmed.findings[key];
    const now = seen.findings[key];
    if (before === now?.severity) continue;
    const effect = findingEffect(key, before, now, open.get(key), settings);
    // A change counts once the scan before showed it too; until then it is only a candidate.
    if (previous === null || previous.findings[key]?.severity !== now?.severity) {
      if (effect !== 'silent' && effect !== 'severity') unconfirmed = true;
      continue;
    }
    if (now) confirmed.findings[key] = now.severity;
    else delete confirmed.findings[key];
    const incident = open.get(key);
    if (effect === 'open' && now) openChange(key, now.severity, now.evidence, firstSeenAt);
    else if (effect === 'resolve' && incident)
      resolveChange(incident, key === CERT_EXPIRING_KEY && seen.findings['tls.cert.expired'] !== undefined);
    else if (effect === 'worse' && incident && now)
      changes.push({
        type: 'worse',
        incidentId: incident.id,
        key,
        from: incident.severity,
        to: now.severity,
        evidence: now.evidence,
        notify: !input.muted.has(key),
      });
    else if (effect === 'severity' && incident && now)
      changes.push({
        type: 'severity',
        incidentId: incident.id,
        key,
        to: now.severity,
        evidence: now.evidence,
      });
  }

  if (seen.grade !== confirmed.grade) {
    const gradeIncident = open.get(GRADE_DROP_KEY);
    const effect = gradeEffect(confirmed.grade, seen.grade, gradeIncident, settings);
    if (previous === null || previous.grade !== seen.grade) {
      if (effect !== 'silent') unconfirmed = true;
    } else {
      const from = confirmed.grade;
      confirmed.grade = seen.grade;
      confirmed.score = seen.score;
      const findingOpened = changes.some((change) => change.type === 'open' && change.key !== GRADE_DROP_KEY);
      // A drop that new findings explain is told through them; the grade is in every subject anyway.
      if (effect === 'open' && !findingOpened && from && seen.grade)
        openChange(
          GRADE_DROP_KEY,
          SITE_CONDITION_SEVERITY[GRADE_DROP_KEY],
          `grade ${from} → ${seen.grade} (score ${memory.confirmed.score ?? '?'} → ${seen.score ?? '?'})`,
          firstSeenAt,
          { grade: { from, to: seen.grade } },
        );
      else if (effect === 'resolve' && gradeIncident) resolveChange(gradeIncident);
    }
  } else if (previous !== null && previous.score === seen.score) {
    confirmed.score = seen.score;
  }

  const certWarning = nextCertWarning(memory, seen, open, changes, input.muted);
  return {
    memory: { ...base, confirmed, certWarning },
    changes,
    confirm: unconfirmed && seen.trigger === 'schedule',
    grade: { from: gradeBefore, to: confirmed.grade },
  };
}

/** Certificate expiry warns once per threshold while its incident is open; a new certificate starts over. */
function nextCertWarning(
  memory: SiteMemory,
  seen: Observation,
  open: ReadonlyMap<AlertKey, IncidentSnapshot>,
  changes: AlertChange[],
  muted: ReadonlySet<string>,
): SiteMemory['certWarning'] {
  const resolvedNow = changes.some((change) => change.type === 'resolve' && change.key === CERT_EXPIRING_KEY);
  const opened = changes.find(
    (change): change is Extract<AlertChange, { type: 'open' }> =>
      change.type === 'open' && change.key === CERT_EXPIRING_KEY,
  );
  const incident = open.get(CERT_EXPIRING_KEY);
  if (resolvedNow) return null;
  if (!seen.cert || !seen.findings[CERT_EXPIRING_KEY]) return memory.certWarning;
  const threshold = certThreshold(seen.cert.daysLeft);
  if (threshold === null) return memory.certWarning;
  const warning = { notAfter: seen.cert.notAfter, days: threshold };
  if (opened) {
    opened.certDaysLeft = seen.cert.daysLeft;
    return warning;
  }
  if (!incident) return memory.certWarning;
  const known = memory.certWarning;
  if (known && known.notAfter === seen.cert.notAfter && known.days <= threshold) return known;
  changes.push({
    type: 'cert',
    incidentId: incident.id,
    key: CERT_EXPIRING_KEY,
    daysLeft: seen.cert.daysLeft,
    threshold,
    notAfter: seen.cert.notAfter,
    notify: !muted.has(CERT_EXPIRING_KEY) && !incident.flapping,
  });
  return warning;
}

function severitiesOf(seen: Observation): ConfirmedState['findings'] {
  const findings: ConfirmedState['findings'] = {};
  for (const [key, finding] of Object.entries(seen.findings) as [FindingId, SeenFinding][])
    findings[key] = finding.severity;
  return findings;
}
