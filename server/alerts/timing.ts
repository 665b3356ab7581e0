import { FLAP_WINDOW_MS } from './engine';

/** When periodic alert work is due: reminders, the end of flapping, digests and delivery retries. */

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

export interface RetryPolicy {
  baseMs: number;
  maxMs: number;
}

/** 30 s, 1 min, 2 min, … up to an hour between attempts; a mail is never given up on for a transient error. */
export const DEFAULT_RETRY: RetryPolicy = { baseMs: 30_000, maxMs: HOUR_MS };

/**
 * Wait before the next attempt after `attempt` failed ones: exponential, capped, with "equal jitter"
 * (half fixed, half random) so that many mails failing together do not retry in lockstep.
 */
export function retryDelayMs(
  attempt: number,
  random: () => number,
  policy: RetryPolicy = DEFAULT_RETRY,
): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

export interface ReminderCandidate {
  lastNotifiedAt: number;
  acknowledged: boolean;
  muted: boolean;
  flapping: boolean;
}

/** An open incident nobody has acknowledged is mailed again every `reminderHours`; 0 turns reminders off. */
export function reminderDue(incident: ReminderCandidate, now: number, reminderHours: number): boolean {
  if (reminderHours <= 0 || incident.acknowledged || incident.muted || incident.flapping) return false;
  return now - incident.lastNotifiedAt >= reminderHours * HOUR_MS;
}

/** A flapping incident has settled when it has neither opened nor closed for a whole flap window. */
export function flappingSettled(lastTransitionAt: number, now: number): boolean {
  return now - lastTransitionAt >= FLAP_WINDOW_MS;
}

/** The most recent `digestHour`:00 UTC at or before `now`. */
export function latestDigestTime(now: number, digestHour: number): number {
  const today = Math.floor(now / DAY_MS) * DAY_MS + digestHour * HOUR_MS;
  return today <= now ? today : today - DAY_MS;
}

/** A digest recipient gets one digest per day, at the first chance after `digestHour`:00 UTC. */
export function digestDue(lastDigestAt: number, now: number, digestHour: number): boolean {
  return lastDigestAt < latestDigestTime(now, digestHour);
}
