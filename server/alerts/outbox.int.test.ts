import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedAdminAuthorization } from '../auth/testing';
import { type Fleet, SITE_PRESETS, startFleet } from '../testing/fleet';
import { type SmtpSink, startSmtpSink } from './testing/smtp-sink';

/**
 * The outbox across a hard crash: `vigil serve` runs as a child process, writes an alert mail while the
 * SMTP server is down, and is killed with SIGKILL; after a restart the mail is delivered exactly once.
 * Then the process is killed while the SMTP server holds a message mid-transfer: the delivery stays
 * claimed by the dead process until its lease ends (another live process could be the one sending it),
 * then the restarted process sends it again, once, with the same Message-ID.
 */

const BIN = fileURLToPath(new URL('../../bin/vigil.js', import.meta.url));
let fleet: Fleet;
let dataDir: string;
/** The API is for signed-in users: an admin's token, seeded before the first start. */
let authorization: string;
let smtpPort: number;
const children = new Set<ChildProcess>();
const output: string[] = [];

// biome-ignore lint/suspicious/noExplicitAny: each assertion states the shape it expects.
type Json = any;

/** A short mail lease, so the mail a killed sender held goes out again within seconds. */
const LEASE_MS = 10_000;

interface Child {
  process: ChildProcess;
  url: string;
}

function startVigil(): Promise<Child> {
  const child = spawn(process.execPath, [BIN, 'serve'], {
    env: {
      PATH: process.env.PATH,
      VIGIL_PORT: '0',
      VIGIL_HOST: '127.0.0.1',
      VIGIL_DATA_DIR: dataDir,
      VIGIL_DNS_SERVERS: fleet.dnsServer,
      VIGIL_ALLOW_PRIVATE: '1',
      NODE_EXTRA_CA_CERTS: fleet.caCertFile,
      VIGIL_SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      VIGIL_MAIL_FROM: 'Vigil <alerts@vigil.example.test>',
      VIGIL_PUBLIC_URL: 'https://vigil.example.test',
      VIGIL_TICK_CRON: '* * * * * *',
      VIGIL_ALERT_LEASE_SECONDS: String(LEASE_MS / 1000),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`vigil serve did not start:\n${output.join('')}`)),
      30_000,
    );
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`vigil serve exited with ${code}:\n${output.join('')}`));
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output.push(`${line}\n`);
      const listening = /^Vigil listening on (http:\/\/\S+)/.exec(line);
      if (listening?.[1]) {
        clearTimeout(timer);
        resolve({ process: child, url: listening[1] });
      }
    });
  });
}

function kill9(child: Child): Promise<void> {
  return new Promise((resolve) => {
    child.process.once('exit', () => resolve());
    child.process.kill('SIGKILL');
  });
}

async function api(child: Child, path: string, init?: RequestInit): Promise<Json> {
  const response = await fetch(`${child.url}${path}`, {
    ...init,
    headers: { authorization, ...(init?.headers as Record<string, string> | undefined) },
  });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

function post(child: Child, path: string, body?: unknown): Promise<Json> {
  return api(child, path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body ?? {}),
  });
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 45_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${output.join('')}`);
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

/** "Scan now", waited for. */
async function scanNow(child: Child, siteId: number): Promise<void> {
  const scan = await post(child, `/api/sites/${siteId}/scan`);
  await until(`scan ${scan.id}`, async () => {
    const current = await api(child, `/api/scans/${scan.id}`);
    return current.state === 'done' ? current : undefined;
  });
}

beforeAll(async () => {
  fleet = await startFleet({ shop: SITE_PRESETS.hardened });
  dataDir = mkdtempSync(join(tmpdir(), 'vigil-outbox-'));
  authorization = await seedAdminAuthorization(dataDir);
  // Take a free port for the SMTP server, then leave it closed: mail cannot go out yet.
  const probe = await startSmtpSink();
  smtpPort = probe.port;
  await probe.stop();
});

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await fleet?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the outbox survives kill -9', () => {
  it(
    'delivers a mail written before the crash exactly once after restart, and resends one cut off mid-send once',
    async () => {
      let vigil = await startVigil();
      await post(vigil, '/api/alerts/recipients', { email: 'ops@example.test' });
      const site = await post(vigil, '/api/sites', { host: fleet.host('shop') });
      await until('the first scan', async () => {
        const current = await api(vigil, `/api/sites/${site.id}`);
        return current.lastScanId && !current.activeScan ? current : undefined;
      });

      // DEBUG goes on; two scans in a row confirm it; the mail is written but SMTP is down.
      await fleet.reconfigure('shop', { behaviour: { debug: true } });
      await scanNow(vigil, site.id);
      await scanNow(vigil, site.id);
      const [incident] = (await api(vigil, '/api/incidents')).items;
      expect(incident).toMatchObject({ key: 'django.debug', status: 'open' });
      const waiting = await until('a failed first attempt', async () => {
        const detail = await api(vigil, `/api/incidents/${incident.id}`);
        const delivery = detail.mails[0]?.deliveries[0];
        return delivery?.attempts >= 1 ? delivery : undefined;
      });
      expect(waiting).toMatchObject({ status: 'pending', address: 'ops@example.test' });
      expect(waiting.lastError).toMatch(/ECONNREFUSED/);

      await kill9(vigil);
      const smtp: SmtpSink = await startSmtpSink({ port: smtpPort });
      try {
        vigil = await startVigil();
        const [alert] = await smtp.waitForCount(1, 30_000);
        expect(alert?.messageId).toBe(waiting.messageId);
        expect(alert?.headers.get('x-vigil-incident')).toBe(String(incident.id));
        expect(alert?.subject).toBe(`[Vigil] ${fleet.host('shop')}: Django DEBUG is on (A+ → F)`);
        await until('the delivery marked sent', async () => {
          const detail = await api(vigil, `/api/incidents/${incident.id}`);
          return detail.mails[0].deliveries[0].status === 'sent' ? true : undefined;
        });

        // Now the crash comes while the SMTP server has the whole message but has not answered yet.
        const held = smtp.holdNext();
        await fleet.reconfigure('shop', { behaviour: { debug: false } });
        await scanNow(vigil, site.id);
        await scanNow(vigil, site.id);
        await held;
        const detail = await api(vigil, `/api/incidents/${incident.id}`);
        const recoveryDelivery = detail.mails[1].deliveries[0];
        expect(recoveryDelivery.status).toBe('sending');
        await kill9(vigil);
        smtp.dropHeld();
        expect(smtp.messages).toHaveLength(1);

        vigil = await startVigil();
        const [, recovery] = await smtp.waitForCount(2, LEASE_MS + 30_000);
        expect(recovery?.messageId).toBe(recoveryDelivery.messageId);
        expect(recovery?.subject).toBe(
          `[Vigil] ${fleet.host('shop')}: resolved: Django DEBUG is on (F → A+)`,
        );
        await until('the recovery marked sent', async () => {
          const after = await api(vigil, `/api/incidents/${incident.id}`);
          return after.mails[1].deliveries[0].status === 'sent' ? after : undefined;
        });
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        expect(smtp.messages.map((mail) => mail.messageId)).toEqual([
          waiting.messageId,
          recoveryDelivery.messageId,
        ]);
        expect(output.join('')).toContain('alert mails in the outbox, sending now');
        expect(output.join('')).toContain('1 alert mails were being sent');
      } finally {
        vigil.process.kill('SIGTERM');
        await smtp.stop();
      }
    },
    120_000 + LEASE_MS,
  );
});
