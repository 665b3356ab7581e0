const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const relativeFormat = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });

/** "3 min ago", "in 2 hours", "just now": coarse enough to read at a glance. */
export function relativeTime(at: Date, now: Date): string {
  const delta = at.getTime() - now.getTime();
  const size = Math.abs(delta);
  if (size < 45_000) return delta <= 0 ? 'just now' : 'in a moment';
  if (size < 45 * MINUTE) return relativeFormat.format(Math.round(delta / MINUTE), 'minute');
  if (size < 36 * HOUR) return relativeFormat.format(Math.round(delta / HOUR), 'hour');
  if (size < 45 * DAY) return relativeFormat.format(Math.round(delta / DAY), 'day');
  if (size < 365 * DAY) return relativeFormat.format(Math.round(delta / (30 * DAY)), 'month');
  return relativeFormat.format(Math.round(delta / (365 * DAY)), 'year');
}

const absoluteFormat = new Intl.DateTimeFormat('en-GB', {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
});

export function absoluteTime(at: Date): string {
  return absoluteFormat.format(at);
}

/** 360 → "6 h", 1440 → "1 d", 90 → "90 min": how often a site is scanned. */
export function formatInterval(minutes: number): string {
  if (minutes % 1440 === 0) return `${minutes / 1440} d`;
  if (minutes % 60 === 0) return `${minutes / 60} h`;
  return `${minutes} min`;
}

export function formatDuration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** Tags typed as "eu, prod django" → ['eu', 'prod', 'django'] (the API normalises case). */
export function splitTagInput(text: string): string[] {
  return text
    .split(/[\s,;]+/)
    .map((tag) => tag.trim())
    .filter(Boolean);
}

export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** +5 / −30 with a real minus sign, as people write score changes. */
export function formatDelta(delta: number): string {
  return delta > 0 ? `+${delta}` : delta < 0 ? `−${-delta}` : '0';
}
