import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { gzipSync } from 'node:zlib';

/**
 * What answers on a site: a Django project, an nginx static site, or a single-page app that
 * answers 200 with the same page for every path and Host (a soft-404 trap).
 */
export type SiteKind = 'django' | 'static' | 'catch-all';

export type SameSite = 'Lax' | 'Strict' | 'None';

/** One cookie's settings, as Django's `SESSION_COOKIE_*` / `CSRF_COOKIE_*` give them. */
export interface CookieBehaviour {
  name: string;
  secure: boolean;
  httpOnly: boolean;
  /** null = no SameSite attribute (Django's `SameSite = False`). */
  sameSite: SameSite | null;
}

/** A site's configuration: plain data, so tests can build, copy, patch and print it. */
export interface SiteBehaviour {
  kind: SiteKind;
  /** Django `DEBUG`: technical 404 and DisallowedHost pages instead of the production ones. */
  debug: boolean;
  /** `listed`: only the site's own names (Django answers 400 to others); `wildcard`: `ALLOWED_HOSTS = ['*']`. */
  allowedHosts: 'listed' | 'wildcard';
  /** `SECURE_SSL_REDIRECT`: plain HTTP gets a 301 to https:// (nginx's own 301 page for non-Django kinds). */
  sslRedirect: boolean;
  /** The `Strict-Transport-Security` value sent on HTTPS responses, or null for none. */
  hsts: string | null;
  xFrameOptions: string | null;
  /** `SECURE_CONTENT_TYPE_NOSNIFF`. */
  contentTypeNosniff: boolean;
  referrerPolicy: string | null;
  crossOriginOpenerPolicy: string | null;
  /** Any policy; `{nonce}` is replaced by a fresh nonce on every response. */
  contentSecurityPolicy: string | null;
  /** The front server's `Server` header (e.g. `nginx` or `nginx/1.18.0`), or null for none. */
  serverHeader: string | null;
  poweredByHeader: string | null;
  /** `CSRF_COOKIE_*`: sent wherever a CSRF token is used (the home page form, the admin login). */
  csrfCookie: CookieBehaviour;
  /** The home page starts a session (a cart) and sets this cookie; null = no session cookie. */
  sessionCookie: CookieBehaviour | null;
  /** The home page has a POST form with `csrfmiddlewaretoken` (and so sets the CSRF cookie). */
  homeForm: boolean;
  /** Where `admin.site.urls` is mounted, e.g. `/admin/`; null = no admin. */
  adminPath: string | null;
  /** Files the front server wrongly serves from the project root. */
  exposedFiles: { env: boolean; gitHead: boolean; gitConfig: boolean };
  securityTxt: boolean;
  /** `ROOT_URLCONF`, shown on the technical 404 page. */
  urlconf: string;
  /** Shown on technical pages; before 3.0 Django wrote "You're" with a plain apostrophe. */
  djangoVersion: string;
}

export interface SiteRequest {
  method: string;
  /** Path with query string, as on the request line. */
  url: string;
  /** The Host header, if any. */
  host: string | undefined;
  secure: boolean;
}

export interface SiteResponse {
  status: number;
  /** In order; a name may repeat (Set-Cookie). */
  headers: Array<[string, string]>;
  body: string;
}

const HTML = 'text/html; charset=utf-8';
const CSRF_COOKIE_AGE = 31_449_600;
const SESSION_COOKIE_AGE = 1_209_600;
const NEVER_CACHE = 'max-age=0, no-cache, no-store, must-revalidate, private';
const HOST_PATTERN = /^([a-z0-9.-]+|\[[a-f0-9]*:[a-f0-9.:]+\])(:\d+)?$/;
const EXPOSED_FILE_PATHS = { env: '/.env', gitHead: '/.git/HEAD', gitConfig: '/.git/config' } as const;

const PRODUCTION_400 =
  '<!doctype html>\n<html lang="en">\n<head>\n  <title>Bad Request (400)</title>\n</head>\n<body>\n  <h1>Bad Request (400)</h1><p></p>\n</body>\n</html>\n';
