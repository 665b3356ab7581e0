import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ScanTrigger } from '../db/schema';
import type { FindingId } from '../scan/catalogue';
import type { Grade, Severity } from '../scan/types';
import {
  type AlertChange,
  certThreshold,
  DEFAULT_ALERT_SETTINGS,
  evaluateScan,
  type IncidentSnapshot,
  type Observation,
  type ScanEvaluation,
  type SiteMemory,
} from './engine';
import { GRADE_DROP_KEY, UNREACHABLE_KEY } from './keys';

const MINUTE = 60_000;
const T0 = Date.parse('2026-03-01T12:00:00.000Z');

type Seen = Partial<Record<FindingId, Severity>>;

function observation(
  findings: Seen,
  options: {
    at: number;
    trigger?: ScanTrigger;
    grade?: Grade | null;
    reachable?: boolean;
    cert?: { notAfter: string; daysLeft: number };
  },
): Observation {
  return {
    scanId: Math.round(options.at / 1000),
    at: options.at,
    trigger: options.trigger ?? 'schedule',
    reachable: options.reachable ?? true,
    findings: Object.fromEntries(
      Object.entries(findings).map(([id, severity]) => [id, { severity, evidence: `seen ${id}` }]),
    ),
    grade: options.reachable === false ? null : (options.grade ?? 'A+'),
    score: options.reachable === false ? null : 100,
    cert: options.cert ?? null,
    error: options.reachable === false ? 'connection refused' : null,
  };
}

/**
 * A site over time: feeds observations through the engine and keeps incidents the way evaluate.ts does,
 * so each test reads as a story of scans.
 */
function site(settings = DEFAULT_ALERT_SETTINGS) {
  let memory: SiteMemory | null = null;
  let nextId = 1;
  const incidents: (IncidentSnapshot & { transitions: number[] })[] = [];
  const muted = new Set<string>();
  let clock = T0;

  function scan(
    findings: Seen,
    options: Omit<Parameters<typeof observation>[1], 'at'> & { after?: number } = {},
  ): ScanEvaluation {
    clock += options.after ?? 6 * 60 * MINUTE;
    const now = clock;
    const snapshots = incidents.map((incident) => ({
      ...incident,
      recentTransitions: incident.transitions.filter((at) => now - at < 60 * MINUTE).length,
    }));
    const result = evaluateScan({
      memory,
      observation: observation(findings, { ...options, at: now }),
      incidents: snapshots,
      muted,
      settings,
      now,
    });
    memory = result.memory;
    for (const change of result.changes) apply(change, now);
    return result;
  }

  function apply(change: AlertChange, now: number): void {
    if (change.type === 'open') {
      const earlier = incidents.find((incident) => incident.id === change.reopen);
      const incident = earlier ?? {
        id: nextId++,
        key: change.key,
        status: 'open' as const,
        severity: change.severity,
        resolvedAt: null,
        flapping: false,
        recentTransitions: 0,
        fromGrade: change.grade?.from ?? null,
        transitions: [],
      };
      Object.assign(incident, { status: 'open', severity: change.severity, resolvedAt: null });
      if (change.flap === 'starts') incident.flapping = true;
      incident.transitions.push(now);
      if (!earlier) incidents.push(incident);
    } else if (change.type === 'resolve') {
      const incident = incidents.find((candidate) => candidate.id === change.incidentId)!;
      Object.assign(incident, { status: 'resolved', resolvedAt: now });
      if (change.flap === 'starts') incident.flapping = true;
      incident.transitions.push(now);
    } else if (change.type === 'worse' || change.type === 'severity') {
      incidents.find((candidate) => candidate.id === change.incidentId)!.severity = change.to;
    }
  }

  return {
    scan,
    muted,
    open: () => incidents.filter((incident) => incident.status === 'open').map((incident) => incident.key),
    incidents,
    get memory() {
      return memory;
    },
  };
}

const kinds = (result: ScanEvaluation) => result.changes.map((change) => `${change.type} ${change.key}`);

