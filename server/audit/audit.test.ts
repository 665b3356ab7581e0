import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { auditProject } from './audit';
import { auditEntries } from './catalogue-entries';
import { createProject, removeProject } from './testing';
import type { AuditFindingId, AuditReport } from './types';
import { MAX_FILE_BYTES } from './walk';

const TESTDATA = path.join(import.meta.dirname, 'testdata');

function located(report: AuditReport): string[] {
  return report.findings.map(
    ({ location, id }) => `${location.file}:${location.line}:${location.column} ${id}`,
  );
}

const audits = new Map<string, Promise<AuditReport>>();
function auditOf(project: string): Promise<AuditReport> {
  let report = audits.get(project);
  if (!report) {
    report = auditProject(path.join(TESTDATA, project));
    audits.set(project, report);
  }
  return report;
}

describe('auditProject over the corpus', () => {
  it('reports every mistake of the insecure project at its exact place, and nothing in migrations or tests', async () => {
    const report = await auditOf('insecure');
    expect(located(report)).toEqual([
      'orders/forms.py:10:9 code.mass-assignment',
      'orders/forms.py:16:9 code.mass-assignment',
      'orders/forms.py:22:9 code.mass-assignment',
      'orders/more.py:17:18 code.mass-assignment',
      'orders/more.py:20:1 code.csrf-exempt',
      'orders/more.py:23:16 code.deserialization',
      'orders/more.py:26:13 code.raw-sql',
      'orders/more.py:27:9 code.command-injection',
      'orders/more.py:28:16 code.open-redirect',
      'orders/more.py:33:16 code.idor',
      'orders/more.py:36:19 code.mark-safe',
      'orders/more.py:37:16 code.mark-safe',
      'orders/more.py:42:13 code.idor',
      'orders/more.py:43:14 code.command-injection',
      'orders/templates/orders/detail.html:4:19 code.template-safe',
      'orders/templates/orders/detail.html:5:1 code.template-safe',
      'orders/templates/orders/more.txt:2:1 code.template-safe',
      'orders/templates/orders/more.txt:3:1 code.template-safe',
      'orders/templates/orders/more.txt:4:1 code.template-safe',
      'orders/views.py:20:9 code.raw-sql',
      'orders/views.py:27:14 code.raw-sql',
      'orders/views.py:36:5 code.raw-sql',
      'orders/views.py:37:13 code.raw-sql',
      'orders/views.py:38:44 code.raw-sql',
      'orders/views.py:43:13 code.idor',
      'orders/views.py:48:13 code.idor',
      'orders/views.py:49:25 code.mark-safe',
      'orders/views.py:52:1 code.csrf-exempt',
      'orders/views.py:54:15 code.deserialization',
      'orders/views.py:55:14 code.deserialization',
      'orders/views.py:61:12 code.open-redirect',
      'orders/views.py:65:12 code.open-redirect',
      'orders/views.py:70:5 code.command-injection',
      'orders/views.py:71:5 code.command-injection',
      'orders/views.py:72:25 code.command-injection',
      'orders/views.py:77:5 code.mass-assignment',
      'shop/settings.py:1:1 settings.cookie-secure',
      'shop/settings.py:1:1 settings.cookie-secure',
      'shop/settings.py:1:1 settings.csp',
      'shop/settings.py:1:1 settings.hsts',
      'shop/settings.py:6:1 settings.secret-key',
      'shop/settings.py:8:1 settings.debug',
      'shop/settings.py:10:1 settings.allowed-hosts',
      'shop/settings.py:20:1 settings.middleware',
      'shop/settings.py:20:1 settings.middleware',
      'shop/settings.py:20:1 settings.middleware',
      'shop/settings.py:26:1 settings.ssl-redirect',
      'shop/settings.py:27:1 settings.cookie-httponly',
      'shop/settings.py:28:1 settings.password-validators',
      'shop/settings.py:30:1 settings.password-hasher',
      'shop/settings.py:35:1 settings.session-serializer',
      'shop/urls.py:8:19 code.csrf-exempt',
    ]);
    expect(report.filesScanned).toBe(13);
    expect(report.notes).toEqual([]);
  });

  it('finds nothing in the secure and near-miss projects', async () => {
    expect(located(await auditOf('secure'))).toEqual([]);
    expect(located(await auditOf('near-misses'))).toEqual([]);
  });

  it('evaluates split settings per deployable module: prod inherits base, dev keeps its mistakes', async () => {
    expect(located(await auditOf('split-settings'))).toEqual([
      'config/settings/base.py:23:1 settings.cookie-secure',
      'config/settings/dev.py:1:1 settings.cookie-secure',
      'config/settings/dev.py:1:1 settings.hsts',
      'config/settings/dev.py:1:1 settings.ssl-redirect',
      'config/settings/dev.py:3:1 settings.secret-key',
      'config/settings/dev.py:4:1 settings.debug',
    ]);
  });

  it('finds settings modules with no manage.py by their SECRET_KEY / INSTALLED_APPS', async () => {
    expect(located(await auditOf('legacy'))).toEqual([
      'legacy/bare.py:1:1 settings.cookie-secure',
      'legacy/bare.py:1:1 settings.cookie-secure',
      'legacy/bare.py:1:1 settings.csp',
      'legacy/bare.py:1:1 settings.hsts',
      'legacy/bare.py:1:1 settings.middleware',
      'legacy/bare.py:1:1 settings.middleware',
      'legacy/bare.py:1:1 settings.middleware',
      'legacy/bare.py:1:1 settings.password-validators',
      'legacy/bare.py:1:1 settings.secret-key',
      'legacy/bare.py:1:1 settings.ssl-redirect',
      'legacy/conf.py:1:1 settings.csp',
      'legacy/conf.py:1:1 settings.password-validators',
      'legacy/conf.py:1:1 settings.secret-key',
      'legacy/conf.py:9:1 settings.allowed-hosts',
      'legacy/conf.py:11:1 settings.hsts',
      'legacy/conf.py:13:1 settings.cookie-secure',
      'legacy/conf.py:14:1 settings.password-hasher',
    ]);
  });

  it('never copies a secret value into a finding', async () => {
    const insecure = await auditOf('insecure');
    const secretKey = insecure.findings.find((finding) => finding.id === 'settings.secret-key');
    expect(secretKey?.excerpt).toBe("SECRET_KEY = '…'");
    expect(secretKey?.detail).toBe('SECRET_KEY is a hard-coded django-insecure- key.');
    const everything = JSON.stringify([insecure, await auditOf('split-settings'), await auditOf('legacy')]);
    for (const secret of ['9x$k2m!q7w', 'dev-only-key', 'short-key'])
      expect(everything).not.toContain(secret);
    const dev = (await auditOf('split-settings')).findings.find(
      (finding) => finding.id === 'settings.secret-key',
    );
    expect(dev?.excerpt).toBe('SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "…")');
  });

  it('gives each finding the scan shape plus location and excerpt', async () => {
    const report = await auditOf('insecure');
    const finding = report.findings.find((candidate) => candidate.location.file === 'orders/views.py');
    expect(finding).toEqual({
      id: 'code.raw-sql',
      severity: 'high',
      title: 'SQL built from strings',
      detail:
        'cursor.execute() runs SQL built with an f-string; a value spliced into it can change the query.',
      evidence: expect.stringContaining('orders/views.py:20: cursor.execute(f"SELECT'),
      fix: auditEntries['code.raw-sql'].fix,
      location: { file: 'orders/views.py', line: 20, column: 9 },
      excerpt: `cursor.execute(f"SELECT id FROM orders_order WHERE note LIKE '%{term}%'")`,
    });
    const cookie = report.findings.filter((candidate) => candidate.id === 'settings.cookie-secure');
    expect(cookie.map((candidate) => candidate.django)).toEqual([
      { setting: 'SESSION_COOKIE_SECURE', checkId: 'security.W012' },
      { setting: 'CSRF_COOKIE_SECURE', checkId: 'security.W016' },
    ]);
  });
});