const PRODUCTION_404 =
  '<!doctype html>\n<html lang="en">\n<head>\n  <title>Not Found</title>\n</head>\n<body>\n  <h1>Not Found</h1><p>The requested resource was not found on this server.</p>\n</body>\n</html>\n';

function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#x27;');
}

const ALPHANUMERIC = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

function randomToken(length: number, alphabet = ALPHANUMERIC): string {
  const bytes = randomBytes(length);
  let token = '';
  for (const byte of bytes) token += alphabet[byte % alphabet.length];
  return token;
}

/** Formats a cookie as Django (Python's SimpleCookie) does: attributes in alphabetical order. */
export function formatDjangoCookie(
  cookie: CookieBehaviour,
  value: string,
  maxAge: number,
  now: Date,
): string {
  const expires = new Date(now.getTime() + maxAge * 1000).toUTCString();
  const parts = [`${cookie.name}=${value}`, `expires=${expires}`];
  if (cookie.httpOnly) parts.push('HttpOnly');
  parts.push(`Max-Age=${maxAge}`, 'Path=/');
  if (cookie.sameSite) parts.push(`SameSite=${cookie.sameSite}`);
  if (cookie.secure) parts.push('Secure');
  return parts.join('; ');
}

/** "You’re" on Django ≥ 3.0, "You're" before. */
function youAre(behaviour: SiteBehaviour): string {
  const major = Number.parseInt(behaviour.djangoVersion, 10);
  return major >= 3 ? 'You’re' : 'You&#x27;re';
}

function requestUrl(request: SiteRequest): string {
  return `${request.secure ? 'https' : 'http'}://${request.host ?? ''}${request.url}`;
}

function technicalStyle(): string {
  return `  <style>
    html * { margin: 0; padding: 0; }
    body { font: small sans-serif; background: #eee; color: #000; }
    body > header, body > main, body > footer { padding: 10px 20px; border-bottom: 1px solid #ccc; }
    h1 { font-weight: normal; } h1 small { font-size: 60%; color: #666; }
    table.meta th { text-align: right; color: #666; padding-right: .5em; width: 12em; }
    #summary { background: #ffc; } #info { background: #f6f6f6; } #explanation { background: #eee; }
    #info ol li { font-family: monospace; }
  </style>`;
}

