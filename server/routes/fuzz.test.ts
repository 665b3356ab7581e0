import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../errors';
import { createTestApp, jsonRequest } from './test-app';

/**
 * Bad input, property-tested over every route the app has (read from the app itself, so a route added
 * later is fuzzed too): random and nearly-valid JSON bodies, malformed bodies and media types, odd query
 * strings and path parameters, with an admin token, a browser session or nothing. The answer is never a
 * 5xx; an error is always the one shape, with the status its code stands for and words a person can read.
 */

type TestApp = Awaited<ReturnType<typeof createTestApp>>;

const HOUR = 3_600_000;
const RUNS_PER_ROUTE = 40;

/** Valid bodies to start from, so mutations get past the first check and into the services. */
const EXAMPLE_BODIES: Record<string, Record<string, unknown>> = {
  'POST /api/sites': {
    host: 'new.example.com',
    label: 'New',
    tags: ['eu'],
    intervalMinutes: 60,
    enabled: true,
    allowPrivate: false,
  },
  'PATCH /api/sites/:id': { label: 'Renamed', tags: ['us'], intervalMinutes: 30, enabled: false },
  'PATCH /api/settings': {
    allowPrivate: true,
    retentionDays: 30,
    scanConcurrency: 4,
    defaultIntervalMinutes: 60,
  },
  'POST /api/incidents/:id/acknowledge': { note: 'seen it' },
  'PATCH /api/alerts/settings': {
    minSeverity: 'high',
    gradeDropSteps: 2,
    unreachableAfter: 3,
    reminderHours: 24,
    digestHour: 8,
  },
  'POST /api/alerts/recipients': {
    email: 'team@example.com',
    name: 'Team',
    mode: 'digest',
    enabled: true,
    subscriptions: [{ scope: 'tag', tag: 'eu' }],
  },
  'PATCH /api/alerts/recipients/:id': {
    name: 'Ops',
    mode: 'immediate',
    subscriptions: [{ scope: 'site', siteId: 1 }],
  },
  'POST /api/alerts/mutes': {
    siteId: 1,
    key: 'csp.missing',
    reason: 'known',
    expiresAt: '2026-03-08T12:00:00.000Z',
  },
  'POST /api/alerts/test': { to: 'team@example.com' },
  'POST /api/auth/setup': {
    token: 'a'.repeat(43),
    email: 'first@example.com',
    name: 'First',
    password: 'correct horse battery staple',
  },
  'POST /api/auth/login': { email: 'admin@vigil.test', password: 'not the password' },
  'POST /api/auth/password': { currentPassword: 'old', newPassword: 'a much longer new passphrase' },
  'POST /api/auth/invitation': { token: 'b'.repeat(43) },
  'POST /api/auth/invitation/accept': {
    token: 'b'.repeat(43),
    name: 'Ann',
    password: 'a long enough passphrase',
  },
  'POST /api/users/invitations': { email: 'ann@example.com', role: 'viewer' },
  'PATCH /api/users/:id': { name: 'Ann', role: 'viewer', disabled: false },
  'POST /api/tokens': { name: 'ci', scope: 'read' },
};

/** Query keys each route reads, with a valid value; any other key is fuzzed as well. */
const EXAMPLE_QUERIES: Record<string, Record<string, string>> = {
  'GET /api/sites': { q: 'shop', limit: '10', offset: '0', tag: 'eu' },
  'POST /api/sites/import': { atomic: 'true' },
  'GET /api/sites/:id/history': {
    from: '2026-01-01',
    to: '2026-12-31T00:00:00Z',
    limit: '10',
    cursor: 'abc',
  },
  'GET /api/scans/:id/diff': { against: 'previous' },
  'GET /api/overview': {
    sort: 'score',
    order: 'desc',
    grade: 'A+,F,none',
    tag: 'eu',
    q: 'x',
    limit: '5',
    offset: '1',
  },
  'GET /api/incidents': { status: 'all', limit: '10', offset: '0', siteId: '1' },
  'GET /api/alerts/mutes': { siteId: '1' },
  'GET /api/audit': { limit: '10', before: '5', action: 'site.create' },
};

