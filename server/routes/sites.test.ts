import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, jsonRequest, readJson } from './test-app';

let t: Awaited<ReturnType<typeof createTestApp>>;
beforeEach(async () => {
  t = await createTestApp();
});
afterEach(async () => {
  await t.close();
});

async function post(body: unknown) {
  return t.app.request('/api/sites', jsonRequest('POST', body));
}

const json = readJson;

describe('POST /api/sites', () => {
  it('creates a site with the normalised host, defaults and tags, due at once', async () => {
    const response = await post({
      host: 'https://Shop.Example.COM/path',
      label: ' Shop ',
      tags: ['EU', 'prod', 'eu'],
    });
    expect(response.status).toBe(201);
    const site = await json(response);
    expect(response.headers.get('location')).toBe(`/api/sites/${site.id}`);
    expect(site).toMatchObject({
      host: 'shop.example.com',
      label: 'Shop',
      tags: ['eu', 'prod'],
      intervalMinutes: 360,
      enabled: true,
      allowPrivate: false,
      lastScanId: null,
      nextScanAt: t.clock.now().toISOString(),
    });
  });

  it('keeps a non-default port and punycodes an IDN', async () => {
    expect(await json(await post({ host: 'shop.example.com:8443' }))).toMatchObject({
      host: 'shop.example.com:8443',
    });
    expect(await json(await post({ host: 'bücher.example' }))).toMatchObject({
      host: 'xn--bcher-kva.example',
    });
  });

  it('answers 409 for a host that is already registered, in any spelling', async () => {
    const first = await json(await post({ host: 'shop.example.com' }));
    const response = await post({ host: 'HTTPS://shop.example.com:443/' });
    expect(response.status).toBe(409);
    expect(await json(response)).toEqual({
      error: {
        code: 'conflict',
        message: `A site for shop.example.com already exists (id ${first.id})`,
        details: { siteId: first.id },
      },
    });
  });

  it('answers 400 with the target parser reason for an invalid host', async () => {
    const response = await post({ host: 'shop..example.com' });
    expect(response.status).toBe(400);
    const body = await json(response);
    expect(body.error.code).toBe('invalid_target');
    expect(body.error.message).toMatch(/^Invalid target "shop\.\.example\.com": /);
  });

  it('refuses an IP literal unless the site may scan private addresses', async () => {
    const refused = await post({ host: '127.0.0.1' });
    expect(refused.status).toBe(400);
    expect((await json(refused)).error.message).toContain('IP addresses are not allowed');
    const allowed = await post({ host: '127.0.0.1', allowPrivate: true });
    expect(allowed.status).toBe(201);
    expect(await json(allowed)).toMatchObject({ host: '127.0.0.1', allowPrivate: true });
  });

  it('links a site to a source checkout for the inside view, and refuses a path that is not a directory', async () => {
    const checkout = fileURLToPath(new URL('../audit/testdata/secure', import.meta.url));
    const linked = await post({ host: 'inside.example.com', sourcePath: checkout });
    expect(linked.status).toBe(201);
    expect(await json(linked)).toMatchObject({ sourcePath: checkout });
    for (const [sourcePath, reason] of [
      ['relative/path', 'must be an absolute path'],
      ['/nonexistent/vigil-checkout', 'does not exist'],
      [fileURLToPath(import.meta.url), 'is not a directory'],
    ]) {
      const refused = await post({ host: 'other.example.com', sourcePath });
      expect(refused.status).toBe(400);
      expect((await json(refused)).error.message).toContain(reason);
    }
  });

  it('answers 400 naming the field for a bad interval, an unknown field or a missing host', async () => {
    const short = await post({ host: 'a.example.com', intervalMinutes: 1 });
    expect(short.status).toBe(400);
    const shortBody = await json(short);
    expect(shortBody.error.code).toBe('invalid_request');
    expect(shortBody.error.message).toContain('intervalMinutes');
    expect(shortBody.error.details.issues[0].path).toBe('intervalMinutes');

    const unknown = await post({ host: 'a.example.com', colour: 'red' });
    expect(unknown.status).toBe(400);
    expect((await json(unknown)).error.message).toContain('colour');

    const missing = await post({ label: 'x' });
    expect(missing.status).toBe(400);
    expect((await json(missing)).error.details.issues[0].path).toBe('host');

    const badTag = await post({ host: 'a.example.com', tags: ['no spaces'] });
    expect(badTag.status).toBe(400);
  });

  it('answers 400 for malformed JSON, 415 for another media type, 413 for a huge body', async () => {
    const malformed = await t.app.request('/api/sites', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"host": ',
    });
    expect(malformed.status).toBe(400);
    expect((await json(malformed)).error.code).toBe('invalid_request');

    const form = await t.app.request('/api/sites', { method: 'POST', body: 'host=a.example.com' });
    expect(form.status).toBe(415);
    expect((await json(form)).error.code).toBe('unsupported_media_type');

    const huge = await post({ host: 'a.example.com', label: 'x'.repeat(100_000) });
    expect(huge.status).toBe(413);
    expect((await json(huge)).error.code).toBe('payload_too_large');
  });
});

