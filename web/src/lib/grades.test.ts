import { describe, expect, it } from 'vitest';
import { gradeBands, gradeFamily, MAX_SCORE } from './grades';

describe('gradeBands', () => {
  it('covers 0..MAX_SCORE without gaps, worst band first, at the grading table floors', () => {
    const bands = gradeBands();
    expect(bands.map((band) => band.family)).toEqual(['f', 'd', 'c', 'b', 'a']);
    expect(bands.map((band) => band.from)).toEqual([0, 25, 45, 65, 85]);
    bands.slice(1).forEach((band, index) => {
      expect(band.from).toBe(bands[index]?.to);
    });
    expect(bands.at(-1)?.to).toBe(MAX_SCORE);
  });
});

describe('gradeFamily', () => {
  it('groups plus and minus grades with their letter', () => {
    expect(gradeFamily('A+')).toBe('a');
    expect(gradeFamily('C-')).toBe('c');
    expect(gradeFamily('F')).toBe('f');
  });
});
