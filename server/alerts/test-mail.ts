import { randomBytes } from 'node:crypto';
import { AppError } from '../errors';
import type { Mailer } from './mailer';
import { messageIdDomain } from './outbox';
import { renderTestMail } from './render';

/** What the API needs to send mail itself: the transport (null without VIGIL_SMTP_URL) and the addresses. */
export interface MailDeps {
  mailer: Mailer | null;
  mailFrom: string;
  publicUrl: string | null;
}

export interface TestSendResult {
  to: string;
  delivered: boolean;
  messageId: string;
  /** The SMTP server's answer, or why the attempt failed. */
  response: string;
}

/**
 * The test-send button: a short mail straight through the transport (not the outbox), so the answer
 * says whether SMTP works now. Fails as a whole only when no address got it.
 */
export async function sendTestMail(
  deps: MailDeps,
  input: { to: readonly string[]; at: Date },
): Promise<{ results: TestSendResult[] }> {
  const { mailer } = deps;
  if (!mailer) throw new AppError('conflict', 'Mail is not configured: set VIGIL_SMTP_URL and restart Vigil');
  if (input.to.length === 0)
    throw new AppError('invalid_request', 'No address to send to: give "to" or add a recipient first');
  const rendered = renderTestMail({ at: input.at, publicUrl: deps.publicUrl, server: mailer.server });
  const domain = messageIdDomain(deps.mailFrom);
  const results: TestSendResult[] = [];
  for (const to of input.to) {
    const messageId = `<vigil.test.${randomBytes(8).toString('hex')}@${domain}>`;
    try {
      const { response } = await mailer.send({ to, ...rendered, messageId, date: input.at, headers: {} });
      results.push({ to, delivered: true, messageId, response });
    } catch (error) {
      results.push({
        to,
        delivered: false,
        messageId,
        response: error instanceof Error ? error.message : String(error),
      });
    }
  }
  if (!results.some((result) => result.delivered))
    throw new AppError('unavailable', `The test mail could not be sent: ${results[0]?.response}`, {
      results,
    });
  return { results };
}
