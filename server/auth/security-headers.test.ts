import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSignedInApp, createTestApp, jsonRequest, readJson, TEST_DEFAULTS } from '../routes/test-app';
import { API_CSP, DASHBOARD_CSP, HSTS, securityHeadersFor } from './security-headers';

let t: Awaited<ReturnType<typeof createTestApp>>;
let dist: string;
beforeEach(async () => {
  t = await createTestApp({ trustProxy: true });
  dist = mkdtempSync(join(tmpdir(), 'vigil-dist-'));
  mkdirSync(join(dist, 'assets'));
  writeFileSync(
    join(dist, 'index.html'),
    '<!doctype html><title>Vigil</title><script type="module" src="/assets/app.js"></script>',
  );
  writeFileSync(join(dist, 'assets', 'app.js'), 'export {};');
});
afterEach(async () => {
  await t.close();
  rmSync(dist, { recursive: true, force: true });
});

const ALWAYS = {
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

function headersOf(response: Response): Record<string, string | null> {
  return Object.fromEntries(
    [...Object.keys(ALWAYS), 'content-security-policy', 'strict-transport-security', 'cache-control'].map(
      (name) => [name, response.headers.get(name)],
    ),
  );
}

describe('the dashboard’s own HTTP posture', () => {
  it('sends the security headers on every kind of answer: pages, files, data, 401, 404, 500', async () => {
    const failing = await createSignedInApp({
      database: t.database,
      // A scheduler that breaks with internal detail in its message: the client must not see it.
      scheduler: {
        wake: () => {
          throw new Error('scheduler exploded at /srv/vigil/internal/queue.ts:42');
        },
        status: t.scheduler.status,
        queue: t.scheduler.queue,
      },
      defaults: TEST_DEFAULTS,
      now: t.clock.now,
      dashboardDir: dist,
      logError: () => {},
    });
    const answers = {
      page: await failing.request('/sites/3'),
      asset: await failing.request('/assets/app.js'),
      data: await failing.request('/api/sites'),
      unauthorized: await t.anonymous.request('/api/sites'),
      missing: await failing.request('/api/nothing'),
      crash: await failing.request('/api/sites', jsonRequest('POST', { host: 'a.example.com' })),
    };
    expect(
      Object.fromEntries(Object.entries(answers).map(([kind, response]) => [kind, response.status])),
    ).toEqual({
      page: 200,
      asset: 200,
      data: 200,
      unauthorized: 401,
      missing: 404,
      crash: 500,
    });
    for (const [kind, response] of Object.entries(answers)) {
      expect(headersOf(response), kind).toMatchObject(ALWAYS);
      // Plain HTTP: no HSTS (a browser would ignore it, and it must not pin a host that has no TLS).
      expect(response.headers.get('strict-transport-security'), kind).toBeNull();
    }
    expect(answers.page.headers.get('content-security-policy')).toBe(DASHBOARD_CSP);
    expect(answers.data.headers.get('content-security-policy')).toBe(API_CSP);
    expect(answers.data.headers.get('cache-control')).toBe('no-store');
    expect(answers.asset.headers.get('cache-control')).toContain('immutable');

    const crash = await answers.crash.text();
    expect(JSON.parse(crash)).toEqual({ error: { code: 'internal', message: 'Internal server error' } });
    expect(crash).not.toMatch(/exploded|srv|\.ts|at /);
  });

  it('adds HSTS over HTTPS, directly or through a trusted proxy', async () => {
    const direct = await t.anonymous.request('https://vigil.example/api/version');
    expect(direct.headers.get('strict-transport-security')).toBe(HSTS);
    const proxied = await t.anonymous.request('/api/version', { headers: { 'x-forwarded-proto': 'https' } });
    expect(proxied.headers.get('strict-transport-security')).toBe(HSTS);
  });

  it('has a policy without unsafe-inline or unsafe-eval that forbids framing', () => {
    for (const policy of [DASHBOARD_CSP, API_CSP]) {
      expect(policy).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
      expect(policy).toContain("frame-ancestors 'none'");
    }
    expect(HSTS).toMatch(/max-age=(\d+); includeSubDomains/);
    expect(Number(/max-age=(\d+)/.exec(HSTS)?.[1])).toBeGreaterThanOrEqual(31_536_000);
    expect(securityHeadersFor('/healthz', false)['Content-Security-Policy']).toBe(API_CSP);
    expect(securityHeadersFor('/apis', false)['Content-Security-Policy']).toBe(DASHBOARD_CSP);
  });

  it('answers a wrong body with a 400 naming the problem, without internals', async () => {
    const response = await t.app.request('/api/sites', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"host": ',
    });
    expect(response.status).toBe(400);
    expect(JSON.stringify(await readJson(response))).not.toMatch(/node_modules|\.ts:\d+|at /);
  });
});
