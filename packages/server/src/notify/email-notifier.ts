/**
 * Email about a finished job, through SMTP (nodemailer) when `--smtp-url` is
 * set. Emails are deliveries of kind `email` in the same store and dispatcher
 * as webhooks: queued, retried with backoff, never sent on the request path.
 */
import type { Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import type { Delivery, WebhookPayload } from './delivery.js';
import { describeError, type DeliverySender, type SendOutcome } from './delivery-sender.js';

/** Options of {@link EmailNotifier}. */
export interface EmailNotifierOptions {
  /** `smtp://[user:pass@]host[:port]` or `smtps://…`; nodemailer's query options (e.g. `?requireTLS=true`) apply. */
  smtpUrl: string;
  /** Sender of every message (`SERVER_DEFAULTS.emailFrom` by default in the server). */
  from: string;
  /**
   * Longest wait to connect and for the greeting; socket inactivity is allowed three times this.
   * @default 10000
   */
  timeoutMs?: number;
}

/** One plain address: no display name, list, comment or route that could add recipients. */
const PLAIN_ADDRESS = /^[^\s@,;:<>"()[\]\\]+@[^\s@,;:<>"()[\]\\]+$/;

/** The subject and text of the email about `payload`. */
export function composeJobEmail(payload: WebhookPayload): { subject: string; text: string } {
  const job = payload.data;
  const lines = [
    `Job ${job.id} ${job.status}.`,
    '',
    `Job:       ${job.id}`,
    `Status:    ${job.status}`,
    `Event:     ${payload.type}`,
    `Created:   ${job.createdAt}`,
    `Finished:  ${job.updatedAt}`,
  ];
  if (job.duration !== undefined) lines.push(`Duration:  ${job.duration} s`);
  if (job.startedAt !== undefined) lines.push(`Started:   ${job.startedAt}`);
  // A reported job's last word from its worker, and what it produced or why it failed.
  if (job.duration === undefined) lines.push(`Progress:  ${Math.round(job.progress * 100)} %`);
  if (job.message !== undefined) lines.push(`Message:   ${oneLine(job.message)}`);
  if (job.result !== undefined) lines.push(`Result:    ${resultText(job.result)}`);
  if (job.error) lines.push(`Error:     ${job.error.code}: ${oneLine(job.error.message)}`);
  lines.push('', 'You get this message because the job was created with notifyEmail set to this address.', '');
  return { subject: `jobwait: job ${job.id} ${job.status}`, text: lines.join('\n') };
}

/** Longest result shown in an email, in characters (the whole result is in the API and the webhook). */
const EMAIL_RESULT_CHARS = 2000;

/** `text` on one line: a worker's text must not forge lines (or headers) of the message. */
function oneLine(text: string): string {
  return text.replace(/[\r\n\u2028\u2029]+/g, ' ');
}

/** A result as an email line: a string as is, anything else as JSON, cut at {@link EMAIL_RESULT_CHARS}. */
function resultText(result: unknown): string {
  const text = oneLine(typeof result === 'string' ? result : JSON.stringify(result));
  return text.length > EMAIL_RESULT_CHARS ? `${text.slice(0, EMAIL_RESULT_CHARS)}… (cut: the job's API read has it whole)` : text;
}

/** Sends email deliveries through one SMTP server. */
export class EmailNotifier implements DeliverySender {
  /** Made on the first send: nodemailer is loaded only by a server that sends email. */
  private transport: Promise<Transporter<SMTPTransport.SentMessageInfo>> | undefined;
  private readonly from: string;

  constructor(private readonly options: EmailNotifierOptions) {
    this.from = options.from;
  }

  private transporter(): Promise<Transporter<SMTPTransport.SentMessageInfo>> {
    return (this.transport ??= import('nodemailer').then(({ createTransport }) => {
      const timeoutMs = this.options.timeoutMs ?? 10_000;
      return createTransport({
        url: this.options.smtpUrl,
        connectionTimeout: timeoutMs,
        greetingTimeout: timeoutMs,
        socketTimeout: timeoutMs * 3,
      } as SMTPTransport.Options);
    }));
  }

  async send(delivery: Delivery): Promise<SendOutcome> {
    if (!PLAIN_ADDRESS.test(delivery.target)) return { ok: false, permanent: true, error: 'not a plain email address' };
    let payload: WebhookPayload;
    try {
      payload = JSON.parse(delivery.payload) as WebhookPayload;
    } catch {
      return { ok: false, permanent: true, error: 'unreadable payload' };
    }
    const { subject, text } = composeJobEmail(payload);
    try {
      // No abort here: a message half-handed to the SMTP server may still go out, so shutdown
      // waits for the answer instead of releasing the delivery to be sent twice.
      const info = await (await this.transporter()).sendMail({
        from: this.from,
        // An address object is used as is, never parsed as a list (the target was checked to be one plain address).
        to: { name: '', address: delivery.target },
        subject,
        text,
        // Stable across retries: a message that did arrive twice can be recognised.
        messageId: `<${delivery.id}@jobwait>`,
        headers: { 'X-Jobwait-Job-Id': payload.data.id, 'X-Jobwait-Event': payload.type, 'Auto-Submitted': 'auto-generated' },
      });
      return { ok: true, statusCode: smtpCode(info.response) };
    } catch (error) {
      const responseCode = (error as { responseCode?: unknown }).responseCode;
      const statusCode = typeof responseCode === 'number' ? responseCode : undefined;
      // SMTP 5xx is a permanent refusal (RFC 5321 §4.2.1); 4xx and network trouble are worth a retry.
      return { ok: false, statusCode, permanent: statusCode !== undefined && statusCode >= 500, error: describeError(error) };
    }
  }

  async close(): Promise<void> {
    // A transport that never loaded has nothing to close (its sends already failed and were retried).
    (await this.transport?.catch(() => undefined))?.close();
  }
}

function smtpCode(response: string | undefined): number | undefined {
  const match = /^(\d{3})/.exec(response ?? '');
  return match ? Number(match[1]) : undefined;
}