describe('evaluateScan: confirmation', () => {
  it('takes the first scan as the baseline: what a site already has is no regression', () => {
    const s = site();
    const first = s.scan({ 'hsts.missing': 'high', 'django.debug': 'critical' }, { grade: 'F' });
    expect(first.changes).toEqual([]);
    expect(first.confirm).toBe(false);
    expect(s.memory?.confirmed?.findings).toEqual({ 'hsts.missing': 'high', 'django.debug': 'critical' });
    expect(kinds(s.scan({ 'hsts.missing': 'high', 'django.debug': 'critical' }, { grade: 'F' }))).toEqual([]);
  });

  it('asks for one confirmation rescan after a scheduled scan regresses, and opens the incident only when it agrees', () => {
    const s = site();
    s.scan({});
    const suspect = s.scan({ 'django.debug': 'critical' }, { grade: 'F' });
    expect(suspect.changes).toEqual([]);
    expect(suspect.confirm).toBe(true);
    const confirmed = s.scan(
      { 'django.debug': 'critical' },
      { grade: 'F', trigger: 'confirm', after: MINUTE },
    );
    expect(confirmed.confirm).toBe(false);
    expect(confirmed.changes).toEqual([
      expect.objectContaining({
        type: 'open',
        key: 'django.debug',
        severity: 'critical',
        notify: true,
        flap: null,
        reopen: null,
        firstSeenAt: T0 + 12 * 60 * MINUTE,
      }),
    ]);
    expect(confirmed.grade).toEqual({ from: 'A+', to: 'F' });
  });

  it('forgets a one-off blip the confirmation scan does not show, and never asks twice', () => {
    const s = site();
    s.scan({});
    expect(s.scan({ 'hsts.missing': 'high' }, { grade: 'C+' }).confirm).toBe(true);
    const confirmation = s.scan({}, { trigger: 'confirm', after: MINUTE });
    expect(confirmation.changes).toEqual([]);
    expect(confirmation.confirm).toBe(false);
    expect(s.memory?.confirmed?.findings).toEqual({});
    expect(s.scan({}).changes).toEqual([]);
  });

  it('does not rescan after a manual scan: the next scan of any kind confirms', () => {
    const s = site();
    s.scan({});
    const manual = s.scan({ 'hsts.missing': 'high' }, { trigger: 'manual', grade: 'C+' });
    expect(manual).toMatchObject({ changes: [], confirm: false });
    expect(
      kinds(s.scan({ 'hsts.missing': 'high' }, { trigger: 'manual', grade: 'C+', after: MINUTE })),
    ).toEqual(['open hsts.missing']);
  });

  it('does not chain confirmations when the confirmation disagrees with the scan before', () => {
    const s = site();
    s.scan({});
    s.scan({ 'tls.cert.expiring': 'medium' });
    const disagreeing = s.scan({ 'tls.cert.expiring': 'high' }, { trigger: 'confirm', after: MINUTE });
    expect(disagreeing).toMatchObject({ changes: [], confirm: false });
  });

  it('never turns a baseline finding that one scan missed into an alert when it comes back', () => {
    const s = site();
    s.scan({ 'hsts.missing': 'high' }, { grade: 'C+' });
    expect(s.scan({}, { grade: 'A+' }).confirm).toBe(false);
    expect(s.scan({ 'hsts.missing': 'high' }, { grade: 'C+' }).changes).toEqual([]);
    expect(s.open()).toEqual([]);
  });

  it('confirms recoveries the same way and resolves the incident', () => {
    const s = site();
    s.scan({});
    s.scan({ 'django.debug': 'critical' }, { grade: 'F' });
    s.scan({ 'django.debug': 'critical' }, { grade: 'F', trigger: 'confirm', after: MINUTE });
    const gone = s.scan({});
    expect(gone).toMatchObject({ changes: [], confirm: true });
    const confirmed = s.scan({}, { trigger: 'confirm', after: MINUTE });
    expect(confirmed.changes).toEqual([
      expect.objectContaining({ type: 'resolve', key: 'django.debug', notify: true, flap: null }),
    ]);
    expect(confirmed.grade).toEqual({ from: 'F', to: 'A+' });
    expect(s.open()).toEqual([]);
  });
});

