import { z } from 'zod';
import { CATALOGUE, type FindingId, isFindingId } from '../scan/catalogue';
import type { Severity } from '../scan/types';

/** Incidents that are not a finding: the grade fell on its own, or nothing answered several scans in a row. */
export const GRADE_DROP_KEY = 'grade.drop';
export const UNREACHABLE_KEY = 'site.unreachable';
export const CERT_EXPIRING_KEY = 'tls.cert.expiring' satisfies FindingId;

/** What an incident is about: a finding ID (SPEC.md) or one of the two site-level conditions. */
export type AlertKey = FindingId | typeof GRADE_DROP_KEY | typeof UNREACHABLE_KEY;

export function isAlertKey(value: string): value is AlertKey {
  return value === GRADE_DROP_KEY || value === UNREACHABLE_KEY || isFindingId(value);
}

export const alertKeySchema = z
  .string()
  .refine(isAlertKey, 'not a finding ID, grade.drop or site.unreachable');

/** How a mail names and explains a key: findings read the one catalogue; the two site conditions are described here. */
export interface KeyDescription {
  title: string;
  why: string;
  django?: { setting?: string; checkId?: string };
  fix: string;
}

const SITE_CONDITIONS: Record<typeof GRADE_DROP_KEY | typeof UNREACHABLE_KEY, KeyDescription> = {
  [GRADE_DROP_KEY]: {
    title: 'Grade dropped',
    why: 'The grade fell although no single finding crossed the alert threshold: smaller problems add up, or protections that earned bonus points are gone.',
    fix: "Compare the latest scan with the one before on the site's page and restore what changed.",
  },
  [UNREACHABLE_KEY]: {
    title: 'Site unreachable',
    why: 'Nothing answered on port 80 or 443 for several scans in a row.',
    fix: 'Check that the server, its proxy and the firewall are up, and that DNS points at the right address.',
  },
};

export function describeKey(key: AlertKey): KeyDescription {
  return key === GRADE_DROP_KEY || key === UNREACHABLE_KEY ? SITE_CONDITIONS[key] : CATALOGUE[key];
}

/** Severity an incident about a site condition carries (findings carry their own). */
export const SITE_CONDITION_SEVERITY: Record<typeof GRADE_DROP_KEY | typeof UNREACHABLE_KEY, Severity> = {
  [GRADE_DROP_KEY]: 'medium',
  [UNREACHABLE_KEY]: 'high',
};
