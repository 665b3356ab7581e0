import { makeFinding } from '../catalogue';
import type { BonusId, Finding } from '../types';
import { finalHttpsHome, headerValues } from './http';
import { clip, foundTitles, judged, type ScanCheck } from './outcome';

/** SPEC.md: below 180 days the protection lapses too easily. */
export const HSTS_MIN_MAX_AGE = 15_552_000;
/** hstspreload.org requires one year. */
export const HSTS_PRELOAD_MAX_AGE = 31_536_000;

export interface StsPolicy {
  maxAge: number;
  includeSubDomains: boolean;
  preload: boolean;
}

export type StsParse = { ok: true; policy: StsPolicy } | { ok: false; reason: string };

const TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/i;

/** Splits on `;` outside quoted strings (a quoted value may contain one). */
function splitDirectives(value: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let index = 0; index < value.length; index++) {
    const char = value[index]!;
    if (quoted && char === '\\') {
      current += char + (value[index + 1] ?? '');
      index++;
    } else if (char === '"') {
      quoted = !quoted;
      current += char;
    } else if (char === ';' && !quoted) {
      parts.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  parts.push(current);
  return parts;
}

function unquote(value: string): string | null {
  if (!value.startsWith('"')) return value;
  if (value.length < 2 || !value.endsWith('"')) return null;
  return value.slice(1, -1).replace(/\\(.)/g, '$1');
}

/** RFC 6797 §6.1: case-insensitive directives, optional quoted values; a repeated directive voids the header. */
export function parseStrictTransportSecurity(header: string): StsParse {
  const directives = new Map<string, string | null>();
  for (const part of splitDirectives(header)) {
    const text = part.trim();
    if (text === '') continue;
    const equals = text.indexOf('=');
    const name = (equals === -1 ? text : text.slice(0, equals)).trim().toLowerCase();
    if (!TOKEN.test(name)) return { ok: false, reason: `malformed directive "${clip(text, 40)}"` };
    if (directives.has(name)) return { ok: false, reason: `directive ${name} appears twice` };
    const value = equals === -1 ? null : unquote(text.slice(equals + 1).trim());
    if (equals !== -1 && value === null) return { ok: false, reason: `unterminated quote in ${name}` };
    directives.set(name, value);
  }
  const maxAge = directives.get('max-age');
  if (maxAge === undefined) return { ok: false, reason: 'no max-age directive' };
  if (maxAge === null || !/^\d+$/.test(maxAge))
    return { ok: false, reason: `max-age "${maxAge ?? ''}" is not a number` };
  return {
    ok: true,
    policy: {
      maxAge: Number(maxAge),
      includeSubDomains: directives.has('includesubdomains'),
      preload: directives.has('preload'),
    },
  };
}

export const hstsCheck: ScanCheck = {
  id: 'hsts',
  findingIds: ['hsts.missing', 'hsts.max-age.short', 'hsts.subdomains.missing', 'hsts.preload.missing'],
  run(facts) {
    const home = finalHttpsHome(facts);
    if ('outcome' in home) return home.outcome;
    // RFC 6797 §8.1: browsers process only the first Strict-Transport-Security header.
    const header = headerValues(home.response, 'strict-transport-security')[0];
    if (header === undefined) {
      const finding = makeFinding('hsts.missing', { evidence: 'no Strict-Transport-Security header' });
      return judged([finding], 'no HSTS');
    }
    const shown = `Strict-Transport-Security: ${clip(header)}`;
    const parsed = parseStrictTransportSecurity(header);
    if (!parsed.ok) {
      const evidence = `${shown} (ignored by browsers: ${parsed.reason})`;
      return judged([makeFinding('hsts.missing', { evidence })], 'invalid HSTS header');
    }
    const { policy } = parsed;
    if (policy.maxAge === 0) {
      const evidence = `${shown} (max-age=0 tells browsers to forget HSTS)`;
      return judged([makeFinding('hsts.missing', { evidence })], 'HSTS switched off');
    }
    const findings: Finding[] = [];
    if (policy.maxAge < HSTS_MIN_MAX_AGE) {
      findings.push(
        makeFinding('hsts.max-age.short', {
          evidence: `${shown} (${Math.floor(policy.maxAge / 86_400)} days)`,
        }),
      );
    }
    if (!policy.includeSubDomains) findings.push(makeFinding('hsts.subdomains.missing', { evidence: shown }));
    if (!policy.preload) findings.push(makeFinding('hsts.preload.missing', { evidence: shown }));
    const bonuses: BonusId[] =
      policy.maxAge >= HSTS_PRELOAD_MAX_AGE && policy.includeSubDomains && policy.preload
        ? ['hsts-preload-ready']
        : [];
    return judged(findings, findings.length > 0 ? foundTitles(findings) : shown, bonuses);
  },
};