/** Strings that have broken parsers before: numbers out of range, dates that are not, prototype keys, control and astral characters. */
const trickyText = fc.constantFrom(
  '',
  ' ',
  '0',
  '-1',
  '1.5',
  '1e400',
  'NaN',
  'Infinity',
  '9007199254740993',
  '99999999999999999999999',
  'null',
  'true',
  '[]',
  '{}',
  '__proto__',
  'constructor',
  '%00',
  '%',
  '\u0000',
  '\ud800',
  '😀',
  'a'.repeat(3000),
  '../../etc/passwd',
  "' OR 1=1 --",
  '<script>alert(1)</script>',
  '2026-02-30',
  '2026-13-01T00:00:00Z',
  '0000-01-01',
  '+275760-09-13T00:00:00.001Z',
  'A+',
  'previous',
  'https://shop.example.com/',
  '127.0.0.1',
  '169.254.169.254',
  'xn--',
);

const anyText = fc.oneof(
  trickyText,
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 24 }),
  fc.integer().map(String),
);

const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  trickyText,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string({ maxLength: 8 }), { maxLength: 30 }),
  fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }),
);

/** JSON text of an object from entries, so `__proto__` and repeated keys survive as written. */
function objectJson(entries: [string, unknown][]): string {
  return `{${entries.map(([key, value]) => `${JSON.stringify(key)}:${JSON.stringify(value) ?? 'null'}`).join(',')}}`;
}

/** A valid body with up to two changes: a key dropped, a value swapped for anything, or a stray key added. */
function nearlyValid(example: Record<string, unknown>): fc.Arbitrary<string> {
  const keys = Object.keys(example);
  const strayKey = fc.oneof(
    fc.string({ maxLength: 8 }),
    fc.constantFrom('__proto__', 'constructor', 'id', keys[0]!),
  );
  const change = fc.oneof(
    fc.record({
      kind: fc.constant('drop' as const),
      key: fc.constantFrom(...keys),
      value: fc.constant(null),
    }),
    fc.record({ kind: fc.constant('set' as const), key: fc.constantFrom(...keys), value: anyJson }),
    fc.record({ kind: fc.constant('add' as const), key: strayKey, value: anyJson }),
  );
  return fc.array(change, { maxLength: 2 }).map((changes) => {
    const entries: [string, unknown][] = keys.map((key) => [key, example[key]]);
    for (const { kind, key, value } of changes) {
      const at = entries.findIndex(([name]) => name === key);
      if (kind === 'drop' && at >= 0) entries.splice(at, 1);
      else if (kind === 'set' && at >= 0) entries[at] = [key, value];
      else if (kind === 'add') entries.push([key, value]);
    }
    return objectJson(entries);
  });
}

interface Body {
  type: string | null;
  text: string | null;
}

const JSON_TYPES = ['application/json', 'application/json; charset=utf-8', 'application/merge-patch+json'];

function bodyFor(route: string): fc.Arbitrary<Body> {
  const example = EXAMPLE_BODIES[route];
  const json = (text: fc.Arbitrary<string>) => fc.record({ type: fc.constantFrom(...JSON_TYPES), text });
  return fc.oneof(
    ...(example ? [{ weight: 4, arbitrary: json(nearlyValid(example)) }] : []),
    { weight: 2, arbitrary: json(anyJson.map((value) => JSON.stringify(value) ?? 'null')) },
    // Not JSON at all, or JSON under another media type.
    {
      weight: 1,
      arbitrary: fc.record({
        type: fc.constantFrom(
          ...JSON_TYPES,
          'text/plain',
          'text/csv',
          'application/x-www-form-urlencoded',
          'multipart/form-data; boundary=x',
          '',
        ),
        text: fc.oneof(anyText, fc.constant(example ? JSON.stringify(example) : '{}')),
      }),
    },
    { weight: 1, arbitrary: fc.constant({ type: null, text: null }) },
  );
}

