import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveSpa } from './serve-spa';

let root: string;
let app: Hono;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'vigil-spa-'));
  await mkdir(join(root, 'assets'));
  await writeFile(join(root, 'index.html'), '<!doctype html><div id="root"></div>');
  await writeFile(join(root, 'assets', 'index-AbC123.js'), 'console.log(1)');
  await writeFile(join(root, 'favicon.svg'), '<svg/>');
  await writeFile(join(root, '..', 'outside-secret.txt'), 'secret').catch(() => undefined);
  app = new Hono();
  app.use('*', serveSpa({ root }));
  app.get('/api/version', (c) => c.json({ version: '1' }));
  app.notFound((c) => c.json({ error: { code: 'not_found', message: 'no route' } }, 404));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
  await rm(join(root, '..', 'outside-secret.txt'), { force: true });
});

describe('serveSpa', () => {
  it('serves index.html for the root and for client routes, revalidated every time', async () => {
    for (const path of ['/', '/sites/3', '/sites/3/diff?from=1&to=2', '/sites/new']) {
      const response = await app.request(path);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toContain('text/html');
      expect(response.headers.get('cache-control')).toBe('no-cache');
      expect(await response.text()).toContain('id="root"');
    }
  });

  it('caches hashed assets for a year with the right type', async () => {
    const response = await app.request('/assets/index-AbC123.js');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/javascript');
    expect(response.headers.get('cache-control')).toContain('immutable');
    expect(await response.text()).toBe('console.log(1)');
    const icon = await app.request('/favicon.svg');
    expect(icon.headers.get('cache-control')).toBe('no-cache');
  });

  it('answers a revalidation with 304 when the file has not changed', async () => {
    const first = await app.request('/sites/3');
    const etag = first.headers.get('etag');
    expect(etag).toBeTruthy();
    const again = await app.request('/', { headers: { 'if-none-match': etag ?? '' } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    const stale = await app.request('/', { headers: { 'if-none-match': '"something-else"' } });
    expect(stale.status).toBe(200);
  });

  it('never answers API paths with the SPA', async () => {
    expect(await (await app.request('/api/version')).json()).toEqual({ version: '1' });
    const missing = await app.request('/api/nope');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toContain('application/json');
  });

  it('gives a plain 404 for a missing asset and refuses to leave its folder', async () => {
    expect((await app.request('/assets/missing-123.js')).status).toBe(404);
    expect((await app.request('/..%2Foutside-secret.txt')).status).toBe(404);
    expect((await app.request('/%2e%2e/outside-secret.txt')).status).toBe(404);
  });

  it('leaves other methods to the app', async () => {
    expect((await app.request('/sites/3', { method: 'POST' })).status).toBe(404);
  });

  it('says how to build the dashboard when it is missing', async () => {
    const bare = new Hono();
    bare.use('*', serveSpa({ root: join(root, 'does-not-exist') }));
    const response = await bare.request('/');
    expect(response.status).toBe(503);
    expect(await response.text()).toContain('npm run build');
  });
});
