/**
 * A real SMTP server for tests (the smtp-server package) on 127.0.0.1, keeping what it receives in
 * memory. It can require STARTTLS and a password, refuse addresses, go down and come back on the same
 * port (an outage), and hold a message after its DATA without answering (a sender killed mid-send).
 */
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { type ParsedMail, parseMail } from './mime';

export interface ReceivedMail extends ParsedMail {
  raw: string;
  envelopeTo: string[];
  /** The session was upgraded with STARTTLS (or TLS from the start). */
  secure: boolean;
  user: string | null;
}

export interface SmtpSinkOptions {
  /** Listen on this port (to come back where a client expects it); default: any free port. */
  port?: number;
  /** Offer STARTTLS with this certificate; without it the server offers none. */
  tls?: { key: string; cert: string };
  auth?: { user: string; pass: string };
  /** RCPT TO these addresses is refused with 550. */
  refuse?: string[];
}

export interface SmtpSink {
  readonly port: number;
  /** `smtp://[user:pass@]127.0.0.1:port`. */
  readonly url: string;
  readonly messages: ReceivedMail[];
  /** Connections accepted so far. */
  readonly connections: number;
  /** Resolves with the messages once at least `count` arrived. */
  waitForCount(count: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  /** The next message is read but not answered; resolves when it has fully arrived. */
  holdNext(): Promise<void>;
  /** Answers held messages with a temporary failure (their sender is usually gone by then). */
  dropHeld(): void;
  /** Stops listening and cuts every connection, like a server going down. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
}

export async function startSmtpSink(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const messages: ReceivedMail[] = [];
  const waiters = new Set<() => void>();
  const held: ((error: Error) => void)[] = [];
  let holdRequest: (() => void) | null = null;
  let connections = 0;
  let server: SMTPServer | null = null;
  let port = options.port ?? 0;
  const refused = new Set((options.refuse ?? []).map((address) => address.toLowerCase()));

  const serverOptions: SMTPServerOptions = {
    logger: false,
    disableReverseLookup: true,
    authOptional: !options.auth,
    allowInsecureAuth: false,
    ...(options.tls ? { key: options.tls.key, cert: options.tls.cert } : {}),
    disabledCommands: [...(options.tls ? [] : ['STARTTLS']), ...(options.auth ? [] : ['AUTH'])],
    onConnect(_session, callback) {
      connections += 1;
      callback();
    },
    onAuth(auth, _session, callback) {
      if (options.auth && auth.username === options.auth.user && auth.password === options.auth.pass)
        return callback(null, { user: auth.username });
      return callback(new Error('Invalid username or password'));
    },
    onRcptTo(address, _session, callback) {
      if (refused.has(address.address.toLowerCase())) {
        const error = new Error(`No such user: ${address.address}`) as Error & { responseCode: number };
        error.responseCode = 550;
        return callback(error);
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        if (holdRequest) {
          const arrived = holdRequest;
          holdRequest = null;
          held.push((error) => callback(error));
          arrived();
          return;
        }
        const raw = Buffer.concat(chunks).toString('utf8');
        messages.push({
          ...parseMail(raw),
          raw,
          envelopeTo: session.envelope.rcptTo.map((address) => address.address),
          secure: session.secure,
          user: typeof session.user === 'string' ? session.user : null,
        });
        for (const wake of waiters) wake();
        callback(null, 'Queued');
      });
    },
  };

  const listen = (): Promise<void> =>
    new Promise((resolve, reject) => {
      server = new SMTPServer(serverOptions);
      server.on('error', () => {});
      const listener = server.listen(port, '127.0.0.1', () => {
        const address = listener.address();
        if (address && typeof address === 'object') port = address.port;
        resolve();
      });
      listener.once('error', reject);
    });

  await listen();
  const credentials = options.auth
    ? `${encodeURIComponent(options.auth.user)}:${encodeURIComponent(options.auth.pass)}@`
    : '';

  return {
    get port() {
      return port;
    },
    get url() {
      return `smtp://${credentials}127.0.0.1:${port}`;
    },
    messages,
    get connections() {
      return connections;
    },
    waitForCount(count, timeoutMs = 15_000) {
      if (messages.length >= count) return Promise.resolve([...messages]);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`SMTP sink: ${messages.length} of ${count} messages after ${timeoutMs} ms`));
        }, timeoutMs);
        const check = () => {
          if (messages.length < count) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve([...messages]);
        };
        waiters.add(check);
      });
    },
    holdNext() {
      return new Promise((resolve) => {
        holdRequest = resolve;
      });
    },
    dropHeld() {
      for (const answer of held.splice(0)) {
        const error = new Error('Try again later') as Error & { responseCode: number };
        error.responseCode = 451;
        answer(error);
      }
    },
    async stop() {
      const running = server;
      server = null;
      if (!running) return;
      for (const connection of running.connections) connection.close();
      await new Promise<void>((resolve) => running.close(() => resolve()));
    },
    async start() {
      if (!server) await listen();
    },
  };
}