describe('GET /api/sites and /api/sites/:id', () => {
  it('lists sites by host with text and tag filters and pagination', async () => {
    await post({ host: 'b.example.com', label: 'Blog', tags: ['eu'] });
    await post({ host: 'a.example.com', label: 'Shop 100%', tags: ['us'] });
    await post({ host: 'c.example.org', tags: ['eu'] });

    const all = await json(await t.app.request('/api/sites'));
    expect(all.total).toBe(3);
    expect(all.items.map((site: { host: string }) => site.host)).toEqual([
      'a.example.com',
      'b.example.com',
      'c.example.org',
    ]);
    const eu = await json(await t.app.request('/api/sites?tag=EU'));
    expect(eu.items.map((site: { host: string }) => site.host)).toEqual(['b.example.com', 'c.example.org']);
    const text = await json(await t.app.request('/api/sites?q=100%25'));
    expect(text.items.map((site: { host: string }) => site.host)).toEqual(['a.example.com']);
    const page = await json(await t.app.request('/api/sites?limit=1&offset=1'));
    expect(page).toMatchObject({ total: 3, items: [{ host: 'b.example.com' }] });

    expect((await t.app.request('/api/sites?limit=0')).status).toBe(400);
    expect((await t.app.request('/api/sites?limit=abc')).status).toBe(400);
  });

  it('shows one site with no scan yet, 404 for an unknown id and 400 for a non-numeric one', async () => {
    const created = await json(await post({ host: 'a.example.com' }));
    const site = await json(await t.app.request(`/api/sites/${created.id}`));
    expect(site).toMatchObject({ id: created.id, host: 'a.example.com', lastScan: null, activeScan: null });

    const missing = await t.app.request('/api/sites/999');
    expect(missing.status).toBe(404);
    expect(await json(missing)).toEqual({ error: { code: 'not_found', message: 'Site 999 not found' } });
    expect((await t.app.request('/api/sites/abc')).status).toBe(400);
    expect((await t.app.request('/api/sites/-1')).status).toBe(400);
  });
});

describe('PATCH /api/sites/:id', () => {
  it('updates label, tags, interval and enabled', async () => {
    const created = await json(await post({ host: 'a.example.com', tags: ['old'] }));
    const response = await t.app.request(
      `/api/sites/${created.id}`,
      jsonRequest('PATCH', { label: 'Renamed', tags: ['new'], intervalMinutes: 60, enabled: false }),
    );
    expect(response.status).toBe(200);
    expect(await json(response)).toMatchObject({
      label: 'Renamed',
      tags: ['new'],
      intervalMinutes: 60,
      enabled: false,
    });
    expect(await json(await t.app.request(`/api/sites/${created.id}`))).toMatchObject({ tags: ['new'] });
  });

  it('answers 409 when renaming onto another site, 400 for an empty patch, 404 for an unknown site', async () => {
    await post({ host: 'a.example.com' });
    const b = await json(await post({ host: 'b.example.com' }));
    const clash = await t.app.request(`/api/sites/${b.id}`, jsonRequest('PATCH', { host: 'A.example.com' }));
    expect(clash.status).toBe(409);
    const empty = await t.app.request(`/api/sites/${b.id}`, jsonRequest('PATCH', {}));
    expect(empty.status).toBe(400);
    expect((await json(empty)).error.message).toContain('nothing to update');
    expect((await t.app.request('/api/sites/999', jsonRequest('PATCH', { label: 'x' }))).status).toBe(404);
  });

  it('sets and clears the region a site must be scanned from, and refuses a malformed one', async () => {
    const site = await json(await post({ host: 'eu.example.com', region: 'EU-West' }));
    expect(site.region).toBe('eu-west');
    const cleared = await t.app.request(`/api/sites/${site.id}`, jsonRequest('PATCH', { region: null }));
    expect(await json(cleared)).toMatchObject({ region: null });
    const bad = await t.app.request(`/api/sites/${site.id}`, jsonRequest('PATCH', { region: 'eu west' }));
    expect(bad.status).toBe(400);
    expect((await json(bad)).error.message).toContain('region');
    expect(await json(await t.app.request(`/api/sites/${site.id}`))).toMatchObject({ region: null });
  });

  it('refuses to turn off private scanning for an IP-literal site', async () => {
    const site = await json(await post({ host: '10.0.0.5', allowPrivate: true }));
    const response = await t.app.request(
      `/api/sites/${site.id}`,
      jsonRequest('PATCH', { allowPrivate: false }),
    );
    expect(response.status).toBe(400);
    expect((await json(response)).error.code).toBe('invalid_target');
  });
});

