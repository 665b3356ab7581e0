import type { PyValue } from '../python';
import type { RuleHit } from '../types';
import type { SettingsFacts, SettingValue } from './facts';
import { type ModuleIndex, resolveModule } from './project';

type Range = readonly [number, number];

interface Origin {
  file: string;
  at: number;
  redact: readonly Range[];
  /** Set under an if/for/while: counts as configured, but its literal is not held against the project. */
  conditional: boolean;
}

/** A setting's value after a settings module and everything it star-imports has run. */
interface EffectiveSetting {
  value: SettingValue;
  origin: Origin;
  /** String items of a list setting with where each came from; null when not known literally. */
  items: Array<{ value: string; origin: Origin }> | null;
}

interface EffectiveSettings {
  settings: Map<string, EffectiveSetting>;
  /** Star imports of code outside the project: whatever they set is unknown. */
  unknownImports: string[];
}

/** A settings hit in some file (settings findings can point into a star-imported base module). */
export interface SettingsHit {
  file: string;
  hit: RuleHit;
}

function listItems(value: SettingValue, origin: Origin): EffectiveSetting['items'] {
  if (value.kind !== 'literal' || !Array.isArray(value.value)) return null;
  const strings = value.value.filter((item): item is string => typeof item === 'string');
  return strings.length === value.value.length ? strings.map((item) => ({ value: item, origin })) : null;
}

/** Runs a settings module's events in order, star imports inline, the way Python would. */
function runModule(
  index: ModuleIndex,
  facts: ReadonlyMap<string, SettingsFacts>,
  file: string,
  state: EffectiveSettings,
  running: Set<string>,
): void {
  if (running.has(file)) return;
  running.add(file);
  for (const event of facts.get(file)?.events ?? []) {
    if (event.kind === 'assign') {
      const origin = { file, at: event.at, redact: event.redact, conditional: event.conditional };
      state.settings.set(event.name, { value: event.value, origin, items: listItems(event.value, origin) });
    } else if (event.kind === 'extend') {
      const current = state.settings.get(event.name);
      const origin = { file, at: event.at, redact: [], conditional: event.conditional };
      const added = event.items?.map((value) => ({ value, origin })) ?? null;
      if (!current) state.settings.set(event.name, { value: { kind: 'computed' }, origin, items: null });
      else current.items = current.items && added ? [...current.items, ...added] : null;
    } else if (event.kind === 'remove') {
      const current = state.settings.get(event.name);
      if (current?.items) current.items = current.items.filter((item) => item.value !== event.item);
    } else {
      const target = resolveModule(index, file, event.module);
      if (target.kind === 'file') runModule(index, facts, target.file, state, running);
      else if (target.kind === 'external') state.unknownImports.push(event.module);
    }
  }
  running.delete(file);
}

function isTruthy(value: PyValue): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object' && value !== null) return true;
  return Boolean(value);
}

