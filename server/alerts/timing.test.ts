import { describe, expect, it } from 'vitest';
import { digestDue, flappingSettled, latestDigestTime, reminderDue, retryDelayMs } from './timing';

const HOUR = 3_600_000;

describe('retryDelayMs', () => {
  it('doubles from 30 s, caps at an hour, and jitters within the upper half', () => {
    const low = (attempt: number) => retryDelayMs(attempt, () => 0);
    const high = (attempt: number) => retryDelayMs(attempt, () => 1);
    expect([1, 2, 3, 4].map(high)).toEqual([30_000, 60_000, 120_000, 240_000]);
    expect([1, 2, 3, 4].map(low)).toEqual([15_000, 30_000, 60_000, 120_000]);
    expect(high(12)).toBe(HOUR);
    expect(high(1_000)).toBe(HOUR);
    expect(low(1_000)).toBe(HOUR / 2);
    expect(retryDelayMs(3, () => 0.5, { baseMs: 100, maxMs: 1000 })).toBe(300);
  });
});

describe('reminderDue', () => {
  const open = { lastNotifiedAt: 0, acknowledged: false, muted: false, flapping: false };

  it('is due once the interval has passed since anyone was told', () => {
    expect(reminderDue(open, 24 * HOUR - 1, 24)).toBe(false);
    expect(reminderDue(open, 24 * HOUR, 24)).toBe(true);
  });

  it('never reminds of acknowledged, muted or flapping incidents, nor when reminders are off', () => {
    const late = 100 * HOUR;
    expect(reminderDue({ ...open, acknowledged: true }, late, 24)).toBe(false);
    expect(reminderDue({ ...open, muted: true }, late, 24)).toBe(false);
    expect(reminderDue({ ...open, flapping: true }, late, 24)).toBe(false);
    expect(reminderDue(open, late, 0)).toBe(false);
  });
});

describe('digest timing', () => {
  it('finds the last digest hour at or before now', () => {
    const now = Date.parse('2026-03-02T07:59:00.000Z');
    expect(new Date(latestDigestTime(now, 8)).toISOString()).toBe('2026-03-01T08:00:00.000Z');
    expect(new Date(latestDigestTime(now + 60_000, 8)).toISOString()).toBe('2026-03-02T08:00:00.000Z');
  });

  it('is due once per day, right after the digest hour', () => {
    const last = Date.parse('2026-03-01T08:00:30.000Z');
    expect(digestDue(last, Date.parse('2026-03-01T20:00:00.000Z'), 8)).toBe(false);
    expect(digestDue(last, Date.parse('2026-03-02T07:59:59.000Z'), 8)).toBe(false);
    expect(digestDue(last, Date.parse('2026-03-02T08:00:00.000Z'), 8)).toBe(true);
  });
});

describe('flappingSettled', () => {
  it('needs a whole hour without a transition', () => {
    expect(flappingSettled(0, HOUR - 1)).toBe(false);
    expect(flappingSettled(0, HOUR)).toBe(true);
  });
});
