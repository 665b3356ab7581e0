import { describe, expect, it } from 'vitest';
import { lineStarts, positionAt } from '../finding';
import { parsePython } from '../python';
import { type SettingsFacts, settingsFactsOf } from './facts';
import { buildModuleIndex, findSettingsModules, resolveModule } from './project';
import { settingsHits } from './rules';

/** Runs the settings checks over an in-memory project; returns `file:line id` per hit and the leaves. */
function auditSettings(files: Record<string, string>) {
  const facts = new Map<string, SettingsFacts>();
  for (const [file, source] of Object.entries(files))
    facts.set(file, settingsFactsOf(parsePython(file, source)));
  const index = buildModuleIndex(Object.keys(files));
  const { modules, leaves } = findSettingsModules(index, facts);
  const result = settingsHits(index, facts, leaves);
  const hits = result.hits.map(({ file, hit }) => {
    const { line } = positionAt(lineStarts(files[file]!), hit.at);
    return `${file}:${line} ${hit.id}`;
  });
  return { modules, leaves, hits: hits.sort(), unknownImports: result.unknownImports };
}

/** A settings module with every hardening setting right, to which tests add one mistake. */
const SOUND = `import os
SECRET_KEY = os.environ["SECRET_KEY"]
INSTALLED_APPS = ["django.contrib.auth"]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
SECURE_CSP = {"default-src": ["'self'"]}
SECURE_SSL_REDIRECT = True
SECURE_HSTS_SECONDS = 31536000
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
AUTH_PASSWORD_VALIDATORS = [{"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"}]
`;

describe('settings module detection', () => {
  it('follows DJANGO_SETTINGS_MODULE from manage.py and wsgi.py and what those modules star-import', () => {
    const { modules, leaves } = auditSettings({
      'manage.py':
        'import os\ndef main():\n    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings.dev")\n',
      'proj/wsgi.py': 'import os\nos.environ["DJANGO_SETTINGS_MODULE"] = "proj.settings.prod"\n',
      'proj/settings/base.py': 'from .components.security import *\nDEBUG = False\n',
      'proj/settings/components/security.py': 'SECURE_SSL_REDIRECT = True\n',
      'proj/settings/dev.py': 'from .base import *\n',
      'proj/settings/prod.py': 'from proj.settings.base import *\n',
      'proj/helpers.py': 'DEBUG = True\n',
    });
    expect(modules).toEqual([
      'proj/settings/base.py',
      'proj/settings/components/security.py',
      'proj/settings/dev.py',
      'proj/settings/prod.py',
    ]);
    expect(leaves).toEqual(['proj/settings/dev.py', 'proj/settings/prod.py']);
  });

  it('counts any module assigning SECRET_KEY or INSTALLED_APPS as a settings module', () => {
    const { modules } = auditSettings({
      'a/conf.py': 'INSTALLED_APPS = []\n',
      'b/other.py': 'DEBUG = True\n',
    });
    expect(modules).toEqual(['a/conf.py']);
  });

  it('resolves relative, absolute and missing imports', () => {
    const index = buildModuleIndex(['proj/settings/__init__.py', 'proj/settings/base.py', 'proj/util.py']);
    expect(resolveModule(index, 'proj/settings/prod.py', '.base')).toEqual({
      kind: 'file',
      file: 'proj/settings/base.py',
    });
    expect(resolveModule(index, 'proj/settings/prod.py', '..util')).toEqual({
      kind: 'file',
      file: 'proj/util.py',
    });
    expect(resolveModule(index, 'manage.py', 'proj.settings')).toEqual({
      kind: 'file',
      file: 'proj/settings/__init__.py',
    });
    expect(resolveModule(index, 'proj/settings/prod.py', '.local')).toEqual({ kind: 'absent' });
    expect(resolveModule(index, 'proj/settings/prod.py', 'proj.settings.local')).toEqual({ kind: 'absent' });
    expect(resolveModule(index, 'proj/settings/prod.py', 'otherpkg.settings')).toEqual({ kind: 'external' });
  });
});

