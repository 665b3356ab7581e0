import { describe, expect, it } from 'vitest';
import { canonicalJson, decodeContent, encodeContent } from './codec';

describe('encodeContent', () => {
  it('gives the same hash whatever the key order', () => {
    const a = encodeContent([
      { id: 'hsts.missing', severity: 'high', django: { setting: 'X', checkId: 'Y' } },
    ]);
    const b = encodeContent([
      { django: { checkId: 'Y', setting: 'X' }, severity: 'high', id: 'hsts.missing' },
    ]);
    expect(a.hash).toBe(b.hash);
    expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('gives a different hash when any value differs, and keeps array order', () => {
    expect(encodeContent(['a', 'b']).hash).not.toBe(encodeContent(['b', 'a']).hash);
    expect(encodeContent({ evidence: 'max-age=0' }).hash).not.toBe(
      encodeContent({ evidence: 'max-age=1' }).hash,
    );
  });

  it('round-trips through deflate', () => {
    const value = { findings: [{ id: 'x', detail: 'é ✓'.repeat(50) }], n: 3, none: null };
    const body = encodeContent(value).body();
    expect(body.length).toBeLessThan(canonicalJson(value).length);
    expect(decodeContent(body)).toEqual(value);
  });
});
