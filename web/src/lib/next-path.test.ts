import { describe, expect, it } from 'vitest';
import { safeNextPath } from './next-path';

describe('safeNextPath', () => {
  it('keeps paths of this dashboard and refuses anything that leaves it', () => {
    expect(safeNextPath('/sites/3?tab=history')).toBe('/sites/3?tab=history');
    expect(safeNextPath(['/incidents', '/x'])).toBe('/incidents');
    for (const hostile of [
      '//evil.example/',
      '/\\evil.example',
      'https://evil.example',
      'javascript:alert(1)',
      '',
    ])
      expect(safeNextPath(hostile), hostile).toBe('/');
    expect(safeNextPath(undefined)).toBe('/');
  });
});
