import { describe, expect, it } from 'vitest';
import type { SiteBehaviour, SiteRequest, SiteResponse } from './django-site';
import { formatDjangoCookie, respondAsSite } from './django-site';
import { SITE_PRESETS } from './presets';

const HOST = 'shop.fixture.vigil.test';
const NOW = new Date('2026-11-24T10:00:00Z');
const PRODUCTION_400 =
  '<!doctype html>\n<html lang="en">\n<head>\n  <title>Bad Request (400)</title>\n</head>\n<body>\n  <h1>Bad Request (400)</h1><p></p>\n</body>\n</html>\n';
const PRODUCTION_404 =
  '<!doctype html>\n<html lang="en">\n<head>\n  <title>Not Found</title>\n</head>\n<body>\n  <h1>Not Found</h1><p>The requested resource was not found on this server.</p>\n</body>\n</html>\n';
const DEBUG_SENTENCE =
  'You’re seeing this error because you have DEBUG = True in your Django settings file. Change that to False, and Django will display a standard 404 page.';

const hardened = SITE_PRESETS.hardened.behaviour;

function ask(behaviour: SiteBehaviour, request: Partial<SiteRequest> = {}): SiteResponse {
  return respondAsSite(
    behaviour,
    [HOST],
    { method: 'GET', url: '/', host: HOST, secure: true, ...request },
    NOW,
  );
}

function header(response: SiteResponse, name: string): string | undefined {
  return response.headers.find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1];
}

function headers(response: SiteResponse, name: string): string[] {
  return response.headers
    .filter(([key]) => key.toLowerCase() === name.toLowerCase())
    .map(([, value]) => value);
}

/** The page with its per-response random tokens blanked, for comparing two answers. */
function withoutTokens(html: string): string {
  return html.replace(/(value|nonce)="[A-Za-z0-9]+"/g, '$1=""');
}