describe('DELETE /api/sites/:id', () => {
  it('deletes the site and its scans', async () => {
    const site = await json(await post({ host: 'a.example.com' }));
    const scan = await json(await t.app.request(`/api/sites/${site.id}/scan`, { method: 'POST' }));
    const response = await t.app.request(`/api/sites/${site.id}`, { method: 'DELETE' });
    expect(response.status).toBe(204);
    expect((await t.app.request(`/api/sites/${site.id}`)).status).toBe(404);
    expect((await t.app.request(`/api/scans/${scan.id}`)).status).toBe(404);
    expect((await t.app.request(`/api/sites/${site.id}`, { method: 'DELETE' })).status).toBe(404);
  });
});

describe('POST /api/sites/import and GET /api/sites/export.csv', () => {
  function importText(text: string, query = '', type = 'text/csv') {
    return t.app.request(`/api/sites/import${query}`, {
      method: 'POST',
      headers: { 'content-type': type },
      body: text,
    });
  }

  it('creates the valid lines and reports every line', async () => {
    await post({ host: 'existing.example.com' });
    const response = await importText(
      [
        'host,label,tags,interval',
        'shop.example.com,Shop,"eu;prod",6h',
        'not a host',
        'EXISTING.example.com',
        'blog.example.com,,,10',
        'shop.example.com',
        'slow.example.com,,,1m',
      ].join('\n'),
    );
    expect(response.status).toBe(200);
    const report = await json(response);
    expect(report).toMatchObject({ created: 2, duplicates: 2, invalid: 2 });
    expect(report.lines.map((line: { line: number; status: string }) => [line.line, line.status])).toEqual([
      [2, 'created'],
      [3, 'invalid'],
      [4, 'duplicate'],
      [5, 'created'],
      [6, 'duplicate'],
      [7, 'invalid'],
    ]);
    expect(report.lines[1].error).toContain('white space');
    expect(report.lines[5].error).toContain('between 5 minutes and 30 days');
    const shop = await json(await t.app.request(`/api/sites/${report.lines[0].siteId}`));
    expect(shop).toMatchObject({
      host: 'shop.example.com',
      label: 'Shop',
      tags: ['eu', 'prod'],
      intervalMinutes: 360,
    });
  });

  it('writes nothing in atomic mode when a line is invalid', async () => {
    const response = await importText('a.example.com\nb..example.com\nc.example.com', '?atomic=true');
    expect(response.status).toBe(400);
    const body = await json(response);
    expect(body.error.message).toBe('1 line(s) are invalid; nothing was imported');
    expect(body.error.details.lines).toEqual([
      { line: 2, input: 'b..example.com', error: expect.stringContaining('Invalid target') },
    ]);
    expect((await json(await t.app.request('/api/sites'))).total).toBe(0);
  });

  it('answers 400 for an empty body, 415 for JSON and 413 above 1 MiB', async () => {
    expect((await importText('\n# nothing\n')).status).toBe(400);
    expect((await importText('["a.example.com"]', '', 'application/json')).status).toBe(415);
    const big = Array.from({ length: 60_000 }, (_, index) => `site-${index}.example.com`).join('\n');
    const response = await importText(big);
    expect(response.status).toBe(413);
    expect((await json(response)).error.code).toBe('payload_too_large');
    expect((await json(await t.app.request('/api/sites'))).total).toBe(0);
  });

  it('exports CSV that imports back to the same sites', async () => {
    await post({ host: 'a.example.com', label: '=cmd|calc', tags: ['eu', 'prod'], intervalMinutes: 90 });
    await post({ host: 'b.example.com:8443', label: 'Blog, "new"' });
    const response = await t.app.request('/api/sites/export.csv');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const csv = await response.text();
    expect(csv).toBe(
      'host,label,tags,interval\r\na.example.com,\'=cmd|calc,eu;prod,90m\r\nb.example.com:8443,"Blog, ""new""",,6h\r\n',
    );

    const other = await createTestApp();
    try {
      const report = await json(
        await other.app.request('/api/sites/import', {
          method: 'POST',
          headers: { 'content-type': 'text/csv' },
          body: csv,
        }),
      );
      expect(report).toMatchObject({ created: 2, invalid: 0 });
      const sites = await json(await other.app.request('/api/sites'));
      expect(sites.items).toMatchObject([
        { host: 'a.example.com', label: '=cmd|calc', tags: ['eu', 'prod'], intervalMinutes: 90 },
        { host: 'b.example.com:8443', label: 'Blog, "new"', tags: [], intervalMinutes: 360 },
      ]);
    } finally {
      await other.close();
    }
  });
});
