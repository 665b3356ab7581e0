import nodemailer from 'nodemailer';

/** One message to one address, exactly as the outbox stored it. */
export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** `<…@…>`, fixed when the mail was written so a resend after a crash carries the same one. */
  messageId: string;
  date: Date;
  headers: Record<string, string>;
}

export interface Mailer {
  /** `smtp://host:port` without credentials, for logs and the test mail. */
  readonly server: string;
  send(mail: OutgoingMail): Promise<{ response: string }>;
  close(): void;
}

/** A delivery attempt that failed; `permanent` when the server refused this recipient or message for good. */
export class DeliveryError extends Error {
  readonly permanent: boolean;

  constructor(message: string, permanent: boolean) {
    super(message);
    this.name = 'DeliveryError';
    this.permanent = permanent;
  }
}

export interface SmtpMailerOptions {
  /** `smtp://user:pass@host:587` (STARTTLS when offered) or `smtps://…:465`. */
  url: string;
  /** `VIGIL_MAIL_FROM`, e.g. `Vigil <vigil@example.com>`. */
  from: string;
  /** Extra trusted CAs for the SMTP server's certificate (private relays, tests). */
  extraCaPems?: string[];
  timeoutMs?: number;
}

interface SmtpFailure {
  message?: unknown;
  command?: unknown;
  response?: unknown;
  permanent?: unknown;
}

/** Without credentials: the URL may carry a password. */
export function describeSmtpUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}`;
  } catch {
    return 'an SMTP server (unreadable VIGIL_SMTP_URL)';
  }
}

/**
 * Refusals of this recipient or this message are final; anything else (connection, TLS, greeting,
 * authentication, sender) may be fixed by the time of the next attempt, so it is retried.
 */
function isPermanent(error: SmtpFailure): boolean {
  const command = typeof error.command === 'string' ? error.command.toUpperCase() : '';
  return error.permanent === true && (command.startsWith('RCPT') || command === 'DATA');
}

export function createSmtpMailer(options: SmtpMailerOptions): Mailer {
  const timeoutMs = options.timeoutMs ?? 20_000;
  const transport = nodemailer.createTransport({
    url: options.url,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs * 2,
    dnsTimeout: timeoutMs,
    ...(options.extraCaPems?.length ? { tls: { ca: options.extraCaPems } } : {}),
  });
  return {
    server: describeSmtpUrl(options.url),
    async send(mail) {
      try {
        const info = await transport.sendMail({
          from: options.from,
          to: mail.to,
          subject: mail.subject,
          text: mail.text,
          html: mail.html,
          messageId: mail.messageId,
          date: mail.date,
          headers: mail.headers,
        });
        return { response: String(info.response ?? '') };
      } catch (error) {
        const failure = (typeof error === 'object' && error !== null ? error : {}) as SmtpFailure;
        const message = typeof failure.message === 'string' ? failure.message : String(error);
        throw new DeliveryError(message, isPermanent(failure));
      }
    },
    close() {
      transport.close();
    },
  };
}