describe('settings checks', () => {
  it('a sound settings module has no findings', () => {
    expect(auditSettings({ 'settings.py': SOUND }).hits).toEqual([]);
  });

  it('counts environment reads as configured: os.environ, os.getenv, env(), env.bool(), config()', () => {
    const source = `import os
from decouple import config
import environ
env = environ.Env()
SECRET_KEY = env("SECRET_KEY")
INSTALLED_APPS = []
DEBUG = env.bool("DEBUG", default=True)
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
]
SECURE_SSL_REDIRECT = os.environ.get("SSL_REDIRECT") == "1"
SECURE_HSTS_SECONDS = int(os.getenv("HSTS", "0"))
SESSION_COOKIE_SECURE = config("SECURE_COOKIES", cast=bool)
CSRF_COOKIE_SECURE = os.environ["SECURE_COOKIES"]
AUTH_PASSWORD_VALIDATORS = load_validators()
`;
    expect(auditSettings({ 'settings.py': source }).hits).toEqual([]);
  });

  it('reports SECRET_KEY literals and literal fallbacks, but not an env read without one', () => {
    const cases: Array<[string, boolean]> = [
      ['SECRET_KEY = "x" * 64', true],
      ['SECRET_KEY = os.environ.get("SECRET_KEY", "dev-key")', true],
      ['SECRET_KEY = os.getenv("SECRET_KEY", default="dev-key")', true],
      ['SECRET_KEY = env("SECRET_KEY", default="dev-key")', true],
      ['SECRET_KEY = os.environ.get("SECRET_KEY") or "dev-key"', true],
      ['SECRET_KEY = os.environ.get("SECRET_KEY")', false],
      ['SECRET_KEY = os.environ.get("SECRET_KEY", "")', false],
      ['SECRET_KEY = read_secret("/run/secrets/key")', false],
    ];
    for (const [line, fires] of cases) {
      const { hits } = auditSettings({ 'settings.py': `${SOUND}${line}\n` });
      expect(hits, line).toEqual(fires ? ['settings.py:15 settings.secret-key'] : []);
    }
  });

  it('reports each dangerous literal at its line', () => {
    const source = `${SOUND}DEBUG = "False"
ALLOWED_HOSTS = ["example.com"]
ALLOWED_HOSTS += ["*"]
SESSION_COOKIE_HTTPONLY = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.SHA1PasswordHasher"]
SESSION_SERIALIZER = "django.contrib.sessions.serializers.PickleSerializer"
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
CSRF_COOKIE_SECURE = None
AUTH_PASSWORD_VALIDATORS = []
MIDDLEWARE.remove("django.middleware.csrf.CsrfViewMiddleware")
`;
    expect(auditSettings({ 'settings.py': source }).hits).toEqual(
      [
        'settings.py:15 settings.debug',
        'settings.py:17 settings.allowed-hosts',
        'settings.py:18 settings.cookie-httponly',
        'settings.py:19 settings.password-hasher',
        'settings.py:20 settings.session-serializer',
        'settings.py:21 settings.ssl-redirect',
        'settings.py:22 settings.hsts',
        'settings.py:23 settings.cookie-secure',
        'settings.py:24 settings.password-validators',
        'settings.py:4 settings.middleware',
      ].sort(),
    );
  });

  it('points missing settings at the first statement of the deployable module', () => {
    const source = `"""Minimal settings."""
SECRET_KEY = os.environ["K"]
MIDDLEWARE = []
`;
    expect(auditSettings({ 'settings.py': source }).hits).toEqual(
      [
        'settings.py:1 settings.cookie-secure',
        'settings.py:1 settings.cookie-secure',
        'settings.py:1 settings.csp',
        'settings.py:1 settings.hsts',
        'settings.py:1 settings.password-validators',
        'settings.py:1 settings.ssl-redirect',
        'settings.py:3 settings.middleware',
        'settings.py:3 settings.middleware',
        'settings.py:3 settings.middleware',
      ].sort(),
    );
  });

  it('lets a leaf inherit what its base configures, and reports a base literal once for every leaf', () => {
    const { hits } = auditSettings({
      'manage.py': 'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cfg.dev")\n',
      'cfg/wsgi.py': 'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cfg.prod")\n',
      'cfg/base.py': SOUND.replace('SESSION_COOKIE_SECURE = True', 'DEBUG = True'),
      'cfg/dev.py': 'from .base import *\n',
      'cfg/prod.py': 'from .base import *\nDEBUG = False\nSESSION_COOKIE_SECURE = True\n',
    });
    expect(hits).toEqual(['cfg/base.py:12 settings.debug', 'cfg/dev.py:1 settings.cookie-secure']);
  });

  it('skips missing-setting checks when a star import leads outside the project', () => {
    const result = auditSettings({
      'settings.py': 'from company_defaults.settings import *\nSECRET_KEY = "k"\n',
    });
    expect(result.hits).toEqual(['settings.py:2 settings.secret-key']);
    expect(result.unknownImports).toEqual([{ file: 'settings.py', module: 'company_defaults.settings' }]);
  });

  it('ignores an optional local module that does not exist and survives import cycles', () => {
    const { hits } = auditSettings({
      'proj/settings.py': `${SOUND}try:\n    from .local import *\nexcept ImportError:\n    pass\nfrom .extra import *\n`,
      'proj/extra.py': 'from .settings import *\nDEBUG = True\n',
    });
    expect(hits).toEqual(['proj/extra.py:2 settings.debug']);
  });

  it('counts conditional assignments as configured but does not hold their literals against the project', () => {
    const source = `${SOUND}if os.environ.get("DJANGO_DEV"):
    DEBUG = True
    ALLOWED_HOSTS = ["*"]
    SECURE_SSL_REDIRECT = False
    SECRET_KEY = "dev-key"
if "test" in sys.argv:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
for _ in range(1):
    AUTH_PASSWORD_VALIDATORS = []
`;
    expect(auditSettings({ 'settings.py': source }).hits).toEqual(['settings.py:19 settings.secret-key']);
  });

  it('does not guess when MIDDLEWARE is computed', () => {
    const source = SOUND.replace(/MIDDLEWARE = \[[^\]]*\]/, 'MIDDLEWARE = build_middleware()').replace(
      'SECURE_CSP = {"default-src": ["\'self\'"]}',
      '',
    );
    expect(auditSettings({ 'settings.py': source }).hits).toEqual([]);
  });
});
