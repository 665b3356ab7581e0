import { createHash } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';

/** JSON with object keys sorted, so equal content always gives equal bytes (and an equal hash). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) => {
    if (inner === null || typeof inner !== 'object' || Array.isArray(inner)) return inner;
    const record = inner as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(record)
        .sort()
        .map((key) => [key, record[key]]),
    );
  });
}

/**
 * A content-addressed blob: the sha256 of the canonical JSON, and a way to get that JSON deflated. The
 * body is only built when the content is new, which for an unchanged scan it is not.
 */
export function encodeContent(value: unknown): { hash: string; body: () => Buffer } {
  const json = canonicalJson(value);
  return {
    hash: createHash('sha256').update(json).digest('hex'),
    // Sets are a few KiB: a 4 KiB window compresses them as well and keeps zlib's native memory small.
    body: () => deflateRawSync(json, { windowBits: 12, memLevel: 4 }),
  };
}

export function decodeContent(body: Uint8Array): unknown {
  return JSON.parse(inflateRawSync(body).toString('utf8'));
}
