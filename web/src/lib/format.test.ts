import { describe, expect, it } from 'vitest';
import { formatDelta, formatInterval, relativeTime, splitTagInput } from './format';

const now = new Date('2026-11-24T10:00:00Z');
const ago = (ms: number) => new Date(now.getTime() - ms);

describe('relativeTime', () => {
  it('reads like a person would say it, past and future', () => {
    expect(relativeTime(ago(5_000), now)).toBe('just now');
    expect(relativeTime(ago(3 * 60_000), now)).toBe('3 minutes ago');
    expect(relativeTime(ago(-2 * 3_600_000), now)).toBe('in 2 hours');
    expect(relativeTime(ago(2 * 86_400_000), now)).toBe('2 days ago');
    expect(relativeTime(ago(400 * 86_400_000), now)).toBe('last year');
  });
});

describe('formatInterval', () => {
  it('uses the largest whole unit', () => {
    expect(formatInterval(360)).toBe('6 h');
    expect(formatInterval(1440)).toBe('1 d');
    expect(formatInterval(90)).toBe('90 min');
  });
});

describe('splitTagInput', () => {
  it('accepts commas, semicolons and spaces between tags', () => {
    expect(splitTagInput(' eu, prod;django  shop ')).toEqual(['eu', 'prod', 'django', 'shop']);
    expect(splitTagInput('  ')).toEqual([]);
  });
});

describe('formatDelta', () => {
  it('signs changes with a real minus', () => {
    expect(formatDelta(5)).toBe('+5');
    expect(formatDelta(-30)).toBe('−30');
    expect(formatDelta(0)).toBe('0');
  });
});
