import { describe, expect, it } from 'vitest';
import { CATALOGUE } from '../scan/catalogue';
import {
  cleanText,
  escapeHtml,
  type MailItem,
  renderDigest,
  renderSiteMail,
  type SiteMailModel,
  siteUrl,
  subjectFor,
} from './render';

const at = new Date('2026-03-01T12:01:00.000Z');
const since = new Date('2026-03-01T12:00:00.000Z');

function item(overrides: Partial<MailItem> & Pick<MailItem, 'key'>): MailItem {
  return {
    incidentId: 7,
    event: 'opened',
    severity: 'critical',
    evidence: 'random path: GET /vigil-probe → 404 shows the technical error page',
    since,
    at,
    open: true,
    ...overrides,
  };
}

function model(items: MailItem[], overrides: Partial<SiteMailModel> = {}): SiteMailModel {
  return {
    kind: 'change',
    site: { id: 3, host: 'shop.example.com' },
    items,
    grade: { from: 'A+', to: 'F' },
    publicUrl: 'https://vigil.example.com',
    ...overrides,
  };
}

describe('subjectFor', () => {
  it('names the worst new problem and the grade change', () => {
    expect(subjectFor(model([item({ key: 'django.debug' })]))).toBe(
      '[Vigil] shop.example.com: Django DEBUG is on (A+ → F)',
    );
  });

  it('counts the rest, leads with what is new over what was fixed, and says "resolved" for recoveries', () => {
    const mixed = model([
      item({ key: 'hsts.missing', event: 'resolved', severity: 'high', open: false }),
      item({ key: 'csp.missing', severity: 'medium' }),
      item({ key: 'django.debug' }),
    ]);
    expect(subjectFor(mixed)).toBe('[Vigil] shop.example.com: Django DEBUG is on and 2 more (A+ → F)');
    const fixed = model([item({ key: 'hsts.missing', event: 'resolved', severity: 'high', open: false })], {
      grade: { from: 'C+', to: 'A+' },
    });
    expect(subjectFor(fixed)).toBe('[Vigil] shop.example.com: resolved: HSTS header missing (C+ → A+)');
  });

  it('says how many days a certificate has left, and leaves the grade out when it did not change', () => {
    const cert = model(
      [item({ key: 'tls.cert.expiring', event: 'cert', severity: 'medium', certDaysLeft: 13 })],
      {
        grade: { from: 'A', to: 'A' },
      },
    );
    expect(subjectFor(cert)).toBe('[Vigil] shop.example.com: Certificate expires soon: 13 days left');
  });
});

describe('renderSiteMail', () => {
  it('gives each change its explanation, evidence, Django setting, fix and the link to the site', () => {
    const { text, html } = renderSiteMail(model([item({ key: 'django.debug' })]));
    const entry = CATALOGUE['django.debug'];
    expect(text).toContain('NEW  critical  Django DEBUG is on  [django.debug]');
    expect(text).toContain(entry.why);
    expect(text).toContain('Django:  DEBUG (security.W018)');
    expect(text).toContain(`Fix:\n    ${entry.fix}`);
    expect(text).toContain('first seen 2026-03-01 12:00 UTC');
    expect(text).toContain('Open the site in Vigil: https://vigil.example.com/sites/3');
    expect(html).toContain('<a href="https://vigil.example.com/sites/3">');
    expect(html).toContain(escapeHtml(entry.fix));
  });

  it('keeps a path prefix of VIGIL_PUBLIC_URL and says how to get a link without one', () => {
    expect(siteUrl('https://ops.example.com/vigil/', 9)).toBe('https://ops.example.com/vigil/sites/9');
    const { text, html } = renderSiteMail(model([item({ key: 'django.debug' })], { publicUrl: null }));
    expect(text).toContain('Set VIGIL_PUBLIC_URL to get a link');
    expect(html).not.toContain('<a ');
  });

  it('leaves the fix out of a recovery and says when it was confirmed gone', () => {
    const { text } = renderSiteMail(
      model([item({ key: 'hsts.missing', event: 'resolved', severity: 'high', open: false })]),
    );
    expect(text).toContain('FIXED  high  HSTS header missing  [hsts.missing]');
    expect(text).toContain('Confirmed gone at 2026-03-01 12:01 UTC');
    expect(text).not.toContain('Fix:');
  });

  it('explains flapping once', () => {
    const { text } = renderSiteMail(
      model([item({ key: 'hsts.missing', event: 'flapping', severity: 'high', transitions: 3, open: true })]),
    );
    expect(text).toContain('Opened and resolved 3 times within the last hour, now open');
    expect(text).toContain('once it has been stable for an hour');
  });

  it('escapes hostile evidence in HTML and strips control and bidi characters from both parts', () => {
    const hostile =
      '"><script>alert(1)</script><img src=x onerror=alert(2)>\r\nBcc: victim@example.com\u202Egnp.exe';
    const { text, html } = renderSiteMail(model([item({ key: 'exposure.file', evidence: hostile })]));
    expect(html).not.toMatch(/<script|<img|onerror=alert\(2\)>/i);
    expect(html).toContain(
      '&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;',
    );
    const seen = text.split('\n').find((line) => line.startsWith('  Seen:'));
    expect(seen).toBe(
      `  Seen:    "><script>alert(1)</script><img src=x onerror=alert(2)>  Bcc: victim@example.com gnp.exe`,
    );
    expect(text).not.toMatch(/[\r\u202e]/);
    expect(cleanText('x'.repeat(600))).toHaveLength(500);
  });
});

describe('renderDigest', () => {
  it('groups the day by site with a link per site', () => {
    const { subject, text, html } = renderDigest({
      from: new Date('2026-03-01T08:00:00.000Z'),
      to: new Date('2026-03-02T08:00:00.000Z'),
      publicUrl: 'https://vigil.example.com',
      sites: [
        {
          site: { id: 3, host: 'shop.example.com' },
          items: [item({ key: 'hsts.missing', severity: 'high' })],
        },
        {
          site: { id: 4, host: 'blog.example.com' },
          items: [
            item({ key: 'csp.missing', severity: 'medium' }),
            item({ key: 'nosniff.missing', event: 'resolved', severity: 'low', open: false }),
          ],
        },
      ],
    });
    expect(subject).toBe('[Vigil] Daily digest: 3 changes on 2 sites');
    expect(text).toContain('== shop.example.com ==\nhttps://vigil.example.com/sites/3');
    expect(text).toContain('== blog.example.com ==\nhttps://vigil.example.com/sites/4');
    expect(text).toContain(CATALOGUE['hsts.missing'].fix);
    expect(html).toContain('<a href="https://vigil.example.com/sites/4">blog.example.com</a>');
  });
});
