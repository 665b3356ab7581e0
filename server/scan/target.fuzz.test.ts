import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppError } from '../errors';
import { formatTarget, parseTarget } from './target';

const HOST_NAME = /^(?:(?!-)[a-z0-9-]{1,63}(?<!-)\.)+(?!-)[a-z0-9-]{1,63}(?<!-)$/;

function outcome(input: string) {
  try {
    return { target: parseTarget(input), error: null };
  } catch (error) {
    return { target: null, error };
  }
}

describe('parseTarget under arbitrary input', () => {
  it('either returns a valid, normalised target or refuses with an invalid_target AppError', () => {
    const noise = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.string({ unit: 'grapheme', maxLength: 80 }),
      fc.webUrl({ withQueryParameters: true, withFragments: true }),
      fc.domain(),
      fc.tuple(fc.domain(), fc.integer({ min: -10, max: 70_000 })).map(([host, port]) => `${host}:${port}`),
      fc.ipV4(),
      fc.ipV6(),
    );
    fc.assert(
      fc.property(noise, (input) => {
        const { target, error } = outcome(input);
        if (error) {
          expect(error).toBeInstanceOf(AppError);
          expect((error as AppError).code).toBe('invalid_target');
          expect((error as AppError).message.length).toBeGreaterThan(10);
          return;
        }
        expect(target!.host.length).toBeLessThanOrEqual(253);
        expect(target!.host).toMatch(HOST_NAME);
        expect(target!.httpsPort).toBeGreaterThanOrEqual(1);
        expect(target!.httpsPort).toBeLessThanOrEqual(65_535);
      }),
      { numRuns: 3_000 },
    );
  });

  it('formats every accepted domain so that it parses back to the same target', () => {
    fc.assert(
      fc.property(fc.domain(), (domain) => {
        const { target, error } = outcome(domain);
        // fast-check may generate single-label names and all-digit TLDs, which Vigil refuses on purpose.
        if (error) return;
        const again = parseTarget(formatTarget(target!));
        expect(again.host).toBe(target!.host);
        expect(again.httpsPort).toBe(target!.httpsPort);
      }),
      { numRuns: 2_000 },
    );
  });
});
