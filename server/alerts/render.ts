import type { MailKind } from '../db/schema';
import type { Grade, Severity } from '../scan/types';
import { SEVERITY_RANK } from '../scan/types';
import { type AlertKey, describeKey } from './keys';

/**
 * Alert mails as plain text and HTML, from a model the engine's I/O builds. Titles, explanations,
 * Django settings and fixes come from the finding catalogue (through describeKey); evidence is text a
 * scanned server chose, so it is cleaned for the text part and escaped for the HTML part.
 */

export type ItemEvent =
  | 'opened'
  | 'reopened'
  | 'worse'
  | 'cert'
  | 'flapping'
  | 'resolved'
  | 'reminder'
  | 'settled';

export interface MailItem {
  incidentId: number;
  key: AlertKey;
  event: ItemEvent;
  severity: Severity;
  evidence: string;
  /** When the problem was first seen. */
  since: Date;
  /** When this change was confirmed (or, for reminders, when the mail was made). */
  at: Date;
  /** Whether the incident is open after this change. */
  open: boolean;
  previousSeverity?: Severity;
  certDaysLeft?: number;
  /** For `flapping`: opens and resolutions within the last hour. */
  transitions?: number;
}

export interface MailSite {
  id: number;
  host: string;
}

export interface SiteMailModel {
  kind: Exclude<MailKind, 'digest'>;
  site: MailSite;
  items: MailItem[];
  grade: { from: Grade | null; to: Grade | null };
  /** `VIGIL_PUBLIC_URL`; without it the mail has no link. */
  publicUrl: string | null;
}

export interface DigestModel {
  from: Date;
  to: Date;
  sites: { site: MailSite; items: MailItem[] }[];
  publicUrl: string | null;
}

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

const EVENT_ORDER: ItemEvent[] = [
  'opened',
  'reopened',
  'worse',
  'cert',
  'flapping',
  'reminder',
  'settled',
  'resolved',
];

const EVENT_LABEL: Record<ItemEvent, string> = {
  opened: 'NEW',
  reopened: 'BACK',
  worse: 'WORSE',
  cert: 'EXPIRING',
  flapping: 'FLAPPING',
  resolved: 'FIXED',
  reminder: 'STILL OPEN',
  settled: 'SETTLED',
};

const SUBJECT_PREFIX: Record<ItemEvent, string> = {
  opened: '',
  reopened: 'back: ',
  worse: 'worse: ',
  cert: '',
  flapping: 'flapping: ',
  resolved: 'resolved: ',
  reminder: 'still open: ',
  settled: 'settled: ',
};

const MAX_EVIDENCE = 500;

/** Server-supplied text made safe to show: no control or bidirectional-override characters, bounded length. */
export function cleanText(value: string, max = MAX_EVIDENCE): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point.
  const flat = value.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

