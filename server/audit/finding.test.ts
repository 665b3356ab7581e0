import { describe, expect, it } from 'vitest';
import { excerptOf, lineStarts, makeAuditFinding, positionAt } from './finding';

describe('positions and excerpts', () => {
  const text = 'first\n  second line  \nthird';
  const starts = lineStarts(text);

  it('maps offsets to 1-based lines and columns', () => {
    expect(positionAt(starts, 0)).toEqual({ line: 1, column: 1 });
    expect(positionAt(starts, 8)).toEqual({ line: 2, column: 3 });
    expect(positionAt(starts, text.length)).toEqual({ line: 3, column: 6 });
  });

  it('trims the line, replaces redacted ranges and cuts long lines', () => {
    expect(excerptOf(text, starts, 2)).toBe('second line');
    const secret = "SECRET_KEY = 'abc123'";
    expect(excerptOf(secret, lineStarts(secret), 1, [[14, 20]])).toBe("SECRET_KEY = '…'");
    const long = `x = "${'a'.repeat(400)}"`;
    const cut = excerptOf(long, lineStarts(long), 1);
    expect(cut).toHaveLength(200);
    expect(cut.endsWith('…')).toBe(true);
  });
});

describe('makeAuditFinding', () => {
  it('builds the scan finding shape from the catalogue plus location and excerpt', () => {
    const finding = makeAuditFinding(
      { id: 'settings.debug', at: 0, detail: 'DEBUG is True.' },
      { file: 'shop/settings.py', line: 3, column: 1 },
      'DEBUG = True',
    );
    expect(finding).toEqual({
      id: 'settings.debug',
      severity: 'high',
      title: 'DEBUG = True in a settings module',
      detail: 'DEBUG is True.',
      evidence: 'shop/settings.py:3: DEBUG = True',
      fix: expect.stringContaining('DEBUG'),
      django: { setting: 'DEBUG', checkId: 'security.W018' },
      location: { file: 'shop/settings.py', line: 3, column: 1 },
      excerpt: 'DEBUG = True',
    });
  });
});