/** How Python would print a literal, for messages. */
function pythonRepr(value: PyValue): string {
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (value === null) return 'None';
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(pythonRepr).join(', ')}]`;
  return typeof value === 'number' ? String(value) : '{…}';
}

/** The setting's literal value, unless it was set conditionally. */
function literalOf(setting: EffectiveSetting | undefined): { value: PyValue } | null {
  if (!setting || setting.origin.conditional) return null;
  return setting.value.kind === 'literal' ? { value: setting.value.value } : null;
}

const WEAK_HASHERS = new Set([
  'MD5PasswordHasher',
  'SHA1PasswordHasher',
  'UnsaltedMD5PasswordHasher',
  'UnsaltedSHA1PasswordHasher',
  'CryptPasswordHasher',
]);

const REQUIRED_MIDDLEWARE = [
  {
    name: 'SecurityMiddleware',
    path: 'django.middleware.security.SecurityMiddleware',
    checkId: 'security.W001',
  },
  { name: 'CsrfViewMiddleware', path: 'django.middleware.csrf.CsrfViewMiddleware', checkId: 'security.W003' },
  {
    name: 'XFrameOptionsMiddleware',
    path: 'django.middleware.clickjacking.XFrameOptionsMiddleware',
    checkId: 'security.W002',
  },
] as const;

const CSP_MIDDLEWARE = new Set(['CSPMiddleware', 'ContentSecurityPolicyMiddleware']);
const CSP_SETTINGS = ['SECURE_CSP', 'SECURE_CSP_REPORT_ONLY'];

function className(path: string): string {
  return path.slice(path.lastIndexOf('.') + 1);
}

function secretKeyProblem(setting: EffectiveSetting): string | null {
  const { value } = setting;
  if (value.kind === 'literal' && typeof value.value === 'string') {
    if (value.value.startsWith('django-insecure-')) return 'SECRET_KEY is a hard-coded django-insecure- key.';
    if (value.value.length < 50)
      return 'SECRET_KEY is hard-coded in the source and shorter than 50 characters.';
    return 'SECRET_KEY is hard-coded in the source.';
  }
  if (value.kind === 'env' && typeof value.fallback === 'string' && value.fallback !== '') {
    return 'SECRET_KEY falls back to a hard-coded key when the environment variable is unset.';
  }
  return null;
}

/** The checks of one deployable settings module (a leaf) over its effective settings. */
function checkLeaf(leaf: string, firstStatementAt: number, state: EffectiveSettings): SettingsHit[] {
  const hits: SettingsHit[] = [];
  const { settings } = state;
  const at = (origin: Origin, hit: Omit<RuleHit, 'at'>) => {
    const redact = hit.id === 'settings.secret-key' ? { redact: origin.redact } : {};
    hits.push({ file: origin.file, hit: { ...hit, at: origin.at, ...redact } });
  };
  const missing = (hit: Omit<RuleHit, 'at'>) =>
    hits.push({ file: leaf, hit: { ...hit, at: firstStatementAt } });
  const canTellMissing = state.unknownImports.length === 0;

  const debug = settings.get('DEBUG');
  const debugValue = literalOf(debug);
  if (debug && debugValue && isTruthy(debugValue.value)) {
    at(debug.origin, {
      id: 'settings.debug',
      detail: 'DEBUG is set to a true literal instead of being read from the environment.',
    });
  }

  // A hard-coded key is in the repository whether or not the branch that sets it runs.
  const secretKey = settings.get('SECRET_KEY');
  const secretProblem = secretKey ? secretKeyProblem(secretKey) : null;
  if (secretKey && secretProblem) at(secretKey.origin, { id: 'settings.secret-key', detail: secretProblem });

  for (const item of settings.get('ALLOWED_HOSTS')?.items ?? []) {
    if (item.value === '*' && !item.origin.conditional) {
      at(item.origin, {
        id: 'settings.allowed-hosts',
        detail: "ALLOWED_HOSTS contains '*', so any Host header is accepted.",
      });
    }
  }

  const offWhenFalsy = [
    {
      name: 'SECURE_SSL_REDIRECT',
      id: 'settings.ssl-redirect',
      django: { setting: 'SECURE_SSL_REDIRECT', checkId: 'security.W008' },
    },
    {
      name: 'SECURE_HSTS_SECONDS',
      id: 'settings.hsts',
      django: { setting: 'SECURE_HSTS_SECONDS', checkId: 'security.W004' },
    },
    {
      name: 'SESSION_COOKIE_SECURE',
      id: 'settings.cookie-secure',
      django: { setting: 'SESSION_COOKIE_SECURE', checkId: 'security.W012' },
    },
    {
      name: 'CSRF_COOKIE_SECURE',
      id: 'settings.cookie-secure',
      django: { setting: 'CSRF_COOKIE_SECURE', checkId: 'security.W016' },
    },
  ] as const;
  for (const { name, id, django } of offWhenFalsy) {
    const setting = settings.get(name);
    const literal = literalOf(setting);
    if (setting && literal && !isTruthy(literal.value)) {
      at(setting.origin, { id, detail: `${name} is set to ${pythonRepr(literal.value)}.`, django });
    } else if (!setting && canTellMissing) {
      missing({ id, detail: `${name} is not set in this settings module or anything it imports.`, django });
    }
  }

  const validators = settings.get('AUTH_PASSWORD_VALIDATORS');
  if (validators?.items?.length === 0 && !validators.origin.conditional) {
    at(validators.origin, {
      id: 'settings.password-validators',
      detail: 'AUTH_PASSWORD_VALIDATORS is empty.',
    });
  } else if (!validators && canTellMissing) {
    missing({
      id: 'settings.password-validators',
      detail: 'AUTH_PASSWORD_VALIDATORS is not set, so any password is accepted.',
    });
  }

  const httpOnly = settings.get('SESSION_COOKIE_HTTPONLY');
  const httpOnlyValue = literalOf(httpOnly);
  if (httpOnly && httpOnlyValue && !isTruthy(httpOnlyValue.value)) {
    at(httpOnly.origin, { id: 'settings.cookie-httponly', detail: 'SESSION_COOKIE_HTTPONLY is turned off.' });
  }

  const [firstHasher] = settings.get('PASSWORD_HASHERS')?.items ?? [];
  if (firstHasher && !firstHasher.origin.conditional && WEAK_HASHERS.has(className(firstHasher.value))) {
    at(firstHasher.origin, {
      id: 'settings.password-hasher',
      detail: `The first password hasher is ${className(firstHasher.value)}, so new passwords are stored with it.`,
    });
  }

  const serializer = settings.get('SESSION_SERIALIZER');
  const serializerValue = literalOf(serializer);
  if (
    serializer &&
    typeof serializerValue?.value === 'string' &&
    className(serializerValue.value) === 'PickleSerializer'
  ) {
    at(serializer.origin, {
      id: 'settings.session-serializer',
      detail: 'SESSION_SERIALIZER is the PickleSerializer.',
    });
  }

  const middleware = settings.get('MIDDLEWARE') ?? settings.get('MIDDLEWARE_CLASSES');
  const classes = middleware?.items?.map((item) => className(item.value));
  const hasCspSetting = CSP_SETTINGS.some((name) => {
    const setting = settings.get(name);
    return setting !== undefined && !(setting.value.kind === 'literal' && setting.value.value === null);
  });
  const hasCspMiddleware = classes?.some((name) => CSP_MIDDLEWARE.has(name)) ?? false;
  if (!hasCspSetting && !hasCspMiddleware && canTellMissing && (classes !== undefined || !middleware)) {
    missing({
      id: 'settings.csp',
      detail: 'Neither django-csp’s CSPMiddleware nor Django’s SECURE_CSP is configured.',
    });
  }

  if (middleware && classes) {
    for (const required of REQUIRED_MIDDLEWARE) {
      if (classes.includes(required.name)) continue;
      at(middleware.origin, {
        id: 'settings.middleware',
        detail: `${required.path} is not in MIDDLEWARE.`,
        django: { setting: 'MIDDLEWARE', checkId: required.checkId },
      });
    }
  } else if (!middleware && canTellMissing) {
    for (const required of REQUIRED_MIDDLEWARE) {
      missing({
        id: 'settings.middleware',
        detail: `MIDDLEWARE is not set, so ${required.path} does not run.`,
        django: { setting: 'MIDDLEWARE', checkId: required.checkId },
      });
    }
  }
  return hits;
}

/**
 * Evaluates every deployable settings module (with what it star-imports) and reports each problem
 * once, at the line that causes it, or at the leaf module when a setting is missing altogether.
 */
export function settingsHits(
  index: ModuleIndex,
  facts: ReadonlyMap<string, SettingsFacts>,
  leaves: readonly string[],
): { hits: SettingsHit[]; unknownImports: Array<{ file: string; module: string }> } {
  const hits: SettingsHit[] = [];
  const seen = new Set<string>();
  const unknownImports: Array<{ file: string; module: string }> = [];
  for (const leaf of leaves) {
    const state: EffectiveSettings = { settings: new Map(), unknownImports: [] };
    runModule(index, facts, leaf, state, new Set());
    unknownImports.push(...state.unknownImports.map((module) => ({ file: leaf, module })));
    for (const found of checkLeaf(leaf, facts.get(leaf)?.firstStatementAt ?? 0, state)) {
      const key = `${found.hit.id}|${found.file}|${found.hit.at}|${found.hit.detail}`;
      if (seen.has(key)) continue;
      seen.add(key);
      hits.push(found);
    }
  }
  return { hits, unknownImports };
}
