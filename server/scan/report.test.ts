import { describe, expect, it } from 'vitest';
import { makeFinding } from './catalogue';
import { formatScanReport } from './report';
import type { ScanResult } from './types';

const result: ScanResult = {
  target: 'shop.example.com',
  host: 'shop.example.com',
  addresses: ['203.0.113.7'],
  scannedAt: '2026-11-24T10:00:00.000Z',
  durationMs: 812,
  status: 'ok',
  grade: 'B',
  score: 70,
  django: { detected: true, signals: ['cookie:csrftoken'] },
  tls: {
    protocols: ['TLSv1.2', 'TLSv1.3'],
    notAfter: '2027-01-25T00:00:00.000Z',
    issuer: 'R11',
    daysLeft: 61,
  },
  findings: [
    makeFinding('hsts.missing', { evidence: 'no Strict-Transport-Security header' }),
    makeFinding('nosniff.missing', { evidence: 'no X-Content-Type-Options header' }),
  ],
  checks: [
    { id: 'hsts', status: 'fail', detail: '' },
    { id: 'tls', status: 'pass', detail: '' },
  ],
};

describe('formatScanReport', () => {
  it('groups findings by severity, worst first, with Django setting and fix', () => {
    const text = formatScanReport(result, { color: false });
    expect(text.indexOf('HIGH (1)')).toBeLessThan(text.indexOf('LOW (1)'));
    expect(text).toContain('Django: SECURE_HSTS_SECONDS / security.W004');
    expect(text).toContain('        SECURE_HSTS_SECONDS = 31536000');
    expect(text).toContain('checks: 1 passed, 1 failed, 0 skipped, 0 errors');
    expect(text).not.toContain('\u001b[');
  });

  it('colours only when asked to (a terminal)', () => {
    expect(formatScanReport(result, { color: true })).toContain('\u001b[');
  });

  it('shows an unreachable site without a grade', () => {
    const text = formatScanReport(
      { ...result, status: 'unreachable', grade: null, score: null, error: 'connection refused' },
      { color: false },
    );
    expect(text).toContain('UNREACHABLE');
    expect(text).toContain('connection refused');
    expect(text).not.toContain('grade');
  });
});