export function escapeHtml(value: string): string {
  return value
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

export function formatTime(at: Date): string {
  return `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** The dashboard page of a site, under VIGIL_PUBLIC_URL (which may carry a path prefix). */
export function siteUrl(publicUrl: string | null, siteId: number): string | null {
  return publicUrl ? `${publicUrl.replace(/\/+$/, '')}/sites/${siteId}` : null;
}

function byImportance(a: MailItem, b: MailItem): number {
  return (
    EVENT_ORDER.indexOf(a.event) - EVENT_ORDER.indexOf(b.event) ||
    SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] ||
    a.key.localeCompare(b.key)
  );
}

function itemTitle(item: MailItem): string {
  const { title } = describeKey(item.key);
  if (item.event === 'cert' || (item.certDaysLeft !== undefined && item.event !== 'resolved'))
    return `${title}: ${plural(item.certDaysLeft ?? 0, 'day')} left`;
  return title;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function gradeNote(grade: SiteMailModel['grade']): string {
  return grade.from && grade.to && grade.from !== grade.to ? ` (${grade.from} → ${grade.to})` : '';
}

export function subjectFor(model: SiteMailModel): string {
  const items = [...model.items].sort(byImportance);
  const lead = items[0];
  if (!lead) return `[Vigil] ${model.site.host}`;
  const more = items.length > 1 ? ` and ${items.length - 1} more` : '';
  return `[Vigil] ${model.site.host}: ${SUBJECT_PREFIX[lead.event]}${itemTitle(lead)}${more}${gradeNote(model.grade)}`;
}

/** One line saying what happened to the item, beyond its title. */
function eventLine(item: MailItem): string {
  switch (item.event) {
    case 'opened':
      return `Confirmed by a second scan at ${formatTime(item.at)}; first seen ${formatTime(item.since)}.`;
    case 'reopened':
      return `Back again, confirmed at ${formatTime(item.at)} (it had been fixed less than an hour before).`;
    case 'worse':
      return `Severity rose from ${item.previousSeverity ?? '?'} to ${item.severity} (confirmed ${formatTime(item.at)}).`;
    case 'cert':
      return `The certificate expires in ${plural(item.certDaysLeft ?? 0, 'day')}; you are warned at 30, 14, 7 and 1 days.`;
    case 'flapping':
      return `Opened and resolved ${plural(item.transitions ?? 0, 'time')} within the last hour, now ${item.open ? 'open' : 'resolved'}. Vigil mails about it again once it has been stable for an hour.`;
    case 'resolved':
      return `Confirmed gone at ${formatTime(item.at)}; it was open since ${formatTime(item.since)}.`;
    case 'reminder':
      return `Open since ${formatTime(item.since)} and not acknowledged.`;
    case 'settled':
      return `Stable for an hour after flapping, and ${item.open ? 'still open' : 'resolved'}.`;
  }
}

function showsFix(item: MailItem): boolean {
  return item.open && item.event !== 'settled';
}

function itemText(item: MailItem): string {
  const description = describeKey(item.key);
  const lines = [
    `${EVENT_LABEL[item.event]}  ${item.severity}  ${itemTitle(item)}  [${item.key}]`,
    `  ${eventLine(item)}`,
  ];
  if (showsFix(item)) {
    lines.push(`  ${description.why}`);
    if (item.evidence) lines.push(`  Seen:    ${cleanText(item.evidence)}`);
    if (description.django) {
      const { setting, checkId } = description.django;
      lines.push(`  Django:  ${[setting, checkId ? `(${checkId})` : ''].filter(Boolean).join(' ')}`);
    }
    lines.push('  Fix:', ...description.fix.split('\n').map((line) => `    ${line}`));
  }
  lines.push(`  Incident ${item.incidentId}`);
  return lines.join('\n');
}

const STYLE = {
  body: 'font-family:system-ui,-apple-system,Segoe UI,sans-serif;color:#1f2328;line-height:1.45;max-width:720px',
  item: 'border:1px solid #d0d7de;border-radius:6px;padding:12px 16px;margin:12px 0',
  label: 'font-weight:700;font-size:12px;letter-spacing:.04em;margin-right:8px',
  code: 'background:#f6f8fa;border-radius:6px;padding:8px 12px;white-space:pre-wrap;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:13px;margin:4px 0',
  muted: 'color:#57606a;font-size:13px',
};

const SEVERITY_COLOUR: Record<Severity, string> = {
  critical: '#8b0000',
  high: '#cf222e',
  medium: '#bc4c00',
  low: '#4d2d00',
  info: '#57606a',
};

function itemHtml(item: MailItem): string {
  const description = describeKey(item.key);
  const parts = [
    `<div style="${STYLE.item}" data-finding-id="${escapeHtml(item.key)}">`,
    `<div><span style="${STYLE.label}">${EVENT_LABEL[item.event]}</span>`,
    `<span style="${STYLE.label};color:${SEVERITY_COLOUR[item.severity]}">${item.severity.toUpperCase()}</span>`,
    `<strong>${escapeHtml(itemTitle(item))}</strong> <code>${escapeHtml(item.key)}</code></div>`,
    `<p style="margin:6px 0">${escapeHtml(eventLine(item))}</p>`,
  ];
  if (showsFix(item)) {
    parts.push(`<p style="margin:6px 0">${escapeHtml(description.why)}</p>`);
    if (item.evidence)
      parts.push(`<p style="margin:6px 0"><b>Seen:</b> ${escapeHtml(cleanText(item.evidence))}</p>`);
    if (description.django) {
      const { setting, checkId } = description.django;
      parts.push(
        `<p style="margin:6px 0"><b>Django:</b> <code>${escapeHtml(setting ?? '')}</code>${checkId ? ` (${escapeHtml(checkId)})` : ''}</p>`,
      );
    }
    parts.push(`<div><b>Fix:</b></div><pre style="${STYLE.code}">${escapeHtml(description.fix)}</pre>`);
  }
  parts.push(`<div style="${STYLE.muted}">Incident ${item.incidentId}</div></div>`);
  return parts.join('');
}

function summaryLine(model: SiteMailModel): string {
  const count = (events: ItemEvent[]) => model.items.filter((item) => events.includes(item.event)).length;
  if (model.kind === 'reminder')
    return `${model.site.host}: ${plural(model.items.length, 'incident')} still open and not acknowledged.`;
  if (model.kind === 'settled') return `${model.site.host}: stopped flapping.`;
  const parts: [number, string, string][] = [
    [count(['opened', 'reopened']), 'new problem', 'new problems'],
    [count(['worse']), 'problem got worse', 'problems got worse'],
    [count(['cert']), 'certificate warning', 'certificate warnings'],
    [count(['flapping']), 'problem keeps coming and going', 'problems keep coming and going'],
    [count(['resolved']), 'problem fixed', 'problems fixed'],
  ];
  const said = parts.filter(([n]) => n > 0).map(([n, one, many]) => `${n} ${n === 1 ? one : many}`);
  return `${model.site.host}: ${said.join(', ')}.`;
}

const SIGNATURE =
  'Vigil. Acknowledge an incident to stop its reminders; mute a finding on a site to stop its mails.';

function linkText(link: string | null): string {
  return link
    ? `Open the site in Vigil: ${link}`
    : 'Set VIGIL_PUBLIC_URL to get a link to the site in Vigil.';
}

function linkHtml(link: string | null): string {
  return link
    ? `<p><a href="${escapeHtml(link)}">Open the site in Vigil</a></p>`
    : `<p style="${STYLE.muted}">Set VIGIL_PUBLIC_URL to get a link to the site in Vigil.</p>`;
}

const SIGNATURE_TEXT = ['-- ', SIGNATURE];
const SIGNATURE_HTML = `<hr><p style="${STYLE.muted}">${escapeHtml(SIGNATURE)}</p>`;

function gradeLine(grade: SiteMailModel['grade']): string | null {
  if (!grade.to) return null;
  return grade.from && grade.from !== grade.to ? `Grade ${grade.from} → ${grade.to}` : `Grade ${grade.to}`;
}

export function renderSiteMail(model: SiteMailModel): RenderedMail {
  const items = [...model.items].sort(byImportance);
  const link = siteUrl(model.publicUrl, model.site.id);
  const summary = summaryLine(model);
  const grade = gradeLine(model.grade);
  const text = [
    summary,
    ...(grade ? [grade] : []),
    '',
    ...items.flatMap((item) => [itemText(item), '']),
    linkText(link),
    '',
    ...SIGNATURE_TEXT,
  ].join('\n');
  const html = [
    `<!doctype html><html><body style="${STYLE.body}">`,
    `<p><strong>${escapeHtml(summary)}</strong>${grade ? `<br>${escapeHtml(grade)}` : ''}</p>`,
    ...items.map(itemHtml),
    linkHtml(link),
    SIGNATURE_HTML,
    '</body></html>',
  ].join('\n');
  return { subject: subjectFor(model), text: `${text}\n`, html };
}

export function renderDigest(model: DigestModel): RenderedMail {
  const changes = model.sites.reduce((sum, entry) => sum + entry.items.length, 0);
  const subject = `[Vigil] Daily digest: ${plural(changes, 'change')} on ${plural(model.sites.length, 'site')}`;
  const period = `${formatTime(model.from)} – ${formatTime(model.to)}`;
  const text: string[] = [`What changed on your sites between ${period}.`, ''];
  const html: string[] = [
    `<!doctype html><html><body style="${STYLE.body}">`,
    `<p>What changed on your sites between ${escapeHtml(period)}.</p>`,
  ];
  for (const { site, items } of model.sites) {
    const link = siteUrl(model.publicUrl, site.id);
    const sorted = [...items].sort(byImportance);
    text.push(`== ${site.host} ==`, ...(link ? [link] : []), '');
    text.push(...sorted.flatMap((item) => [itemText(item), '']));
    html.push(
      `<h2 style="font-size:18px;margin:20px 0 4px">${link ? `<a href="${escapeHtml(link)}">${escapeHtml(site.host)}</a>` : escapeHtml(site.host)}</h2>`,
      ...sorted.map(itemHtml),
    );
  }
  text.push(...SIGNATURE_TEXT);
  html.push(SIGNATURE_HTML, '</body></html>');
  return { subject, text: `${text.join('\n')}\n`, html: html.join('\n') };
}

export function renderTestMail(input: { at: Date; publicUrl: string | null; server: string }): RenderedMail {
  const where = input.publicUrl ? ` at ${input.publicUrl}` : '';
  const line = `This is a test mail from Vigil${where}, sent ${formatTime(input.at)} through ${input.server}. If you can read it, alert mail works.`;
  return {
    subject: '[Vigil] Test mail',
    text: `${line}\n`,
    html: `<!doctype html><html><body style="${STYLE.body}"><p>${escapeHtml(line)}</p></body></html>`,
  };
}
