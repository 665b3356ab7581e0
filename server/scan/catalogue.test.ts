import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CATALOGUE, FINDING_IDS, isFindingId, makeFinding } from './catalogue';
import { SPEC_PATH, specAuditRows, specScanRows } from './checks/spec-table';
import { SEVERITIES } from './types';

const scanRows = specScanRows();

describe('catalogue against SPEC.md', () => {
  it('reads the scan table from SPEC.md', () => {
    expect(existsSync(SPEC_PATH)).toBe(true);
    expect(scanRows.length).toBeGreaterThanOrEqual(37);
    expect(scanRows.map((row) => row.id)).toContain('tls.cert.expiring');
  });

  it.each(scanRows.map((row) => [row.id, row] as const))(
    '%s is catalogued with the table severity',
    (id, row) => {
      expect(isFindingId(id)).toBe(true);
      if (!isFindingId(id)) return;
      expect(row.severities.length).toBeGreaterThan(0);
      expect(CATALOGUE[id].severity).toBe(row.severities[0]);
    },
  );

  it.each(scanRows.map((row) => [row.id, row] as const))(
    '%s carries the Django mapping of the table',
    (id, row) => {
      if (!isFindingId(id)) throw new Error(`${id} missing`);
      const entry = CATALOGUE[id];
      const warning = /\bW(\d{3})\b/.exec(row.django)?.[1];
      if (warning) expect(entry.django?.checkId).toBe(`security.W${warning}`);
      for (const [, name] of row.django.matchAll(/`([^`]+)`/g))
        expect(entry.django?.setting ?? '').toContain(name);
      if (row.django === '—') expect(entry.django).toBeUndefined();
    },
  );

  it('has no ID that SPEC.md does not list', () => {
    const specIds = new Set([...scanRows, ...specAuditRows()].map((row) => row.id));
    expect(FINDING_IDS.filter((id) => !specIds.has(id))).toEqual([]);
  });
});

describe('catalogue entries', () => {
  it.each(FINDING_IDS)('%s has a severity, title, why and fix', (id) => {
    const entry = CATALOGUE[id];
    expect(SEVERITIES).toContain(entry.severity);
    for (const text of [entry.title, entry.why, entry.fix]) expect(text.trim().length).toBeGreaterThan(5);
  });

  it('scan titles are unique (audit findings may share a scan title: same problem, inside view)', () => {
    const titles = scanRows.flatMap((row) => (isFindingId(row.id) ? [CATALOGUE[row.id].title] : []));
    expect(new Set(titles).size).toBe(titles.length);
  });
});

describe('makeFinding', () => {
  it('takes strings from the catalogue and only what was seen from the caller', () => {
    const finding = makeFinding('hsts.missing', { evidence: 'no Strict-Transport-Security header' });
    expect(finding).toEqual({
      id: 'hsts.missing',
      severity: 'high',
      title: CATALOGUE['hsts.missing'].title,
      detail: CATALOGUE['hsts.missing'].why,
      evidence: 'no Strict-Transport-Security header',
      django: { setting: 'SECURE_HSTS_SECONDS', checkId: 'security.W004' },
      fix: CATALOGUE['hsts.missing'].fix,
    });
  });

  it('lets a severity override the default (tls.cert.expiring within 7 days)', () => {
    expect(makeFinding('tls.cert.expiring', { evidence: '3 days left', severity: 'high' }).severity).toBe(
      'high',
    );
  });

  it('copies the Django mapping so a finding cannot alter the catalogue', () => {
    const finding = makeFinding('django.debug', { evidence: 'x' });
    finding.django!.setting = 'changed';
    expect(CATALOGUE['django.debug'].django?.setting).toBe('DEBUG');
  });
});
