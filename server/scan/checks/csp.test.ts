import { describe, expect, it } from 'vitest';
import { cspCheck, enforcedPolicies, parseSerializedPolicy } from './csp';
import { buildFacts, findingIds, response, runCheck } from './facts-builder';

const withCsp = (csp: string | string[] | undefined, reportOnly?: string) =>
  runCheck(
    cspCheck,
    buildFacts({
      httpsHeaders: {
        'content-security-policy': csp,
        ...(reportOnly ? { 'content-security-policy-report-only': reportOnly } : {}),
      },
    }),
  );

describe('CSP parsing', () => {
  it('lower-cases directive names, keeps the first of a repeated directive, drops empty ones', () => {
    const policy = parseSerializedPolicy(" SCRIPT-SRC 'self' ;; script-src 'unsafe-inline'; img-src * ");
    expect([...policy]).toEqual([
      ['script-src', ["'self'"]],
      ['img-src', ['*']],
    ]);
  });

  it('splits several policies on commas and header lines; empty policies do not count', () => {
    const policies = enforcedPolicies(
      response('https://x/', 200, {
        headers: { 'content-security-policy': ["default-src 'self', frame-ancestors 'none'", ' ; '] },
      }),
    );
    expect(policies).toHaveLength(2);
  });
});

describe('csp check', () => {
  it('reports a missing policy', () => {
    const outcome = withCsp(undefined);
    expect(outcome.findings).toMatchObject([
      { id: 'csp.missing', severity: 'medium', evidence: 'no Content-Security-Policy header' },
    ]);
  });

  it('reports a Report-Only policy as missing: it enforces nothing', () => {
    const outcome = withCsp(undefined, "default-src 'self'; frame-ancestors 'none'");
    expect(findingIds(outcome)).toEqual(['csp.missing']);
    expect(outcome.findings[0]!.evidence).toContain('Report-Only');
    expect(outcome.bonuses ?? []).toEqual([]);
  });

  it("reports 'unsafe-inline' in script-src", () => {
    const outcome = withCsp("default-src 'self'; script-src 'self' 'unsafe-inline'; frame-ancestors 'none'");
    expect(outcome.findings).toMatchObject([
      { id: 'csp.unsafe-inline', severity: 'medium', evidence: "script-src 'self' 'unsafe-inline'" },
    ]);
    expect(outcome.bonuses ?? []).toEqual([]);
  });

  it('falls back to default-src, and matches keywords case-insensitively', () => {
    expect(findingIds(withCsp("default-src 'self' 'UNSAFE-INLINE'"))).toEqual(['csp.unsafe-inline']);
  });

  it('uses script-src over default-src', () => {
    expect(findingIds(withCsp("default-src 'self' 'unsafe-inline'; script-src 'self'"))).toEqual([]);
  });

  it.each([
    "script-src 'self' 'unsafe-inline' 'nonce-abc123'",
    "script-src 'self' 'unsafe-inline' 'sha256-B2yPHKaXnvFWtRChIbabYmUBFZdVfKKXHbWtWidDVF8='",
    "script-src 'unsafe-inline' 'strict-dynamic' 'nonce-abc123' https:",
  ])("ignores 'unsafe-inline' that a nonce or hash neutralises: %s", (csp) => {
    expect(findingIds(withCsp(csp))).toEqual([]);
  });

  it("reports 'unsafe-eval'", () => {
    const outcome = withCsp("script-src 'self' 'nonce-abc' 'unsafe-eval'; frame-ancestors 'none'");
    expect(outcome.findings).toMatchObject([{ id: 'csp.unsafe-eval', severity: 'low' }]);
    expect(outcome.bonuses ?? []).toEqual([]);
  });

  it("does not count 'wasm-unsafe-eval'", () => {
    expect(findingIds(withCsp("script-src 'self' 'wasm-unsafe-eval'"))).toEqual([]);
  });

  it('treats a policy that does not restrict scripts as allowing inline scripts and eval', () => {
    const outcome = withCsp("frame-ancestors 'none'");
    expect(findingIds(outcome)).toEqual(['csp.unsafe-inline', 'csp.unsafe-eval']);
    expect(outcome.findings[0]!.evidence).toContain('no script-src or default-src');
  });

  it('allows a source only when every policy allows it', () => {
    expect(
      findingIds(withCsp(["script-src 'self' 'unsafe-inline' 'unsafe-eval'", "script-src 'self'"])),
    ).toEqual([]);
    expect(findingIds(withCsp("script-src * 'unsafe-inline', img-src 'self'"))).toEqual([
      'csp.unsafe-inline',
    ]);
  });

  it('grants csp-strict only with frame-ancestors and no unsafe source', () => {
    expect(withCsp("default-src 'self'; frame-ancestors 'self'").bonuses).toEqual(['csp-strict']);
    expect(withCsp("default-src 'self'").bonuses ?? []).toEqual([]);
  });

  it('stays silent on the hardened policy and grants the bonus', () => {
    expect(runCheck(cspCheck, buildFacts())).toMatchObject({
      status: 'pass',
      findings: [],
      bonuses: ['csp-strict'],
    });
  });
});
