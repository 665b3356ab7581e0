import { afterEach, describe, expect, it } from 'vitest';
import { auditProject } from './audit';
import { parseSuppression } from './suppression';
import { createProject, removeProject } from './testing';

const where = { file: 'a.py', line: 3, ownLine: true };

describe('parseSuppression', () => {
  it('reads one or several IDs and the reason', () => {
    expect(parseSuppression('# vigil: ignore[code.raw-sql] constant query', where).suppression?.ids).toEqual(
      new Set(['code.raw-sql']),
    );
    expect(
      parseSuppression('# noqa  # vigil: ignore[code.idor, code.mark-safe]', where).suppression?.ids,
    ).toEqual(new Set(['code.idor', 'code.mark-safe']));
  });

  it('refuses a bare ignore and unknown IDs with a note instead of silencing', () => {
    const bare = parseSuppression('# vigil: ignore', where);
    expect(bare.suppression).toBeNull();
    expect(bare.notes).toEqual([
      {
        kind: 'suppression',
        file: 'a.py',
        line: 3,
        message: expect.stringContaining('needs the finding IDs'),
      },
    ]);
    const unknown = parseSuppression('# vigil: ignore[code.sqli]', where);
    expect(unknown.suppression?.ids.size).toBe(0);
    expect(unknown.notes[0]?.message).toContain('unknown finding ID "code.sqli"');
  });

  it('leaves unrelated comments alone', () => {
    expect(parseSuppression('# vigilant: ignore this', where)).toEqual({ suppression: null, notes: [] });
  });
});

describe('inline suppression in a project', () => {
  let root = '';
  afterEach(() => removeProject(root));

  it('silences the named finding on the same line or the line above, and nothing else', async () => {
    root = await createProject({
      'app/views.py': `import os
from django.db import connection

def a(request, name):
    cursor = connection.cursor()
    cursor.execute(f"SELECT {name}")  # vigil: ignore[code.raw-sql] name is a column constant
    # vigil: ignore[code.raw-sql, code.command-injection] reviewed
    cursor.execute(f"SELECT {name}")
    cursor.execute(f"SELECT {name}")
    os.system("ls " + name)  # vigil: ignore[code.raw-sql]
    os.system("ls " + name)  # vigil: ignore
x = 1  # vigil: ignore[code.command-injection]
os.system("ls " + os.environ["D"])
`,
      'app/templates/app/page.html': `{# vigil: ignore[code.template-safe] trusted CMS HTML #}
{{ page.body|safe }}
{{ page.footer|safe }}
`,
    });
    const report = await auditProject(root);
    expect(report.findings.map((f) => `${f.location.file}:${f.location.line} ${f.id}`)).toEqual([
      'app/templates/app/page.html:3 code.template-safe',
      'app/views.py:9 code.raw-sql',
      'app/views.py:10 code.command-injection',
      'app/views.py:11 code.command-injection',
      'app/views.py:13 code.command-injection',
    ]);
    expect(report.notes).toEqual([
      {
        kind: 'suppression',
        file: 'app/views.py',
        line: 11,
        message: expect.stringContaining('"vigil: ignore" needs the finding IDs'),
      },
    ]);
  });
});