function urlPatterns(behaviour: SiteBehaviour): string[] {
  const admin = behaviour.adminPath ? [behaviour.adminPath.replace(/^\//, '')] : [];
  return [...admin, "[name='home']", 'products/', 'accounts/'];
}

function technical404(behaviour: SiteBehaviour, request: SiteRequest, path: string): string {
  const legacy = Number.parseInt(behaviour.djangoVersion, 10) < 3;
  const heading = legacy ? 'Page not found <span>(404)</span>' : 'Page not found <small>(404)</small>';
  const patterns = urlPatterns(behaviour)
    .map((pattern) => `        <li><code>${escapeHtml(pattern)}</code></li>`)
    .join('\n');
  const currentPath = path.replace(/^\//, '');
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta http-equiv="content-type" content="text/html; charset=utf-8">
  <title>Page not found at ${escapeHtml(path)}</title>
  <meta name="robots" content="NONE,NOARCHIVE">
${technicalStyle()}
</head>
<body>
  <header id="summary">
    <h1>${heading}</h1>
    <table class="meta">
      <tr><th scope="row">Request Method:</th><td>${escapeHtml(request.method)}</td></tr>
      <tr><th scope="row">Request URL:</th><td>${escapeHtml(requestUrl(request))}</td></tr>
    </table>
  </header>
  <main id="info">
    <p>
      Using the URLconf defined in <code>${escapeHtml(behaviour.urlconf)}</code>,
      Django tried these URL patterns, in this order:
    </p>
    <ol>
${patterns}
    </ol>
    <p>
      The current path, <code>${escapeHtml(currentPath)}</code>,
      didn’t match any of these.
    </p>
  </main>
  <footer id="explanation">
    <p>
      ${youAre(behaviour)} seeing this error because you have <code>DEBUG = True</code> in
      your Django settings file. Change that to <code>False</code>, and Django
      will display a standard 404 page.
    </p>
  </footer>
</body>
</html>
`;
}

function technicalDisallowedHost(behaviour: SiteBehaviour, request: SiteRequest, reason: string): string {
  const path = new URL(request.url, 'http://placeholder').pathname;
  const settingsModule = behaviour.urlconf.replace(/\.urls$/, '.settings');
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta http-equiv="content-type" content="text/html; charset=utf-8">
  <meta name="robots" content="NONE,NOARCHIVE">
  <title>DisallowedHost at ${escapeHtml(path)}</title>
${technicalStyle()}
</head>
<body>
  <header id="summary">
    <h1>DisallowedHost at ${escapeHtml(path)}</h1>
    <pre class="exception_value">${escapeHtml(reason)}</pre>
    <table class="meta">
      <tr><th scope="row">Request Method:</th><td>${escapeHtml(request.method)}</td></tr>
      <tr><th scope="row">Request URL:</th><td>${escapeHtml(requestUrl(request))}</td></tr>
      <tr><th scope="row">Django Version:</th><td>${escapeHtml(behaviour.djangoVersion)}</td></tr>
      <tr><th scope="row">Exception Type:</th><td>DisallowedHost</td></tr>
      <tr><th scope="row">Exception Value:</th><td><pre>${escapeHtml(reason)}</pre></td></tr>
      <tr><th scope="row">Exception Location:</th><td><span class="fname">/srv/shop/.venv/lib/python3.12/site-packages/django/http/request.py</span>, line 151, in get_host</td></tr>
      <tr><th scope="row">Python Executable:</th><td>/srv/shop/.venv/bin/python</td></tr>
      <tr><th scope="row">Python Version:</th><td>3.12.3</td></tr>
    </table>
  </header>
  <main id="info">
    <h2>Settings</h2>
    <h3>Using settings module <code>${escapeHtml(settingsModule)}</code></h3>
    <table>
      <tr><td>ALLOWED_HOSTS</td><td class="code"><pre>[&#x27;shop.example.com&#x27;]</pre></td></tr>
      <tr><td>DEBUG</td><td class="code"><pre>True</pre></td></tr>
      <tr><td>ROOT_URLCONF</td><td class="code"><pre>&#x27;${escapeHtml(behaviour.urlconf)}&#x27;</pre></td></tr>
      <tr><td>SECRET_KEY</td><td class="code"><pre>&#x27;********************&#x27;</pre></td></tr>
    </table>
  </main>
  <footer id="explanation">
    <p>
      ${youAre(behaviour)} seeing this error because you have <code>DEBUG = True</code> in your
      Django settings file. Change that to <code>False</code>, and Django will
      display a standard page generated by the handler for this status code.
    </p>
  </footer>
</body>
</html>
`;
}

const CSRF_FAILURE_403 = `<!DOCTYPE html>
<html lang="en">
<head>
  <meta http-equiv="content-type" content="text/html; charset=utf-8">
  <meta name="robots" content="NONE,NOARCHIVE">
  <title>403 Forbidden</title>
</head>
<body>
<div id="summary">
  <h1>Forbidden <span>(403)</span></h1>
  <p>CSRF verification failed. Request aborted.</p>
</div>
</body>
</html>
`;

function homePage(behaviour: SiteBehaviour, nonce: string, maskedCsrfToken: string | null): string {
  const form =
    maskedCsrfToken === null
      ? ''
      : `
    <form method="post" action="/newsletter/">
      <input type="hidden" name="csrfmiddlewaretoken" value="${maskedCsrfToken}">
      <label for="id_email">Get our offers by e-mail:</label>
      <input type="email" name="email" required id="id_email">
      <button type="submit">Subscribe</button>
    </form>`;
  const nonceAttribute = behaviour.contentSecurityPolicy?.includes('{nonce}') ? ` nonce="${nonce}"` : '';
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Corner Shop</title>
  <link rel="stylesheet" href="/static/css/site.css">
</head>
<body>
  <header><a href="/">Corner Shop</a> <nav><a href="/products/">Products</a> <a href="/accounts/login/">Sign in</a></nav></header>
  <main>
    <h1>Fresh coffee, roasted weekly</h1>
    <p>Beans from small farms, shipped the day they are roasted.</p>${form}
  </main>
  <script${nonceAttribute} src="/static/js/site.js"></script>
</body>
</html>
`;
}

function adminLoginPage(adminPath: string, action: string, next: string, maskedCsrfToken: string): string {
  return `<!DOCTYPE html>
<html lang="en-us" dir="ltr">
<head>
<title>Log in | Django site administration</title>
<link rel="stylesheet" href="/static/admin/css/base.css">
<link rel="stylesheet" href="/static/admin/css/login.css">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<meta name="robots" content="NONE,NOARCHIVE">
</head>
<body class=" login" data-admin-utc-offset="0">
<div id="container">
  <header id="header">
    <div id="branding">
      <div id="site-name"><a href="${escapeHtml(adminPath)}">Django administration</a></div>
    </div>
  </header>
  <main id="content-start" class="content">
    <div id="content" class="colM">
      <div id="content-main">
        <form action="${escapeHtml(action)}" method="post" id="login-form"><input type="hidden" name="csrfmiddlewaretoken" value="${maskedCsrfToken}">
          <div class="form-row">
            <label class="required" for="id_username">Username:</label> <input type="text" name="username" autofocus autocapitalize="none" autocomplete="username" maxlength="150" required id="id_username">
          </div>
          <div class="form-row">
            <label class="required" for="id_password">Password:</label> <input type="password" name="password" autocomplete="current-password" required id="id_password">
            <input type="hidden" name="next" value="${escapeHtml(next)}">
          </div>
          <div class="submit-row">
            <input type="submit" value="Log in">
          </div>
        </form>
      </div>
    </div>
  </main>
</div>
</body>
</html>
`;
}

const STATIC_HOME = `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Acme Docs</title>
  <link rel="stylesheet" href="/css/docs.css">
</head>
<body>
  <h1>Acme documentation</h1>
  <p>Guides and reference for the Acme toolkit.</p>
  <ul><li><a href="/guide/">Guide</a></li><li><a href="/reference/">Reference</a></li></ul>
</body>
</html>
`;

const SPA_SHELL = `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Acme App</title>
  <script type="module" crossorigin src="/assets/index-4f9c2b1e.js"></script>
  <link rel="stylesheet" href="/assets/index-8d1e0a77.css">
</head>
<body>
  <div id="root"></div>
  <noscript>You need to enable JavaScript to run this app.</noscript>
</body>
</html>
`;

/** nginx's built-in error and redirect pages; the footer carries its `server_tokens` version. */
function nginxPage(behaviour: SiteBehaviour, status: string): string {
  const footer = behaviour.serverHeader?.startsWith('nginx') ? behaviour.serverHeader : 'nginx';
  return `<html>\r\n<head><title>${status}</title></head>\r\n<body>\r\n<center><h1>${status}</h1></center>\r\n<hr><center>${escapeHtml(footer)}</center>\r\n</body>\r\n</html>\r\n`;
}

function exposedFileBody(file: keyof SiteBehaviour['exposedFiles'], siteHost: string): string {
  switch (file) {
    case 'env':
      return [
        'DEBUG=False',
        'SECRET_KEY=fixture-only-9f2c7a1e5b3d8c4f6a0e2b7d9c1f3a5e8b0d2c4f6a8e1b3d',
        'DATABASE_URL=postgres://shop:fixture-password@db.internal:5432/shop',
        `ALLOWED_HOSTS=${siteHost}`,
        'EMAIL_HOST_PASSWORD=fixture-mail-password',
        '',
      ].join('\n');
    case 'gitHead':
      return 'ref: refs/heads/main\n';
    case 'gitConfig':
      return [
        '[core]',
        '\trepositoryformatversion = 0',
        '\tfilemode = true',
        '\tbare = false',
        '\tlogallrefupdates = true',
        '[remote "origin"]',
        '\turl = git@git.example.com:corner-shop/shop.git',
        '\tfetch = +refs/heads/*:refs/remotes/origin/*',
        '[branch "main"]',
        '\tremote = origin',
        '\tmerge = refs/heads/main',
        '',
      ].join('\n');
  }
}

function securityTxtBody(siteHost: string, now: Date): string {
  const expires = new Date(now.getTime() + 180 * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return [
    `Contact: mailto:security@${siteHost}`,
    `Expires: ${expires}`,
    'Preferred-Languages: en',
    `Canonical: https://${siteHost}/.well-known/security.txt`,
    '',
  ].join('\n');
}

/** Headers the front server (nginx) adds to everything it sends. */
function frontServerHeaders(behaviour: SiteBehaviour): Array<[string, string]> {
  const headers: Array<[string, string]> = [];
  if (behaviour.serverHeader) headers.push(['Server', behaviour.serverHeader]);
  return headers;
}

/** SecurityMiddleware's headers (HSTS only on secure requests, as Django does). */
function securityMiddlewareHeaders(behaviour: SiteBehaviour, secure: boolean): Array<[string, string]> {
  const headers: Array<[string, string]> = [];
  if (behaviour.hsts && secure) headers.push(['Strict-Transport-Security', behaviour.hsts]);
  if (behaviour.contentTypeNosniff) headers.push(['X-Content-Type-Options', 'nosniff']);
  if (behaviour.referrerPolicy) headers.push(['Referrer-Policy', behaviour.referrerPolicy]);
  if (behaviour.crossOriginOpenerPolicy)
    headers.push(['Cross-Origin-Opener-Policy', behaviour.crossOriginOpenerPolicy]);
  return headers;
}

/** Headers of the innermost layers: the app's own, XFrameOptionsMiddleware and the CSP middleware. */
function innerHeaders(behaviour: SiteBehaviour, nonce: string): Array<[string, string]> {
  const headers: Array<[string, string]> = [];
  if (behaviour.poweredByHeader) headers.push(['X-Powered-By', behaviour.poweredByHeader]);
  if (behaviour.xFrameOptions) headers.push(['X-Frame-Options', behaviour.xFrameOptions]);
  if (behaviour.contentSecurityPolicy)
    headers.push(['Content-Security-Policy', behaviour.contentSecurityPolicy.replaceAll('{nonce}', nonce)]);
  return headers;
}

/** Every header a fully processed response gets, outermost layer first. */
function allLayerHeaders(behaviour: SiteBehaviour, secure: boolean, nonce: string): Array<[string, string]> {
  return [
    ...frontServerHeaders(behaviour),
    ...securityMiddlewareHeaders(behaviour, secure),
    ...innerHeaders(behaviour, nonce),
  ];
}

function hostWithoutPort(host: string): string {
  return host.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
}

/** Django's `request.get_host()` check: null when allowed, else the DisallowedHost message. */
function disallowedHostReason(
  behaviour: SiteBehaviour,
  hostNames: readonly string[],
  host: string | undefined,
): string | null {
  const raw = (host ?? '').toLowerCase();
  if (!HOST_PATTERN.test(raw)) {
    return `Invalid HTTP_HOST header: '${host ?? ''}'. The domain name provided is not valid according to RFC 1034/1035.`;
  }
  if (behaviour.allowedHosts === 'wildcard') return null;
  const domain = hostWithoutPort(raw);
  if (hostNames.some((allowed) => allowed.toLowerCase() === domain)) return null;
  return `Invalid HTTP_HOST header: '${host ?? ''}'. You may need to add '${domain}' to ALLOWED_HOSTS.`;
}

function response(status: number, headers: Array<[string, string]>, body: string): SiteResponse {
  return { status, headers, body };
}

function nginxFile(behaviour: SiteBehaviour, contentType: string, body: string): SiteResponse {
  return response(200, [...frontServerHeaders(behaviour), ['Content-Type', contentType]], body);
}

/** Files the front server serves before the app sees the request, or null. */
function frontServerFile(
  behaviour: SiteBehaviour,
  siteHost: string,
  path: string,
  now: Date,
): SiteResponse | null {
  if (behaviour.securityTxt && path === '/.well-known/security.txt') {
    return nginxFile(behaviour, 'text/plain; charset=utf-8', securityTxtBody(siteHost, now));
  }
  for (const [file, filePath] of Object.entries(EXPOSED_FILE_PATHS) as Array<
    [keyof SiteBehaviour['exposedFiles'], string]
  >) {
    if (behaviour.exposedFiles[file] && path === filePath) {
      return nginxFile(behaviour, 'application/octet-stream', exposedFileBody(file, siteHost));
    }
  }
  return null;
}

function nginxRedirect(behaviour: SiteBehaviour, request: SiteRequest): SiteResponse {
  return response(
    301,
    [
      ...frontServerHeaders(behaviour),
      ['Content-Type', 'text/html'],
      ['Location', `https://${hostWithoutPort(request.host ?? '')}${request.url}`],
    ],
    nginxPage(behaviour, '301 Moved Permanently'),
  );
}

function respondAsNginx(behaviour: SiteBehaviour, siteHost: string, request: SiteRequest, now: Date) {
  if (behaviour.sslRedirect && !request.secure) return nginxRedirect(behaviour, request);
  const path = new URL(request.url, 'http://placeholder').pathname;
  const nonce = randomToken(22);
  const headers = allLayerHeaders(behaviour, request.secure, nonce);
  if (behaviour.kind === 'catch-all') return response(200, [...headers, ['Content-Type', HTML]], SPA_SHELL);
  const file = frontServerFile(behaviour, siteHost, path, now);
  if (file) return file;
  if (path === '/' || path === '/index.html') {
    return response(200, [...headers, ['Content-Type', HTML]], STATIC_HOME);
  }
  return response(404, [...headers, ['Content-Type', 'text/html']], nginxPage(behaviour, '404 Not Found'));
}

function appendSlashTarget(behaviour: SiteBehaviour, path: string): string | null {
  if (path.endsWith('/') || !behaviour.adminPath) return null;
  const candidate = `${path}/`;
  const known = [behaviour.adminPath, `${behaviour.adminPath}login/`];
  return known.includes(candidate) ? candidate : null;
}

function respondAsDjango(
  behaviour: SiteBehaviour,
  hostNames: readonly string[],
  request: SiteRequest,
  now: Date,
): SiteResponse {
  const siteHost = hostNames[0] ?? hostWithoutPort(request.host ?? 'localhost');
  const parsed = new URL(request.url, 'http://placeholder');
  const path = parsed.pathname;
  const file = frontServerFile(behaviour, siteHost, path, now);
  if (file && (!behaviour.sslRedirect || request.secure)) return file;

  const nonce = randomToken(22);
  const reason = disallowedHostReason(behaviour, hostNames, request.host);
  if (reason !== null) {
    const headers: Array<[string, string]> = [
      ...frontServerHeaders(behaviour),
      ...securityMiddlewareHeaders(behaviour, request.secure),
      ['Content-Type', HTML],
    ];
    const body = behaviour.debug ? technicalDisallowedHost(behaviour, request, reason) : PRODUCTION_400;
    return response(400, headers, body);
  }
  if (behaviour.sslRedirect && !request.secure) {
    return response(
      301,
      [
        ...frontServerHeaders(behaviour),
        ...securityMiddlewareHeaders(behaviour, false),
        ['Content-Type', HTML],
        ['Location', `https://${request.host ?? siteHost}${request.url}`],
      ],
      '',
    );
  }

  const headers = allLayerHeaders(behaviour, request.secure, nonce);
  const withHtml = (extra: Array<[string, string]> = []): Array<[string, string]> => [
    ...headers,
    ['Content-Type', HTML],
    ...extra,
  ];
  const csrfCookie = (): [string, string] => [
    'Set-Cookie',
    formatDjangoCookie(behaviour.csrfCookie, randomToken(32), CSRF_COOKIE_AGE, now),
  ];
  const isPost = request.method === 'POST';

  if (path === '/') {
    if (isPost) return response(403, withHtml(), CSRF_FAILURE_403);
    const cookies: Array<[string, string]> = [];
    if (behaviour.homeForm) cookies.push(csrfCookie());
    if (behaviour.sessionCookie) {
      const value = randomToken(32, 'abcdefghijklmnopqrstuvwxyz0123456789');
      cookies.push([
        'Set-Cookie',
        formatDjangoCookie(behaviour.sessionCookie, value, SESSION_COOKIE_AGE, now),
      ]);
    }
    const vary: Array<[string, string]> = cookies.length > 0 ? [['Vary', 'Cookie']] : [];
    const token = behaviour.homeForm ? randomToken(64) : null;
    return response(200, withHtml([...vary, ...cookies]), homePage(behaviour, nonce, token));
  }

  const adminPath = behaviour.adminPath;
  if (adminPath && path === adminPath) {
    return response(
      302,
      withHtml([
        ['Expires', now.toUTCString()],
        ['Cache-Control', NEVER_CACHE],
        ['Location', `${adminPath}login/?next=${adminPath}`],
      ]),
      '',
    );
  }
  if (adminPath && path === `${adminPath}login/`) {
    if (isPost) return response(403, withHtml(), CSRF_FAILURE_403);
    const next = parsed.searchParams.get('next') ?? adminPath;
    return response(
      200,
      withHtml([
        ['Expires', now.toUTCString()],
        ['Cache-Control', NEVER_CACHE],
        ['Vary', 'Cookie'],
        csrfCookie(),
      ]),
      adminLoginPage(adminPath, `${path}${parsed.search}`, next, randomToken(64)),
    );
  }

  const slashed = appendSlashTarget(behaviour, path);
  if (slashed) return response(301, withHtml([['Location', `${slashed}${parsed.search}`]]), '');
  const notFound = behaviour.debug ? technical404(behaviour, request, path) : PRODUCTION_404;
  return response(404, withHtml(), notFound);
}

/**
 * How the site answers one request: pure apart from fresh random tokens and the clock.
 * `hostNames` are the names in `ALLOWED_HOSTS` (the first is the site's own name).
 */
export function respondAsSite(
  behaviour: SiteBehaviour,
  hostNames: readonly string[],
  request: SiteRequest,
  now = new Date(),
): SiteResponse {
  if (behaviour.kind === 'django') return respondAsDjango(behaviour, hostNames, request, now);
  const siteHost = hostNames[0] ?? hostWithoutPort(request.host ?? 'localhost');
  return respondAsNginx(behaviour, siteHost, request, now);
}

function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false;
  return header.split(',').some((part) => {
    const [coding, ...parameters] = part.trim().toLowerCase().split(';');
    if (coding?.trim() !== 'gzip') return false;
    const quality = parameters.map((parameter) => parameter.trim()).find((p) => p.startsWith('q='));
    return quality === undefined || Number(quality.slice(2)) > 0;
  });
}

/** Writes a SiteResponse, gzipped when the client accepts it (as nginx and GZipMiddleware do). */
export function writeSiteResponse(
  site: SiteResponse,
  acceptEncoding: string | undefined,
  res: ServerResponse,
): void {
  let body = Buffer.from(site.body);
  const headers = new Map<string, string[]>();
  const add = (name: string, value: string): void => {
    const existing = headers.get(name);
    if (existing) existing.push(value);
    else headers.set(name, [value]);
  };
  for (const [name, value] of site.headers) add(name, value);
  if (body.length > 0) {
    const vary = headers.get('Vary');
    if (vary) headers.set('Vary', [`${vary.join(', ')}, Accept-Encoding`]);
    else add('Vary', 'Accept-Encoding');
    if (acceptsGzip(acceptEncoding)) {
      body = gzipSync(body);
      add('Content-Encoding', 'gzip');
    }
  }
  add('Content-Length', String(body.length));
  for (const [name, values] of headers) res.setHeader(name, values.length === 1 ? values[0]! : values);
  res.writeHead(site.status);
  res.end(body);
}

/** A node:http request listener that answers as the site's current behaviour says (switchable at run time). */
export function createSiteHandler(
  currentBehaviour: () => SiteBehaviour,
  hostNames: readonly string[],
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const secure = (req.socket as Partial<TLSSocket>).encrypted === true;
    const site = respondAsSite(currentBehaviour(), hostNames, {
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      host: req.headers.host,
      secure,
    });
    writeSiteResponse(site, req.headers['accept-encoding'], res);
  };
}