describe('evaluateScan: what counts as a regression', () => {
  it('ignores new findings below the alert threshold, then alerts when one rises to it', () => {
    const s = site();
    s.scan({});
    expect(s.scan({ 'nosniff.missing': 'low' }).confirm).toBe(false);
    expect(s.scan({ 'nosniff.missing': 'low' }).changes).toEqual([]);
    expect(s.memory?.confirmed?.findings).toEqual({ 'nosniff.missing': 'low' });
    const lowered = site({ ...DEFAULT_ALERT_SETTINGS, minSeverity: 'low' });
    lowered.scan({});
    lowered.scan({ 'nosniff.missing': 'low' });
    expect(kinds(lowered.scan({ 'nosniff.missing': 'low' }))).toEqual(['open nosniff.missing']);
  });

  it('opens an incident when a baseline finding rises in severity, and says "worse" when an open one rises', () => {
    const s = site();
    s.scan({ 'csp.missing': 'medium' });
    s.scan({ 'csp.missing': 'high' });
    expect(kinds(s.scan({ 'csp.missing': 'high' }))).toEqual(['open csp.missing']);
    s.scan({ 'csp.missing': 'critical' });
    const worse = s.scan({ 'csp.missing': 'critical' });
    expect(worse.changes).toEqual([
      expect.objectContaining({
        type: 'worse',
        key: 'csp.missing',
        from: 'high',
        to: 'critical',
        notify: true,
      }),
    ]);
    s.scan({ 'csp.missing': 'medium' });
    expect(s.scan({ 'csp.missing': 'medium' }).changes).toEqual([
      expect.objectContaining({ type: 'severity', key: 'csp.missing', to: 'medium' }),
    ]);
  });

  it('opens grade.drop only when no finding explains the drop, and resolves it when the grade recovers', () => {
    const s = site();
    s.scan({}, { grade: 'A' });
    const lows: Seen = {
      'nosniff.missing': 'low',
      'referrer-policy.missing': 'low',
      'tls.protocol.no-tls13': 'low',
    };
    s.scan(lows, { grade: 'B+' });
    expect(kinds(s.scan(lows, { grade: 'B+' }))).toEqual([`open ${GRADE_DROP_KEY}`]);
    expect(s.incidents[0]?.fromGrade).toBe('A');
    s.scan({}, { grade: 'A' });
    expect(kinds(s.scan({}, { grade: 'A' }))).toEqual([`resolve ${GRADE_DROP_KEY}`]);

    const explained = site();
    explained.scan({}, { grade: 'A+' });
    explained.scan({ 'hsts.missing': 'high' }, { grade: 'C+' });
    expect(kinds(explained.scan({ 'hsts.missing': 'high' }, { grade: 'C+' }))).toEqual(['open hsts.missing']);
  });

  it('leaves grade drops alone when the setting is 0', () => {
    const s = site({ ...DEFAULT_ALERT_SETTINGS, gradeDropSteps: 0 });
    s.scan({}, { grade: 'A' });
    s.scan({}, { grade: 'D' });
    expect(s.scan({}, { grade: 'D' }).changes).toEqual([]);
  });

  it('mutes tell nobody but still track the incident', () => {
    const s = site();
    s.muted.add('django.debug');
    s.scan({});
    s.scan({ 'django.debug': 'critical' }, { grade: 'F' });
    const opened = s.scan({ 'django.debug': 'critical' }, { grade: 'F' });
    expect(opened.changes).toEqual([expect.objectContaining({ type: 'open', notify: false })]);
    expect(s.open()).toEqual(['django.debug']);
  });
});

describe('evaluateScan: unreachable sites', () => {
  it('opens site.unreachable on the Nth unreachable scan in a row, without touching finding incidents', () => {
    const s = site();
    s.scan({});
    s.scan({ 'hsts.missing': 'high' });
    s.scan({ 'hsts.missing': 'high' });
    expect(s.open()).toEqual(['hsts.missing']);
    expect(s.scan({}, { reachable: false }).changes).toEqual([]);
    expect(s.scan({}, { reachable: false })).toMatchObject({ changes: [], confirm: false });
    const third = s.scan({}, { reachable: false });
    expect(third.changes).toEqual([
      expect.objectContaining({
        type: 'open',
        key: UNREACHABLE_KEY,
        severity: 'high',
        evidence: '3 scans in a row got no answer: connection refused',
      }),
    ]);
    expect(s.scan({}, { reachable: false }).changes).toEqual([]);
    expect(s.open()).toEqual(['hsts.missing', UNREACHABLE_KEY]);

    // Back up (HSTS fixed meanwhile): the first reachable scan is only a candidate for both.
    const back = s.scan({});
    expect(back).toMatchObject({ changes: [], confirm: true });
    expect(kinds(s.scan({}, { trigger: 'confirm', after: MINUTE }))).toEqual([
      `resolve ${UNREACHABLE_KEY}`,
      'resolve hsts.missing',
    ]);
  });
});

