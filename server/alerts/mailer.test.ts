import { afterEach, describe, expect, it } from 'vitest';
import { createCertificateAuthority } from '../testing/ca';
import { createSmtpMailer, DeliveryError, describeSmtpUrl, type OutgoingMail } from './mailer';
import { type SmtpSink, startSmtpSink } from './testing/smtp-sink';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function sink(options: Parameters<typeof startSmtpSink>[0] = {}): Promise<SmtpSink> {
  const started = await startSmtpSink(options);
  cleanups.push(() => started.stop());
  return started;
}

const mail: OutgoingMail = {
  to: 'ops@example.test',
  subject: '[Vigil] shop.example.test: Django DEBUG is on (A+ → F)',
  text: 'DEBUG = False  # naïve ✓\n',
  html: '<p>DEBUG = False</p>',
  messageId: '<vigil.1.1.abcdef@example.test>',
  date: new Date('2026-03-01T12:00:00.000Z'),
  headers: { 'X-Vigil-Incident': '7, 8' },
};

describe('createSmtpMailer', () => {
  it('upgrades with STARTTLS when offered, logs in, and keeps the Message-ID, incident header and both parts', async () => {
    const ca = await createCertificateAuthority('Vigil SMTP Test CA');
    const leaf = await ca.issue({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
    const server = await sink({
      tls: { key: leaf.keyPem, cert: leaf.certPem },
      auth: { user: 'vigil', pass: 's3cret' },
    });
    const mailer = createSmtpMailer({
      url: server.url,
      from: 'Vigil <vigil@example.test>',
      extraCaPems: [ca.certPem],
    });
    cleanups.push(() => mailer.close());
    expect(mailer.server).toBe(`smtp://127.0.0.1:${server.port}`);

    const { response } = await mailer.send(mail);
    expect(response).toMatch(/^250/);
    const [received] = await server.waitForCount(1);
    expect(received).toMatchObject({
      secure: true,
      user: 'vigil',
      envelopeTo: ['ops@example.test'],
      subject: mail.subject,
      messageId: mail.messageId,
      text: mail.text,
      html: mail.html,
    });
    expect(received?.headers.get('x-vigil-incident')).toBe('7, 8');
    expect(received?.headers.get('from')).toBe('Vigil <vigil@example.test>');
  });

  it('refuses a server certificate it cannot verify instead of falling back to plain text', async () => {
    const ca = await createCertificateAuthority('Vigil SMTP Test CA');
    const leaf = await ca.issue({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
    const server = await sink({ tls: { key: leaf.keyPem, cert: leaf.certPem } });
    const mailer = createSmtpMailer({ url: server.url, from: 'vigil@example.test' });
    cleanups.push(() => mailer.close());
    const failure = await mailer.send(mail).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DeliveryError);
    expect((failure as DeliveryError).permanent).toBe(false);
    expect(server.messages).toHaveLength(0);
  });

  it('calls a refused recipient permanent and a server that is down temporary', async () => {
    const server = await sink({ refuse: ['gone@example.test'] });
    const mailer = createSmtpMailer({ url: server.url, from: 'vigil@example.test', timeoutMs: 10_000 });
    cleanups.push(() => mailer.close());
    const refused = await mailer.send({ ...mail, to: 'gone@example.test' }).catch((error: unknown) => error);
    expect(refused).toMatchObject({ name: 'DeliveryError', permanent: true });
    await server.stop();
    const down = await mailer.send(mail).catch((error: unknown) => error);
    expect(down).toMatchObject({ name: 'DeliveryError', permanent: false });
    expect((down as Error).message).toMatch(/ECONNREFUSED/);
  });

  it('never shows the password of the SMTP URL', () => {
    expect(describeSmtpUrl('smtp://user:hunter2@mail.example.com:587')).toBe('smtp://mail.example.com:587');
  });
});
