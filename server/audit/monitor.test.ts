import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { makeFinding } from '../scan/catalogue';
import type { ScanResult } from '../scan/types';
import { addInsideView } from './monitor';

const INSECURE_PROJECT = fileURLToPath(new URL('./testdata/insecure', import.meta.url));

const outside: ScanResult = {
  target: 'shop.example.com',
  host: 'shop.example.com',
  addresses: ['203.0.113.7'],
  scannedAt: '2026-11-25T10:00:00.000Z',
  durationMs: 40,
  status: 'ok',
  grade: 'A',
  score: 90,
  django: { detected: true, signals: ['cookie:csrftoken'] },
  tls: null,
  findings: [makeFinding('nosniff.missing', { evidence: 'no X-Content-Type-Options header' })],
  checks: [{ id: 'nosniff', status: 'fail', detail: '' }],
};

describe('addInsideView', () => {
  it('adds the audit findings with their source locations and leaves the grade alone', async () => {
    const result = await addInsideView(outside, INSECURE_PROJECT);
    expect(result.grade).toBe('A');
    expect(result.score).toBe(90);
    expect(result.findings[0]?.id).toBe('nosniff.missing');
    const inside = result.findings.slice(1);
    expect(inside.map((finding) => finding.id)).toEqual(
      expect.arrayContaining(['settings.debug', 'settings.secret-key', 'code.raw-sql']),
    );
    expect(inside[0]).toMatchObject({ location: { file: expect.stringMatching(/\.(py|html)$/) } });
    expect(result.checks.at(-1)).toMatchObject({ id: 'audit', status: 'fail' });
  });

  it('reports an audit that cannot run as a check error, not as findings', async () => {
    const result = await addInsideView(outside, '/nonexistent/vigil-project');
    expect(result.findings).toEqual(outside.findings);
    expect(result.checks.at(-1)).toMatchObject({ id: 'audit', status: 'error' });
  });

  it('adds nothing to a scan that did not reach the site', async () => {
    const unreachable: ScanResult = {
      ...outside,
      status: 'unreachable',
      grade: null,
      score: null,
      findings: [],
    };
    expect(await addInsideView(unreachable, INSECURE_PROJECT)).toBe(unreachable);
  });
});