describe('auditProject on generated projects', () => {
  let root = '';
  afterEach(() => removeProject(root));

  it('redacts secrets on any line a finding points at, whatever the finding', async () => {
    root = await createProject({
      'settings.py': `DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "PASSWORD": "hunter2"}}
SECRET_KEY = os.environ["K"]
EMAIL_HOST_PASSWORD = "mail-pass-123"; DEBUG = True
`,
    });
    const report = await auditProject(root);
    const excerpts = report.findings.map((finding) => finding.excerpt);
    expect(excerpts).toContain(
      'DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "PASSWORD": "…"}}',
    );
    expect(excerpts).toContain('EMAIL_HOST_PASSWORD = "…"; DEBUG = True');
    expect(JSON.stringify(report)).not.toMatch(/hunter2|mail-pass-123/);
  });

  it('treats HTML outside templates/ as a template only when it has block tags', async () => {
    root = await createProject({
      'docs/guide.html': '<h1>Escaping</h1>\n<pre><code>{{ value|safe }}</code></pre>\n',
      'docs/notes.txt': 'Never write {{ value|safe }}.\n',
      'static/landing.html': '{% extends "base.html" %}\n{% block body %}{{ promo|safe }}{% endblock %}\n',
      'app/templates/app/mail.txt': 'Hello {{ name|safe }}\n',
    });
    const report = await auditProject(root);
    expect(
      report.findings.map((f) => `${f.location.file}:${f.location.line}:${f.location.column} ${f.id}`),
    ).toEqual([
      'app/templates/app/mail.txt:1:7 code.template-safe',
      'static/landing.html:2:17 code.template-safe',
    ]);
  });

  it('checks a DJANGO_SETTINGS_MODULE target even when it sets nothing at all', async () => {
    root = await createProject({
      'manage.py': 'import os\nos.environ.setdefault("DJANGO_SETTINGS_MODULE", "site.settings")\n',
      'site/settings.py': '# settings come later\n',
    });
    const report = await auditProject(root);
    expect(new Set(report.findings.map((f) => `${f.location.file}:${f.location.line} ${f.id}`))).toEqual(
      new Set([
        'site/settings.py:1 settings.ssl-redirect',
        'site/settings.py:1 settings.hsts',
        'site/settings.py:1 settings.cookie-secure',
        'site/settings.py:1 settings.password-validators',
        'site/settings.py:1 settings.csp',
        'site/settings.py:1 settings.middleware',
      ]),
    );
  });

  it('skips files over 1 MiB and binary files with a note', async () => {
    root = await createProject({
      'big.py': `import os\nos.system("rm " + os.environ["X"])\n${'#'.repeat(MAX_FILE_BYTES)}`,
      'blob.html': 'GIF89a\u0000\u0001{{ x|safe }}',
      'small.py': 'import os\nos.system("rm " + os.environ["X"])\n',
    });
    const report = await auditProject(root);
    expect(report.findings.map((finding) => finding.location.file)).toEqual(['small.py']);
    expect(report.filesScanned).toBe(1);
    expect(report.notes).toEqual([
      {
        kind: 'skipped',
        file: 'big.py',
        message: expect.stringMatching(/^larger than 1 MiB \(\d+ bytes\), not audited$/),
      },
      { kind: 'skipped', file: 'blob.html', message: 'binary file, not audited' },
    ]);
  });

  it('notes files it could not parse cleanly and still reports what it found', async () => {
    root = await createProject({
      'app/views.py': 'def broken(:\n    pass\n\ndef view(request):\n    eval(request.GET["x"])\n',
    });
    const report = await auditProject(root);
    expect(report.findings.map((finding) => `${finding.location.line} ${finding.id}`)).toEqual([
      '5 code.command-injection',
    ]);
    expect(report.notes).toEqual([
      {
        kind: 'parse-error',
        file: 'app/views.py',
        line: 1,
        message: expect.stringContaining('syntax error'),
      },
    ]);
  });
});