describe('evaluateScan: flapping', () => {
  it('folds the third open/close within an hour into one flapping notice, then stays quiet', () => {
    const s = site();
    s.scan({});
    const debug = { 'django.debug': 'critical' } as const;
    const every5 = { after: 5 * MINUTE, trigger: 'manual' as const };
    const notices: string[] = [];
    const record = (result: ScanEvaluation) => {
      for (const change of result.changes)
        if ('notify' in change && change.notify)
          notices.push(`${change.type}${'flap' in change && change.flap ? `:${change.flap}` : ''}`);
    };
    for (let round = 0; round < 4; round++) {
      record(s.scan(debug, every5));
      record(s.scan(debug, every5));
      record(s.scan({}, every5));
      record(s.scan({}, every5));
    }
    expect(notices).toEqual(['open', 'resolve', 'open:starts']);
    expect(s.incidents).toHaveLength(1);
    expect(s.incidents[0]).toMatchObject({ flapping: true, status: 'resolved' });
  });

  it('reopens the same incident when a fixed problem returns within the hour, not a new one', () => {
    const s = site();
    s.scan({});
    s.scan({ 'hsts.missing': 'high' });
    s.scan({ 'hsts.missing': 'high' }, { after: 5 * MINUTE });
    s.scan({}, { after: 5 * MINUTE });
    s.scan({}, { after: 5 * MINUTE });
    s.scan({ 'hsts.missing': 'high' }, { after: 5 * MINUTE });
    const back = s.scan({ 'hsts.missing': 'high' }, { after: 5 * MINUTE });
    expect(back.changes).toEqual([expect.objectContaining({ type: 'open', reopen: 1, flap: 'starts' })]);
    expect(s.incidents).toHaveLength(1);
  });
});

describe('evaluateScan: certificate expiry', () => {
  const cert = (daysLeft: number, notAfter = '2026-04-01T00:00:00.000Z') => ({ notAfter, daysLeft });

  it('warns at 30, 14, 7 and 1 days once each, and starts over for a new certificate', () => {
    const s = site();
    s.scan({}, { cert: cert(40) });
    s.scan({ 'tls.cert.expiring': 'medium' }, { cert: cert(20) });
    const opened = s.scan({ 'tls.cert.expiring': 'medium' }, { cert: cert(20), after: MINUTE });
    expect(opened.changes).toEqual([
      expect.objectContaining({ type: 'open', key: 'tls.cert.expiring', certDaysLeft: 20 }),
    ]);
    const warnings: number[] = [];
    for (const daysLeft of [19, 15, 14, 13, 12, 8, 7, 6, 6, 2, 1, 1, 0]) {
      const severity = daysLeft <= 7 ? 'high' : 'medium';
      const result = s.scan(
        { 'tls.cert.expiring': severity },
        { cert: cert(daysLeft), after: 12 * 60 * MINUTE },
      );
      for (const change of result.changes) {
        expect(change.type === 'cert' || change.type === 'severity').toBe(true);
        if (change.type === 'cert') warnings.push(change.daysLeft);
      }
    }
    expect(warnings).toEqual([14, 7, 1]);

    // Replaced by another short-lived certificate: it is warned about afresh.
    const renewed = s.scan({ 'tls.cert.expiring': 'medium' }, { cert: cert(25, '2026-05-01T00:00:00.000Z') });
    expect(renewed.changes).toContainEqual(expect.objectContaining({ type: 'cert', threshold: 30 }));
  });

  it('ignores the alert threshold for certificate expiry', () => {
    const s = site({ ...DEFAULT_ALERT_SETTINGS, minSeverity: 'critical' });
    s.scan({}, { cert: cert(40) });
    s.scan({ 'tls.cert.expiring': 'medium' }, { cert: cert(20) });
    expect(kinds(s.scan({ 'tls.cert.expiring': 'medium' }, { cert: cert(20) }))).toEqual([
      'open tls.cert.expiring',
    ]);
  });

  it('resolves the expiry warning silently when the certificate has expired (its own incident says so)', () => {
    const s = site();
    s.scan({}, { cert: cert(40) });
    s.scan({ 'tls.cert.expiring': 'high' }, { cert: cert(1) });
    s.scan({ 'tls.cert.expiring': 'high' }, { cert: cert(1) });
    s.scan({ 'tls.cert.expired': 'critical' }, { grade: 'F', cert: cert(-1) });
    const expired = s.scan({ 'tls.cert.expired': 'critical' }, { grade: 'F', cert: cert(-1) });
    expect(expired.changes).toEqual([
      expect.objectContaining({ type: 'open', key: 'tls.cert.expired', notify: true }),
      expect.objectContaining({ type: 'resolve', key: 'tls.cert.expiring', notify: false, superseded: true }),
    ]);
  });

  it.each([
    [45, null],
    [30, 30],
    [20, 30],
    [14, 14],
    [8, 14],
    [7, 7],
    [2, 7],
    [1, 1],
    [0, 1],
  ])('%i days left reaches the %s-day threshold', (daysLeft, threshold) => {
    expect(certThreshold(daysLeft)).toBe(threshold);
  });
});

