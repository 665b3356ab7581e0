import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { and, asc, eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../db';
import { alertDeliveries, alertSiteStates, incidentEvents, incidents, scans } from '../db/schema';
import { createTempDatabase, type TempDatabase } from '../db/temp-database';
import { TEST_DEFAULTS } from '../routes/test-app';
import type { Finding } from '../scan/types';
import { scanResultFor } from '../scheduler/scripted-scan';
import { createRecipient } from '../services/alert-recipients';
import { claimScan, completeScan, requestScan } from '../services/scan-queue';
import { createSite } from '../services/sites';
import { evaluateSiteScans } from './evaluate';
import { claimDueDeliveries, enqueueMail, markFailed, markSent, rearmDeliveries } from './outbox';
import { DEBUG_FINDING, HSTS_FINDING } from './testing/alert-world';
import { type SmtpSink, startSmtpSink } from './testing/smtp-sink';

/**
 * Several Vigil processes evaluate and send alerts from one database: two racer processes (alert-racer.ts,
 * each with its own connection or pool) start at the same moment over the same backlog — scans recorded
 * but not evaluated, then reminders and a digest coming due — and every incident is mailed exactly once
 * to each recipient. Runs on SQLite (two connections to one file) and PostgreSQL (two pools).
 */

const RACER = fileURLToPath(new URL('./testing/alert-racer.ts', import.meta.url));
const RACERS = 2;
const SITES = 16;
const HOUR = 3_600_000;
const START = new Date('2026-03-01T09:00:00.000Z');

interface RacerReport {
  rounds: number;
  sent: number;
  reminders: number;
  digests: number;
  logs: string[];
}

const cleanups: (() => Promise<unknown>)[] = [];
const children = new Set<ChildProcess>();
afterEach(async () => {
  for (const child of children) child.kill('SIGKILL');
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function startRacer(database: TempDatabase, smtp: SmtpSink, at: Date) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', RACER, database.url, smtp.url, at.toISOString()],
    {
      env: { PATH: process.env.PATH },
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  children.add(child);
  const errors: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) => errors.push(chunk.toString()));
  const lines = createInterface({ input: child.stdout! });
  const ready = new Promise<void>((resolve) => lines.once('line', () => resolve()));
  const finished = new Promise<RacerReport>((resolve, reject) => {
    let report: RacerReport | null = null;
    lines.on('line', (line) => {
      if (line.startsWith('{')) report = JSON.parse(line) as RacerReport;
    });
    child.once('exit', (code) => {
      children.delete(child);
      if (code === 0 && report) resolve(report);
      else reject(new Error(`alert racer exited with ${code}:\n${errors.join('')}`));
    });
  });
  return { ready, finished, go: () => child.stdin?.end('go\n') };
}

/** Every racer opens the database first, then all are let go at once. */
async function race(database: TempDatabase, smtp: SmtpSink, at: Date): Promise<RacerReport[]> {
  const racers = Array.from({ length: RACERS }, () => startRacer(database, smtp, at));
  await Promise.all(racers.map((racer) => racer.ready));
  for (const racer of racers) racer.go();
  const reports = await Promise.all(racers.map((racer) => racer.finished));
  for (const report of reports)
    expect(report.logs.filter((line) => /could not|failed/.test(line))).toEqual([]);
  return reports;
}

/** A finished scan of the site seeing `findings`, recorded as a worker records it, not evaluated. */
async function recordScan(database: TempDatabase, siteId: number, findings: readonly Finding[], at: Date) {
  const context = { db: database.db, now: () => at };
  const { scan } = await requestScan({ ...context, input: { siteId } });
  await claimScan({ ...context, input: { scanId: scan.id, worker: 'test', region: null } });
  const host = `site${siteId}.example.test`;
  await completeScan({
    ...context,
    random: () => 0.5,
    input: { scanId: scan.id, result: scanResultFor(host, findings, { scannedAt: at }), worker: 'test' },
  });
  return scan.id;
}

describe('several alert processes over one database', () => {
  it('evaluate each scan once, in order, and send each incident one mail per recipient, then one reminder and one digest', async () => {
    const database = await createTempDatabase();
    cleanups.push(() => database.remove());
    const smtp = await startSmtpSink();
    cleanups.push(() => smtp.stop());
    const ctx = { db: database.db, now: () => START, defaults: TEST_DEFAULTS };
    const io = { db: database.db, now: () => START, mail: { publicUrl: null, domain: 'vigil.example.test' } };

    await createRecipient({ ...ctx, input: { email: 'ops@example.test' } });
    await createRecipient({ ...ctx, input: { email: 'daily@example.test', mode: 'digest' } });
    // Each site has a baseline the engine has seen, then two manual scans of a regression it has not:
    // the second confirms the first, so evaluating both in order opens one incident per site.
    const siteIds: number[] = [];
    const newestScan = new Map<number, number>();
    for (let index = 0; index < SITES; index++) {
      const site = await createSite({ ...ctx, input: { host: `site${index + 1}.example.test` } });
      siteIds.push(site.id);
      await recordScan(database, site.id, [], START);
      await evaluateSiteScans(io, site.id);
      // Critical DEBUG reaches the digest recipient at once too; HSTS (high) waits for the digest.
      const regression = index % 2 === 0 ? DEBUG_FINDING : HSTS_FINDING;
      const seen = new Date(START.getTime() + 10 * 60_000);
      await recordScan(database, site.id, [regression], seen);
      newestScan.set(site.id, await recordScan(database, site.id, [regression], seen));
    }

    const evaluatedAt = new Date(START.getTime() + HOUR);
    const first = await race(database, smtp, evaluatedAt);
    console.log(`evaluation and sending: ${JSON.stringify(first)}`);

    const states = await database.db.select().from(alertSiteStates).orderBy(asc(alertSiteStates.siteId));
    expect(states.map((state) => [state.siteId, state.lastScanId])).toEqual(
      siteIds.map((id) => [id, newestScan.get(id)]),
    );
    const opened = await database.db
      .select({ incidentId: incidentEvents.incidentId, siteId: incidents.siteId })
      .from(incidentEvents)
      .innerJoin(incidents, eq(incidents.id, incidentEvents.incidentId))
      .where(eq(incidentEvents.type, 'opened'))
      .orderBy(asc(incidents.siteId));
    expect(opened.map((row) => row.siteId)).toEqual(siteIds);
    // Manual scans confirm each other: no confirmation scan was asked for, however many processes looked.
    expect(await database.db.select().from(scans).where(eq(scans.trigger, 'confirm'))).toEqual([]);

    const secondAt = new Date(evaluatedAt.getTime() + 25 * HOUR);
    const second = await race(database, smtp, secondAt);
    console.log(`reminders and digests: ${JSON.stringify(second)}`);
    expect(second.reduce((sum, report) => sum + report.reminders, 0)).toBe(SITES);
    expect(second.reduce((sum, report) => sum + report.digests, 0)).toBe(1);
    const reminded = await database.db
      .select({ incidentId: incidentEvents.incidentId })
      .from(incidentEvents)
      .where(eq(incidentEvents.type, 'reminded'))
      .orderBy(asc(incidentEvents.incidentId));
    expect(reminded.map((row) => row.incidentId)).toEqual(
      opened.map((row) => row.incidentId).sort((a, b) => a - b),
    );

    // Every delivery went out once: as many messages as deliveries, no Message-ID twice.
    const deliveries = await database.db.select().from(alertDeliveries).orderBy(asc(alertDeliveries.id));
    expect(deliveries.every((delivery) => delivery.status === 'sent' && delivery.attempts === 1)).toBe(true);
    const messageIds = smtp.messages.map((mail) => mail.messageId);
    expect(new Set(messageIds).size).toBe(messageIds.length);
    expect([...messageIds].sort()).toEqual(deliveries.map((delivery) => delivery.messageId).sort());

    // Per recipient: one mail opening each incident, one reminder of it, and one digest for daily.
    const mailsTo = (address: string, subject: RegExp) =>
      smtp.messages.filter((mail) => mail.envelopeTo.includes(address) && subject.test(mail.subject ?? ''));
    const incidentsOf = (mails: typeof smtp.messages) =>
      mails.map((mail) => Number(mail.headers.get('x-vigil-incident'))).sort((a, b) => a - b);
    const allIncidents = opened.map((row) => row.incidentId).sort((a, b) => a - b);
    const critical = (
      await database.db
        .select({ id: incidents.id })
        .from(incidents)
        .where(and(eq(incidents.key, 'django.debug'), eq(incidents.status, 'open')))
        .orderBy(asc(incidents.id))
    ).map((row) => row.id);
    expect(critical).toHaveLength(SITES / 2);
    expect(
      incidentsOf(mailsTo('ops@example.test', /^\[Vigil\] site\d+\.example\.test: (?!still open)/)),
    ).toEqual(allIncidents);
    expect(incidentsOf(mailsTo('ops@example.test', /still open/))).toEqual(allIncidents);
    expect(
      incidentsOf(mailsTo('daily@example.test', /^\[Vigil\] site\d+\.example\.test: (?!still open)/)),
    ).toEqual(critical);
    expect(incidentsOf(mailsTo('daily@example.test', /still open/))).toEqual(critical);
    expect(mailsTo('daily@example.test', /Daily digest/)).toHaveLength(1);
  }, 120_000);

  it('leave a delivery to the sender that claimed it until its lease ends, then another sends it, with the same Message-ID', async () => {
    const database = await createTempDatabase();
    cleanups.push(() => database.remove());
    // A second process's handle on the same database: its own connection (SQLite) or pool (PostgreSQL).
    const other = openDatabase(database.url);
    cleanups.push(() => other.close());
    const ctx = { db: database.db, now: () => START, defaults: TEST_DEFAULTS };
    const recipient = await createRecipient({ ...ctx, input: { email: 'ops@example.test' } });
    await database.db.transaction((tx) =>
      enqueueMail(tx, {
        kind: 'change',
        siteId: null,
        rendered: { subject: 'a change', text: 'text', html: '<p>html</p>' },
        incidentIds: [],
        recipients: [recipient],
        at: START,
        domain: 'vigil.example.test',
      }),
    );
    const leaseMs = 60_000;
    const later = (ms: number) => new Date(START.getTime() + ms);

    const [first] = await claimDueDeliveries(database.db, { at: START, limit: 10, leaseMs });
    expect(first).toMatchObject({ attempts: 1, mail: { to: 'ops@example.test' } });
    // The first sender goes quiet mid-send. Another process starting up leaves the claim alone...
    expect(await rearmDeliveries(other.db, later(1000))).toEqual({ rearmed: 0, leased: 1 });
    // ...and cannot take it while the lease holds.
    expect(await claimDueDeliveries(other.db, { at: later(leaseMs - 1), limit: 10, leaseMs })).toEqual([]);
    const [second] = await claimDueDeliveries(other.db, { at: later(leaseMs), limit: 10, leaseMs });
    expect(second).toMatchObject({ id: first!.id, attempts: 2, mail: { messageId: first!.mail.messageId } });

    // The first sender comes back too late: what it reports changes nothing.
    expect(await markSent(database.db, first!, later(leaseMs + 10))).toBe(false);
    await markFailed(database.db, {
      claim: first!,
      error: 'late',
      permanent: false,
      at: later(leaseMs + 10),
      random: () => 0.5,
    });
    expect((await database.db.select().from(alertDeliveries))[0]).toMatchObject({
      status: 'sending',
      attempts: 2,
      lastError: null,
      nextAttemptAt: later(2 * leaseMs),
    });
    expect(await markSent(other.db, second!, later(leaseMs + 20))).toBe(true);
    const [row] = await database.db.select().from(alertDeliveries);
    expect(row).toMatchObject({ status: 'sent', attempts: 2, lastError: null, sentAt: later(leaseMs + 20) });
  });
});