/** The import takes CSV or one host per line: lines of hosts, labels, tags and intervals, with quotes and commas where they hurt. */
const csvBody: fc.Arbitrary<Body> = fc
  .array(
    fc.array(
      fc.oneof(
        fc.constantFrom(
          'host',
          'label',
          'tags',
          'interval',
          'shop.example.com',
          '6h',
          '"eu;us"',
          '"a""b"',
          '"',
          ',',
        ),
        anyText,
      ),
      {
        minLength: 1,
        maxLength: 5,
      },
    ),
    { maxLength: 12 },
  )
  .chain((rows) =>
    fc.record({
      type: fc.constantFrom(
        'text/csv',
        'text/plain; charset=utf-8',
        'application/octet-stream',
        'application/json',
        '',
      ),
      text: fc
        .constantFrom('\n', '\r\n')
        .map((newline) => rows.map((cells) => cells.join(',')).join(newline)),
    }),
  );

function queryFor(route: string): fc.Arbitrary<string> {
  const example = EXAMPLE_QUERIES[route] ?? {};
  const keys = Object.keys(example);
  const key =
    keys.length > 0
      ? fc.oneof(fc.constantFrom(...keys), fc.string({ maxLength: 6 }))
      : fc.string({ maxLength: 6 });
  const pairs = fc.array(fc.tuple(key, anyText), { maxLength: 4 });
  // Escapes URLSearchParams would never write, as a hand-made client or an attacker might send them.
  const raw = fc.option(
    fc.constantFrom('limit=%ZZ', 'q=%ED%A0%80', 'offset=%', '=', '&&', 'a[b]=1', 'limit'),
  );
  return fc.record({ base: fc.boolean(), pairs, raw }).map(({ base, pairs: extra, raw: rawPart }) => {
    const params = new URLSearchParams(base ? example : {});
    for (const [name, value] of extra) params.append(name, value);
    const text = [params.toString(), rawPart ?? ''].filter(Boolean).join('&');
    return text ? `?${text}` : '';
  });
}

/** Every UTF-8 byte percent-encoded (a lone surrogate becomes U+FFFD, as a client would send it). */
function encodeSegment(text: string): string {
  return [...Buffer.from(text, 'utf8')].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join('');
}

/** Path parameters: ids that exist, numbers that do not, anything encoded, and raw escapes no decoder likes. */
const paramValue = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('1', '2', '3') },
  { weight: 1, arbitrary: fc.integer({ min: -5, max: 2 ** 40 }).map(String) },
  { weight: 1, arbitrary: anyText.map(encodeSegment) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('%', '%ZZ', '%ED%A0%80', '%C0%AE%C0%AE', '%E0%A4%A', '1%00', '1;2', '1,2'),
  },
);

type Who = 'admin-token' | 'admin-session' | 'viewer-session' | 'anonymous';

/** A fleet to act on: sites, finished scans (a diff has two ends), a recipient and a mute. */
async function seededApp(): Promise<TestApp> {
  const t = await createTestApp();
  // Started (its clock moves only by hand): /healthz answers 200 and new sites wake it.
  await t.scheduler.start();
  for (const host of ['shop.example.com', 'blog.example.com']) {
    expect((await t.app.request('/api/sites', jsonRequest('POST', { host, tags: ['eu'] }))).status).toBe(201);
  }
  await t.scheduler.tick();
  await t.scheduler.drain();
  t.clock.advance(HOUR);
  expect((await t.app.request('/api/sites/1/scan', { method: 'POST' })).status).toBe(202);
  await t.scheduler.tick();
  await t.scheduler.drain();
  const recipient = { email: 'ops@example.com', mode: 'immediate' };
  expect((await t.app.request('/api/alerts/recipients', jsonRequest('POST', recipient))).status).toBe(201);
  const mute = { siteId: 1, key: 'hsts.missing', reason: 'known', expiresAt: '2026-03-02T12:00:00.000Z' };
  expect((await t.app.request('/api/alerts/mutes', jsonRequest('POST', mute))).status).toBe(201);
  return t;
}

