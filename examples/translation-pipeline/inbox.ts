/**
 * Where the demo's notifications arrive: a webhook endpoint and an SMTP server on 127.0.0.1, each
 * printing what it receives — what a product's backend and its users' mailboxes would get.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

/** The running endpoints. */
export interface Inbox {
  webhookUrl: string;
  smtpUrl: string;
  /** Webhooks and emails received so far. */
  readonly counts: { webhooks: number; emails: number };
  close(): Promise<void>;
}

/** Starts both on free ports; `print` gets one line per arrival. */
export async function startInbox(print: (line: string) => void): Promise<Inbox> {
  const counts = { webhooks: 0, emails: 0 };
  const http = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      counts.webhooks++;
      const event = JSON.parse(body) as { type: string; data: { id: string; status: string; result?: { url?: string }; error?: { code: string } } };
      const what = event.data.result?.url ?? event.data.error?.code ?? '';
      print(`webhook  ${event.type} ${event.data.id} ${event.data.status} ${what}`.trimEnd());
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      let text = '';
      stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
      stream.on('end', () => {
        counts.emails++;
        const subject = /^Subject: (.*)$/im.exec(text)?.[1] ?? '(no subject)';
        print(`email    to ${session.envelope.rcptTo.map((r) => r.address).join(', ')}: ${subject}`);
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  const smtpPort = (smtp.server.address() as AddressInfo).port;
  return {
    webhookUrl: `http://127.0.0.1:${(http.address() as AddressInfo).port}/hooks/translations`,
    smtpUrl: `smtp://127.0.0.1:${smtpPort}`,
    counts,
    close: async () => {
      await new Promise<void>((resolve) => http.close(() => resolve()));
      await new Promise<void>((resolve) => smtp.close(() => resolve()));
    },
  };
}