/** The text a reader sees: tags dropped, entities decoded, white space collapsed. */
function visibleText(html: string): string {
  return html
    .replace(/<style[\s\S]*?<\/style>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#x27;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .replace(/ ([,.)])/g, '$1')
    .replace(/\( /g, '(')
    .trim();
}

describe('Django host validation', () => {
  it("answers a foreign Host with Django's production 400 page", () => {
    const response = ask(hardened, { host: 'evil.example' });
    expect(response.status).toBe(400);
    expect(response.body).toBe(PRODUCTION_400);
    expect(headers(response, 'set-cookie')).toEqual([]);
  });

  it('accepts its own name with a port and in upper case', () => {
    expect(ask(hardened, { host: `${HOST.toUpperCase()}:443` }).status).toBe(200);
  });

  it("answers a foreign Host normally with ALLOWED_HOSTS = ['*']", () => {
    const wildcard = SITE_PRESETS['allowed-hosts-wildcard'].behaviour;
    const foreign = ask(wildcard, { host: 'evil.example' });
    expect(foreign.status).toBe(200);
    expect(withoutTokens(foreign.body)).toBe(withoutTokens(ask(wildcard).body));
    expect(foreign.body).toContain('csrfmiddlewaretoken');
  });

  it('serves the DisallowedHost technical page with DEBUG on, still with status 400', () => {
    const response = ask(SITE_PRESETS.debug.behaviour, { host: 'evil.example' });
    expect(response.status).toBe(400);
    const text = visibleText(response.body);
    expect(text).toContain('DisallowedHost at /');
    expect(text).toContain(
      "Invalid HTTP_HOST header: 'evil.example'. You may need to add 'evil.example' to ALLOWED_HOSTS.",
    );
    expect(text).toContain(
      'You’re seeing this error because you have DEBUG = True in your Django settings file.',
    );
  });

  it('refuses a Host that is not a valid domain name without echoing markup', () => {
    const response = ask(SITE_PRESETS.debug.behaviour, { host: '<script>x</script>' });
    expect(response.status).toBe(400);
    expect(response.body).not.toContain('<script>x');
    expect(visibleText(response.body)).toContain(
      'The domain name provided is not valid according to RFC 1034/1035.',
    );
  });
});

describe('Django 404 pages', () => {
  it('serves the production 404 body with DEBUG off', () => {
    const response = ask(hardened, { url: '/no-such-page-4821/' });
    expect(response.status).toBe(404);
    expect(response.body).toBe(PRODUCTION_404);
    expect(response.body).not.toContain('DEBUG');
  });

  it("serves the technical 404 with Django's wording with DEBUG on", () => {
    const response = ask(SITE_PRESETS.debug.behaviour, { url: '/no-such-page-4821/?q=1' });
    expect(response.status).toBe(404);
    expect(response.body).toContain('<title>Page not found at /no-such-page-4821/</title>');
    const text = visibleText(response.body);
    expect(text).toContain('Page not found (404)');
    expect(text).toContain(`Request Method: GET Request URL: https://${HOST}/no-such-page-4821/?q=1`);
    expect(text).toContain(
      'Using the URLconf defined in shop.urls, Django tried these URL patterns, in this order:',
    );
    expect(response.body).toContain('<code>shop.urls</code>');
    // The technical page lists the URL patterns, so it gives away a hidden admin path.
    expect(response.body).toContain('<li><code>backstage-7c1e/</code></li>');
    expect(text).toContain('The current path, no-such-page-4821/, didn’t match any of these.');
    expect(text).toContain(DEBUG_SENTENCE);
  });

  it("writes You're with a plain apostrophe for Django before 3.0", () => {
    const legacy = { ...SITE_PRESETS.debug.behaviour, djangoVersion: '2.2.28' };
    const text = visibleText(ask(legacy, { url: '/missing' }).body);
    expect(text).toContain("You're seeing this error because you have DEBUG = True");
    expect(text).not.toContain('You’re');
  });
});

describe('HTTPS redirect and security headers', () => {
  it('redirects plain HTTP to https:// on the same host and path with SECURE_SSL_REDIRECT', () => {
    const response = ask(hardened, { secure: false, url: '/products/?page=2' });
    expect(response.status).toBe(301);
    expect(header(response, 'location')).toBe(`https://${HOST}/products/?page=2`);
    expect(header(response, 'strict-transport-security')).toBeUndefined();
  });

  it('serves the page over plain HTTP without SECURE_SSL_REDIRECT', () => {
    const response = ask(SITE_PRESETS['no-redirect'].behaviour, { secure: false });
    expect(response.status).toBe(200);
    expect(response.body).toContain('csrfmiddlewaretoken');
  });

  it('sends the hardened headers, HSTS only over HTTPS, and a fresh CSP nonce used by the page', () => {
    const response = ask(hardened);
    expect(header(response, 'strict-transport-security')).toBe(
      'max-age=31536000; includeSubDomains; preload',
    );
    expect(header(response, 'x-frame-options')).toBe('DENY');
    expect(header(response, 'x-content-type-options')).toBe('nosniff');
    expect(header(response, 'referrer-policy')).toBe('same-origin');
    expect(header(response, 'cross-origin-opener-policy')).toBe('same-origin');
    expect(header(response, 'server')).toBe('nginx');
    const csp = header(response, 'content-security-policy') ?? '';
    expect(csp).toContain("frame-ancestors 'none'");
    const nonce = /'nonce-([A-Za-z0-9]+)'/.exec(csp)?.[1];
    expect(nonce).toBeDefined();
    expect(response.body).toContain(`<script nonce="${nonce}"`);
    expect(header(ask(hardened), 'content-security-policy')).not.toBe(csp);
  });

  it('leaves out every header the headers-missing preset turns off', () => {
    const response = ask(SITE_PRESETS['headers-missing'].behaviour);
    for (const name of [
      'x-frame-options',
      'x-content-type-options',
      'referrer-policy',
      'content-security-policy',
      'cross-origin-opener-policy',
    ]) {
      expect(header(response, name)).toBeUndefined();
    }
    expect(header(response, 'strict-transport-security')).toBeDefined();
  });

  it('reveals the server version only in the version-leak preset', () => {
    expect(header(ask(SITE_PRESETS['version-leak'].behaviour), 'server')).toBe('nginx/1.18.0');
  });
});

describe('Django cookies and forms', () => {
  it('formats Set-Cookie as Django does', () => {
    const session = SITE_PRESETS.hardened.behaviour.sessionCookie!;
    expect(formatDjangoCookie(session, 'abc', 1_209_600, NOW)).toBe(
      'sessionid=abc; expires=Tue, 08 Dec 2026 10:00:00 GMT; HttpOnly; Max-Age=1209600; Path=/; SameSite=Lax; Secure',
    );
  });

  it('sets csrftoken and sessionid on the home page, with a csrfmiddlewaretoken form field', () => {
    const response = ask(hardened);
    const cookies = headers(response, 'set-cookie');
    expect(cookies).toHaveLength(2);
    expect(cookies[0]).toMatch(
      /^csrftoken=[A-Za-z0-9]{32}; expires=[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT; Max-Age=31449600; Path=\/; SameSite=Lax; Secure$/,
    );
    expect(cookies[1]).toMatch(
      /^sessionid=[a-z0-9]{32}; expires=.+; HttpOnly; Max-Age=1209600; Path=\/; SameSite=Lax; Secure$/,
    );
    expect(response.body).toMatch(/<input type="hidden" name="csrfmiddlewaretoken" value="[A-Za-z0-9]{64}">/);
    expect(header(response, 'vary')).toBe('Cookie');
  });

  it('drops Secure in insecure-cookies and sets SameSite=None in samesite-none', () => {
    const insecure = headers(ask(SITE_PRESETS['insecure-cookies'].behaviour), 'set-cookie');
    expect(insecure.every((cookie) => !cookie.includes('Secure'))).toBe(true);
    const none = headers(ask(SITE_PRESETS['samesite-none'].behaviour), 'set-cookie');
    expect(none[1]).toContain('; SameSite=None; Secure');
    expect(none[0]).toContain('SameSite=Lax');
  });

  it('has no form and no CSRF cookie when the home page renders no form', () => {
    const response = ask({ ...hardened, homeForm: false, sessionCookie: null });
    expect(response.body).not.toContain('csrfmiddlewaretoken');
    expect(headers(response, 'set-cookie')).toEqual([]);
  });

  it('rejects a POST without a CSRF token with 403', () => {
    const response = ask(hardened, { method: 'POST' });
    expect(response.status).toBe(403);
    expect(visibleText(response.body)).toContain('CSRF verification failed. Request aborted.');
  });
});

describe('Django admin', () => {
  const defaultAdmin = SITE_PRESETS['default-admin'].behaviour;

  it('redirects /admin/ to the login page and serves a Django login form there', () => {
    const index = ask(defaultAdmin, { url: '/admin/' });
    expect(index.status).toBe(302);
    expect(header(index, 'location')).toBe('/admin/login/?next=/admin/');

    const login = ask(defaultAdmin, { url: '/admin/login/?next=/admin/' });
    expect(login.status).toBe(200);
    expect(login.body).toContain('<title>Log in | Django site administration</title>');
    expect(login.body).toContain('Django administration');
    expect(login.body).toContain('id="id_username"');
    expect(login.body).toContain('id="id_password"');
    expect(login.body).toContain('action="/admin/login/?next=/admin/"');
    expect(login.body).toMatch(/name="csrfmiddlewaretoken" value="[A-Za-z0-9]{64}"/);
    expect(headers(login, 'set-cookie')[0]).toMatch(/^csrftoken=/);
    expect(header(login, 'cache-control')).toBe('max-age=0, no-cache, no-store, must-revalidate, private');
  });

  it('appends the slash to /admin as CommonMiddleware does', () => {
    const response = ask(defaultAdmin, { url: '/admin' });
    expect(response.status).toBe(301);
    expect(header(response, 'location')).toBe('/admin/');
  });

  it('keeps /admin/ a 404 when the admin lives elsewhere, and has no admin when adminPath is null', () => {
    expect(ask(hardened, { url: '/admin/' }).body).toBe(PRODUCTION_404);
    expect(header(ask(hardened, { url: '/backstage-7c1e/' }), 'location')).toBe(
      '/backstage-7c1e/login/?next=/backstage-7c1e/',
    );
    expect(ask({ ...hardened, adminPath: null }, { url: '/backstage-7c1e/' }).status).toBe(404);
  });
});

describe('files served by the front server', () => {
  const leaky = SITE_PRESETS['leaked-files'].behaviour;

  it('serves .env, .git/HEAD and .git/config only when they leak', () => {
    const env = ask(leaky, { url: '/.env' });
    expect(env.status).toBe(200);
    expect(env.body).toMatch(/^DEBUG=False\nSECRET_KEY=\S+\nDATABASE_URL=postgres:\/\//);
    expect(env.body).not.toContain('<');
    expect(ask(leaky, { url: '/.git/HEAD' }).body).toBe('ref: refs/heads/main\n');
    expect(ask(leaky, { url: '/.git/config' }).body).toMatch(/^\[core\]\n\trepositoryformatversion = 0\n/);
    for (const url of ['/.env', '/.git/HEAD', '/.git/config']) {
      const closed = ask(hardened, { url });
      expect(closed.status).toBe(404);
      expect(closed.body).toBe(PRODUCTION_404);
    }
  });

  it('serves security.txt as text/plain unless the preset drops it', () => {
    const response = ask(hardened, { url: '/.well-known/security.txt' });
    expect(response.status).toBe(200);
    expect(header(response, 'content-type')).toBe('text/plain; charset=utf-8');
    expect(response.body).toContain(`Contact: mailto:security@${HOST}\n`);
    expect(response.body).toMatch(/\nExpires: 2027-05-23T10:00:00Z\n/);
    expect(ask(SITE_PRESETS['no-security-txt'].behaviour, { url: '/.well-known/security.txt' }).status).toBe(
      404,
    );
  });
});

describe('sites that are not Django', () => {
  const staticSite = SITE_PRESETS['static-site'].behaviour;
  const catchAll = SITE_PRESETS['catch-all'].behaviour;
  const djangoMarkers =
    /csrftoken|sessionid|csrfmiddlewaretoken|Django|Bad Request \(400\)|<h1>Not Found<\/h1>/;

  it("answers an unknown path on a static site with nginx's 404, any Host, no cookies", () => {
    const missing = ask(staticSite, { url: '/.env', host: 'evil.example' });
    expect(missing.status).toBe(404);
    expect(missing.body).toBe(
      '<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n',
    );
    const home = ask(staticSite, { host: 'evil.example' });
    expect(home.status).toBe(200);
    for (const url of ['/', '/admin/', '/missing']) {
      const response = ask(staticSite, { url });
      expect(headers(response, 'set-cookie')).toEqual([]);
      expect(response.body).not.toMatch(djangoMarkers);
    }
  });

  it('uses nginx redirects on a static site', () => {
    const response = ask(staticSite, { secure: false, url: '/guide/' });
    expect(response.status).toBe(301);
    expect(header(response, 'location')).toBe(`https://${HOST}/guide/`);
    expect(response.body).toContain('<center><h1>301 Moved Permanently</h1></center>');
  });

  it('answers 200 with the same page for every path and Host on a catch-all site', () => {
    const home = ask(catchAll);
    for (const request of [
      { url: '/.env' },
      { url: '/.git/HEAD' },
      { url: '/.git/config' },
      { url: '/admin/' },
      { url: '/.well-known/security.txt' },
      { url: '/no-such-page-4821/' },
      { host: 'evil.example' },
    ]) {
      const response = ask(catchAll, request);
      expect(response.status).toBe(200);
      expect(response.body).toBe(home.body);
      expect(response.body).not.toMatch(djangoMarkers);
      expect(headers(response, 'set-cookie')).toEqual([]);
    }
  });
});