async function send(t: TestApp, method: string, path: string, body: Body, who: Who): Promise<Response> {
  const headers: Record<string, string> = {};
  if (body.type) headers['content-type'] = body.type;
  const init: RequestInit = {
    method,
    headers,
    ...(body.text !== null && method !== 'GET' ? { body: body.text } : {}),
  };
  if (who === 'anonymous') return t.anonymous.request(path, init);
  if (who === 'admin-token') return t.app.request(path, init);
  const user = who === 'admin-session' ? t.admin : await t.createUser({ role: 'viewer' });
  return t.as(await t.sessionFor(user)).request(path, init);
}

/** The contract of every answer: no 5xx; an error is the one shape, its code the status's, its message words. */
async function expectClearAnswer(response: Response, what: string): Promise<void> {
  const text = await response.text();
  expect(response.status, `${what} → ${response.status} ${text.slice(0, 300)}`).toBeLessThan(500);
  if (response.status < 400) return;
  const body = JSON.parse(text) as { error?: Record<string, unknown> };
  expect(Object.keys(body), what).toEqual(['error']);
  const error = body.error!;
  expect(
    Object.keys(error).filter((key) => !['code', 'message', 'details'].includes(key)),
    what,
  ).toEqual([]);
  expect(ERROR_CODES[error.code as keyof typeof ERROR_CODES], `${what}: code ${String(error.code)}`).toBe(
    response.status,
  );
  expect(error.message, what).toEqual(expect.stringMatching(/\w/));
  expect(error.message, what).not.toBe('Internal server error');
}

let routes: { method: string; path: string }[];

beforeAll(async () => {
  const t = await createTestApp();
  const seen = new Set<string>();
  routes = t.anonymous.routes
    .filter((route) => route.method !== 'ALL' && !route.path.includes('*'))
    .filter((route) => {
      const key = `${route.method} ${route.path}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .map(({ method, path }) => ({ method, path }));
  await t.close();
});

describe('every route under bad input', () => {
  it('covers the whole API, and the routes this test knows valid examples for still exist', () => {
    const names = new Set(routes.map((route) => `${route.method} ${route.path}`));
    expect(routes.length).toBeGreaterThan(30);
    for (const route of [...Object.keys(EXAMPLE_BODIES), ...Object.keys(EXAMPLE_QUERIES)]) {
      expect(names.has(route), route).toBe(true);
    }
  });

  it('never answers 5xx, and every error is a clear 4xx in the one shape', async () => {
    for (const route of routes) {
      // A fresh fleet per route: one route deleting sites or revoking the token must not starve the next.
      const t = await seededApp();
      const name = `${route.method} ${route.path}`;
      const params = (route.path.match(/:\w+/g) ?? []).length;
      await fc.assert(
        fc.asyncProperty(
          fc.array(paramValue, { minLength: params, maxLength: params }),
          queryFor(name),
          name === 'POST /api/sites/import' ? csvBody : bodyFor(name),
          fc.constantFrom<Who>('admin-token', 'admin-token', 'admin-session', 'viewer-session', 'anonymous'),
          async (values, query, body, who) => {
            let index = 0;
            const path = route.path.replace(/:\w+/g, () => values[index++] ?? '');
            const response = await send(t, route.method, `${path}${query}`, body, who);
            await expectClearAnswer(
              response,
              `${who} ${route.method} ${path}${query} ${body.type} ${body.text?.slice(0, 200)}`,
            );
          },
        ),
        { numRuns: RUNS_PER_ROUTE },
      );
      await t.close();
    }
  }, 120_000);
});