/**
 * Every audit ID both ways: where it fires in the corpus, and the near-miss (quoted from the file,
 * so the table cannot drift from the corpus) in a project that reports nothing.
 */
const COVERAGE: Record<
  AuditFindingId,
  { fires: string; silent: [project: string, file: string, nearMiss: string] }
> = {
  'settings.debug': {
    fires: 'insecure shop/settings.py:8:1',
    silent: ['secure', 'shop/settings.py', 'DEBUG = env.bool("DJANGO_DEBUG", default=False)'],
  },
  'settings.secret-key': {
    fires: 'split-settings config/settings/dev.py:3:1',
    silent: ['secure', 'shop/settings.py', 'SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]'],
  },
  'settings.allowed-hosts': {
    fires: 'legacy legacy/conf.py:9:1',
    silent: ['near-misses', 'site_config/settings.py', 'ALLOWED_HOSTS = [".example.com", "example.com"]'],
  },
  'settings.ssl-redirect': {
    fires: 'insecure shop/settings.py:26:1',
    silent: ['near-misses', 'site_config/settings.py', 'SECURE_SSL_REDIRECT = config("SECURE_SSL_REDIRECT"'],
  },
  'settings.hsts': {
    fires: 'legacy legacy/conf.py:11:1',
    silent: ['near-misses', 'site_config/settings.py', 'SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365'],
  },
  'settings.cookie-secure': {
    fires: 'split-settings config/settings/base.py:23:1',
    silent: ['near-misses', 'site_config/settings.py', 'CSRF_COOKIE_SECURE = not DEBUG'],
  },
  'settings.password-validators': {
    fires: 'insecure shop/settings.py:28:1',
    silent: ['secure', 'shop/settings.py', 'AUTH_PASSWORD_VALIDATORS = ['],
  },
  'settings.cookie-httponly': {
    fires: 'insecure shop/settings.py:27:1',
    silent: ['near-misses', 'site_config/settings.py', 'SESSION_COOKIE_HTTPONLY = True'],
  },
  'settings.password-hasher': {
    fires: 'legacy legacy/conf.py:14:1',
    silent: ['secure', 'shop/settings.py', '"django.contrib.auth.hashers.MD5PasswordHasher",'],
  },
  'settings.session-serializer': {
    fires: 'insecure shop/settings.py:35:1',
    silent: [
      'secure',
      'shop/settings.py',
      'SESSION_SERIALIZER = "django.contrib.sessions.serializers.JSONSerializer"',
    ],
  },
  'settings.csp': {
    fires: 'insecure shop/settings.py:1:1',
    silent: [
      'near-misses',
      'site_config/settings.py',
      '"django.middleware.csp.ContentSecurityPolicyMiddleware",',
    ],
  },
  'settings.middleware': {
    fires: 'insecure shop/settings.py:20:1',
    silent: [
      'near-misses',
      'site_config/settings.py',
      'MIDDLEWARE.insert(0, "django.middleware.security.SecurityMiddleware")',
    ],
  },
  'code.raw-sql': {
    fires: 'insecure orders/views.py:20:9',
    silent: [
      'secure',
      'orders/views.py',
      'cursor.execute("SELECT id FROM orders_order WHERE note LIKE %s", [f"%{term}%"])',
    ],
  },
  'code.mark-safe': {
    fires: 'insecure orders/views.py:49:25',
    silent: ['secure', 'orders/views.py', 'mark_safe("<b>literal</b>")'],
  },
  'code.template-safe': {
    fires: 'insecure orders/templates/orders/detail.html:4:19',
    silent: ['secure', 'orders/templates/orders/detail.html', '&#123;&#123; order.note|safe &#125;&#125;'],
  },
  'code.mass-assignment': {
    fires: 'insecure orders/forms.py:10:9',
    silent: ['secure', 'orders/forms.py', 'fields = ["note"]'],
  },
  'code.csrf-exempt': {
    fires: 'insecure orders/views.py:52:1',
    silent: ['secure', 'orders/views.py', 'from django.views.decorators.csrf import csrf_exempt'],
  },
  'code.idor': {
    fires: 'insecure orders/views.py:43:13',
    silent: ['secure', 'orders/views.py', 'get_object_or_404(Order, pk=pk, owner=request.user)'],
  },
  'code.deserialization': {
    fires: 'insecure orders/views.py:54:15',
    silent: ['secure', 'orders/views.py', 'yaml.load(request.body, Loader=yaml.SafeLoader)'],
  },
  'code.open-redirect': {
    fires: 'insecure orders/views.py:61:12',
    silent: ['secure', 'orders/views.py', 'if not url_has_allowed_host_and_scheme(target'],
  },
  'code.command-injection': {
    fires: 'insecure orders/views.py:70:5',
    silent: ['secure', 'orders/views.py', 'subprocess.run(["ls", directory]'],
  },
};

describe('every audit ID both ways', () => {
  it('covers the whole audit catalogue', () => {
    expect(Object.keys(COVERAGE).sort()).toEqual(Object.keys(auditEntries).sort());
  });

  for (const [id, { fires, silent }] of Object.entries(COVERAGE)) {
    it(`${id}: fires at ${fires}; silent on its near-miss in ${silent[0]}/${silent[1]}`, async () => {
      const [project, location] = fires.split(' ') as [string, string];
      expect(located(await auditOf(project))).toContain(`${location} ${id}`);
      const [quietProject, file, nearMiss] = silent;
      const source = await readFile(path.join(TESTDATA, quietProject, file), 'utf8');
      expect(source).toContain(nearMiss);
      expect((await auditOf(quietProject)).findings.filter((finding) => finding.id === id)).toEqual([]);
    });
  }
});
