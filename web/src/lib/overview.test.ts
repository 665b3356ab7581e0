import { describe, expect, it } from 'vitest';
import { regressedFirst } from './overview';

describe('regressedFirst', () => {
  it('moves sites whose score went down to the top and keeps the order of the rest', () => {
    const items = [
      { name: 'a', trend: null },
      { name: 'b', trend: { direction: 'down' as const } },
      { name: 'c', trend: { direction: 'up' as const } },
      { name: 'd', trend: { direction: 'down' as const } },
      { name: 'e', trend: { direction: 'flat' as const } },
    ];
    expect(regressedFirst(items).map((item) => item.name)).toEqual(['b', 'd', 'a', 'c', 'e']);
  });
});
