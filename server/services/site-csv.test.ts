import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatSiteCsv, parseIntervalMinutes, parseSiteCsv, splitCsvRecord } from './site-csv';

describe('parseSiteCsv', () => {
  it('reads a plain newline list, skipping blanks and comments', () => {
    const lines = parseSiteCsv('shop.example.com\n\n# staging later\r\nblog.example.org\n');
    expect(lines).toEqual([
      { line: 1, text: 'shop.example.com', ok: true, row: { host: 'shop.example.com' } },
      { line: 4, text: 'blog.example.org', ok: true, row: { host: 'blog.example.org' } },
    ]);
  });

  it('reads all four columns, quoted tags with commas, and skips a header line', () => {
    const lines = parseSiteCsv(
      '\uFEFFhost,label,tags,interval\nshop.example.com, Shop ,"eu,prod;django",6h\n',
    );
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      line: 2,
      ok: true,
      row: { host: 'shop.example.com', label: 'Shop', tags: ['eu,prod', 'django'], interval: '6h' },
    });
  });

  it('reports a broken line by its number and keeps the others', () => {
    const lines = parseSiteCsv(
      'a.example.com\n"b.example.com,Label\nc.example.com,x,y,1h,extra\nd.example.com',
    );
    expect(lines.map((line) => [line.line, line.ok])).toEqual([
      [1, true],
      [2, false],
      [3, false],
      [4, true],
    ]);
    expect(lines[1]).toMatchObject({ error: 'unterminated quoted field' });
    expect(lines[2]).toMatchObject({ error: expect.stringContaining('at most 4 fields') });
  });
});

describe('splitCsvRecord', () => {
  it('unescapes doubled quotes and refuses text after a closing quote', () => {
    expect(splitCsvRecord('"say ""hi""",b')).toEqual(['say "hi"', 'b']);
    expect(splitCsvRecord('"a"b,c')).toEqual({ error: 'unexpected "b" after a quoted field' });
  });
});

describe('parseIntervalMinutes', () => {
  it('reads minutes, hours and days', () => {
    expect(parseIntervalMinutes('360')).toBe(360);
    expect(parseIntervalMinutes('30m')).toBe(30);
    expect(parseIntervalMinutes('6h')).toBe(360);
    expect(parseIntervalMinutes('1D')).toBe(1440);
    expect(parseIntervalMinutes('six hours')).toBeNull();
    expect(parseIntervalMinutes('-5')).toBeNull();
  });
});

describe('formatSiteCsv', () => {
  it('guards spreadsheet formulas and quotes what needs it', () => {
    const csv = formatSiteCsv([
      { host: 'a.example.com', label: '=HYPERLINK("x")', tags: ['eu', 'prod'], intervalMinutes: 360 },
    ]);
    expect(csv).toBe('host,label,tags,interval\r\na.example.com,"\'=HYPERLINK(""x"")",eu;prod,6h\r\n');
  });

  it('round-trips any label and tags through parseSiteCsv', () => {
    const tag = fc.stringMatching(/^[a-z0-9][a-z0-9._:-]{0,10}$/);
    fc.assert(
      fc.property(
        fc
          .oneof(fc.string({ maxLength: 40 }), fc.constantFrom("'=1+1", "''@x", "'plain", '-3'))
          .filter((label) => !/[\r\n]/.test(label) && label.trim() === label),
        fc.array(tag, { maxLength: 4 }),
        fc.integer({ min: 5, max: 43200 }),
        (label, tags, intervalMinutes) => {
          const csv = formatSiteCsv([{ host: 'shop.example.com', label, tags, intervalMinutes }]);
          const [line] = parseSiteCsv(csv);
          expect(line?.ok).toBe(true);
          if (!line?.ok) return;
          expect(line.row.label ?? '').toBe(label);
          expect(line.row.tags ?? []).toEqual(tags);
          expect(parseIntervalMinutes(line.row.interval ?? '')).toBe(intervalMinutes);
        },
      ),
    );
  });
});
