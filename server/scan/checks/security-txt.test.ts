import { describe, expect, it } from 'vitest';
import {
  buildFacts,
  catchAllFacts,
  failedFetch,
  fetched,
  findingIds,
  HOST,
  redirect,
  response,
  runCheck,
} from './facts-builder';
import { securityTxtCheck } from './security-txt';

const URL = `https://${HOST}/.well-known/security.txt`;
const served = (body: string, contentType = 'text/plain; charset=utf-8', status = 200) =>
  buildFacts({
    securityTxt: fetched(response(URL, status, { headers: { 'content-type': contentType }, body })),
  });

describe('security.txt', () => {
  it('passes and grants the bonus for plain text with Contact:', () => {
    expect(runCheck(securityTxtCheck, buildFacts())).toMatchObject({
      status: 'pass',
      findings: [],
      bonuses: ['security-txt'],
    });
  });

  it('accepts a PGP-signed file and a redirect to it', () => {
    const signed =
      '-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\nContact: https://example.com/report\n';
    expect(runCheck(securityTxtCheck, served(signed)).findings).toEqual([]);
    const moved = buildFacts({
      securityTxt: fetched(
        redirect(URL, 'https://example.com/.well-known/security.txt'),
        response('https://example.com/.well-known/security.txt', 200, {
          body: 'Contact: mailto:a@example.com',
        }),
      ),
    });
    expect(runCheck(securityTxtCheck, moved).bonuses).toEqual(['security-txt']);
  });

  it('reports a 404', () => {
    const outcome = runCheck(securityTxtCheck, served('Not Found', 'text/plain', 404));
    expect(outcome.findings).toMatchObject([
      { id: 'security-txt.missing', severity: 'info', evidence: 'GET /.well-known/security.txt → 404' },
    ]);
    expect(outcome.bonuses ?? []).toEqual([]);
  });

  it('reports a catch-all HTML page answering 200', () => {
    const outcome = runCheck(securityTxtCheck, catchAllFacts());
    expect(findingIds(outcome)).toEqual(['security-txt.missing']);
    expect(outcome.findings[0]!.evidence).toContain('not plain text');
  });

  it('reports HTML even when it mentions Contact:, and plain text without it', () => {
    expect(
      findingIds(runCheck(securityTxtCheck, served('<html><body>Contact: us</body></html>', 'text/plain'))),
    ).toEqual(['security-txt.missing']);
    expect(findingIds(runCheck(securityTxtCheck, served('Expires: 2027-01-01T00:00:00Z')))).toEqual([
      'security-txt.missing',
    ]);
  });

  it('errors when the fetch failed', () => {
    const facts = buildFacts({ securityTxt: failedFetch('timeout') });
    expect(runCheck(securityTxtCheck, facts)).toMatchObject({ status: 'error', findings: [] });
  });
});
