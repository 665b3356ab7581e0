/**
 * One alert process for the concurrency test (concurrency.test.ts), run as its own Node process:
 * `node --import tsx alert-racer.ts <data dir or postgres:// URL> <smtp URL> <now, ISO>`.
 * It opens the database, says `ready`, waits for `go` on stdin (so every racer starts together), then
 * does what `vigil serve` does at start-up — catch up on scans not yet evaluated, re-arm the outbox —
 * and runs outbox rounds until one finds nothing to do. Its clock stands still at <now>. It prints one
 * JSON line with what it did.
 */
import { createInterface } from 'node:readline';
import { openDatabase } from '../../db';
import { createAlerts, createSmtpMailer } from '..';

const MAIL_FROM = 'Vigil <alerts@vigil.example.test>';

const [location, smtpUrl, nowIso] = process.argv.slice(2);
if (!location || !smtpUrl || !nowIso) throw new Error('usage: alert-racer <database> <smtp URL> <now>');
const at = new Date(nowIso);

const database = openDatabase(location);
const logs: string[] = [];
const alerts = createAlerts({
  db: database.db,
  mailer: createSmtpMailer({ url: smtpUrl, from: MAIL_FROM, timeoutMs: 10_000 }),
  mailFrom: MAIL_FROM,
  publicUrl: null,
  now: () => at,
  random: () => 0.5,
  pollMs: 0,
  log: (line) => logs.push(line),
});

const input = createInterface({ input: process.stdin });
await new Promise<void>((resolve) => {
  input.on('line', (line) => {
    if (line.trim() === 'go') resolve();
  });
  process.stdout.write('ready\n');
});
input.close();

await alerts.start();
const done = { rounds: 0, caughtUp: 0, sent: 0, failed: 0, reminders: 0, settled: 0, digests: 0 };
for (;;) {
  const round = await alerts.runOnce();
  done.rounds += 1;
  done.caughtUp += round.caughtUp;
  done.sent += round.sent;
  done.failed += round.failed;
  done.reminders += round.reminders;
  done.settled += round.settled;
  done.digests += round.digests;
  const { caughtUp, sent, failed, reminders, settled, digests } = round;
  if (caughtUp + sent + failed + reminders + settled + digests === 0) break;
}
await alerts.stop({ graceMs: 0 });
await database.close();
process.stdout.write(`${JSON.stringify({ ...done, logs })}\n`);