describe('evaluateScan: properties over random scan sequences', () => {
  const ids: FindingId[] = ['django.debug', 'hsts.missing', 'csp.missing', 'nosniff.missing'];
  const severities: Severity[] = ['critical', 'high', 'medium', 'low'];
  const scanArbitrary = fc.record({
    reachable: fc.boolean(),
    trigger: fc.constantFrom<ScanTrigger>('schedule', 'manual', 'confirm'),
    findings: fc.dictionary(fc.constantFrom(...ids), fc.constantFrom(...severities), { maxKeys: 3 }),
    minutes: fc.integer({ min: 1, max: 600 }),
  });

  it('opens only what two reachable scans in a row showed, never twice at once, and repeats nothing', () => {
    fc.assert(
      fc.property(fc.array(scanArbitrary, { minLength: 1, maxLength: 40 }), (scans) => {
        const s = site();
        let previous: (typeof scans)[number] | null = null;
        for (const step of scans) {
          const openBefore = s.open();
          const result = s.scan(step.findings as Seen, {
            reachable: step.reachable,
            trigger: step.trigger,
            after: step.minutes * MINUTE,
          });
          for (const change of result.changes) {
            if (change.key === UNREACHABLE_KEY || change.key === GRADE_DROP_KEY) continue;
            const key = change.key as FindingId;
            if (change.type === 'open') {
              expect(openBefore).not.toContain(change.key);
              expect(step.reachable && previous?.reachable).toBe(true);
              expect(step.findings[key]).toBe(change.severity);
              expect(previous?.findings[key]).toBe(change.severity);
            }
            if (change.type === 'resolve') {
              expect(step.reachable && previous?.reachable).toBe(true);
              expect(step.findings[key]).toBeUndefined();
              expect(previous?.findings[key]).toBeUndefined();
            }
          }
          if (result.confirm) expect(step.trigger).toBe('schedule');
          previous = step;
        }
        // Once things are stable, scanning again changes nothing: no resend however many scans follow.
        const last = scans[scans.length - 1]!;
        s.scan(last.findings as Seen, { reachable: true, trigger: 'manual' });
        s.scan(last.findings as Seen, { reachable: true, trigger: 'manual' });
        for (let again = 0; again < 5; again++) {
          const result = s.scan(last.findings as Seen, { reachable: true, trigger: 'schedule' });
          expect(
            result.changes.filter((change) => change.type !== 'resolve' || change.key !== GRADE_DROP_KEY),
          ).toEqual([]);
          expect(result.confirm).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
  });
});
