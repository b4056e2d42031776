/**
 * One webhook attempt: check the target, sign, POST, classify the answer.
 *
 * node:http(s) rather than the global fetch: it takes a `lookup`, so the
 * request connects only to the addresses the target policy just checked
 * (DNS pinning; Node's fetch needs undici's Agent for that), and it never
 * follows redirects (a 3xx to an internal address would undo the check).
 */
import type { LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { Delivery } from './delivery.js';
import { describeError, type DeliverySender, type SendOutcome } from './delivery-sender.js';
import { parseRetryAfter } from './retry-schedule.js';
import type { WebhookTargetPolicy } from './webhook-target.js';
import { webhookHeaders } from './webhook-signature.js';

/** Options of {@link WebhookSender}. */
export interface WebhookSenderOptions {
  policy: WebhookTargetPolicy;
  /** Signing secret of a delivery; `undefined` when it has none any more (its endpoint was removed). */
  secretFor: (delivery: Delivery) => Promise<string | undefined>;
  /**
   * Longest attempt, from connecting to the response headers.
   * @default 10000
   */
  timeoutMs?: number;
  /**
   * Connections open at once to one host. Keep it at or above the dispatcher's total concurrency: the
   * dispatcher does the limiting, and a lower cap here would queue one endpoint's attempt behind
   * another endpoint's hung one on the same host.
   * @default 64
   */
  maxSocketsPerHost?: number;
  /** Clock of the `webhook-timestamp`. */
  now?: () => number;
}

const USER_AGENT = 'jobwait-webhooks/0.1 (+https://www.standardwebhooks.com)';

/** Sends webhook deliveries. */
export class WebhookSender implements DeliverySender {
  private readonly policy: WebhookTargetPolicy;
  private readonly secretFor: (delivery: Delivery) => Promise<string | undefined>;
  private readonly timeoutMs: number;
  private readonly now: () => number;
  private readonly agents: { http: http.Agent; https: https.Agent };

  constructor(options: WebhookSenderOptions) {
    this.policy = options.policy;
    this.secretFor = options.secretFor;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.now = options.now ?? Date.now;
    const maxSockets = options.maxSocketsPerHost ?? 64;
    this.agents = { http: new http.Agent({ keepAlive: true, maxSockets }), https: new https.Agent({ keepAlive: true, maxSockets }) };
  }

  async send(delivery: Delivery, signal: AbortSignal): Promise<SendOutcome> {
    // Checked again at send time: the name may resolve elsewhere than when the job was created.
    const target = await this.policy.resolve(delivery.target);
    if (!target.ok) return { ok: false, error: `refused: the URL ${target.reason}`, permanent: target.permanent };
    if (signal.aborted) return { ok: false, aborted: true };
    const secret = await this.secretFor(delivery);
    if (secret === undefined) return { ok: false, permanent: true, error: 'no signing secret: the endpoint was removed or changed' };
    const headers = {
      'content-type': 'application/json',
      'user-agent': USER_AGENT,
      'content-length': String(Buffer.byteLength(delivery.payload)),
      ...webhookHeaders(secret, delivery.id, delivery.payload, this.now()),
    };
    return this.post(target.url, target.addresses, headers, delivery.payload, signal);
  }

  private post(url: URL, addresses: LookupAddress[], headers: Record<string, string>, body: string, stop: AbortSignal): Promise<SendOutcome> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = AbortSignal.any([stop, timeout]);
    const secure = url.protocol === 'https:';
    return new Promise<SendOutcome>((resolve) => {
      const request = (secure ? https : http).request(
        url,
        { method: 'POST', headers, signal, agent: secure ? this.agents.https : this.agents.http, lookup: pinnedLookup(addresses) },
        (response) => {
          const statusCode = response.statusCode ?? 0;
          // The body is not used: drain it so the connection can be reused (the timeout still bounds it).
          response.on('error', () => {});
          response.resume();
          if (statusCode >= 200 && statusCode < 300) return resolve({ ok: true, statusCode });
          if (statusCode === 410) return resolve({ ok: false, statusCode, gone: true, error: 'the endpoint answered 410 Gone' });
          const retryAfter = response.headers['retry-after'];
          resolve({
            ok: false,
            statusCode,
            retryAfterMs: parseRetryAfter(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter, this.now()),
            error: statusCode >= 300 && statusCode < 400 ? `redirects are not followed (answered ${statusCode})` : `answered ${statusCode}`,
          });
        },
      );
      request.on('error', (error) => {
        if (stop.aborted) resolve({ ok: false, aborted: true });
        else if (timeout.aborted) resolve({ ok: false, error: `no answer within ${this.timeoutMs} ms` });
        else resolve({ ok: false, error: describeError(error) });
      });
      request.end(body);
    });
  }

  async close(): Promise<void> {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }
}

/** A `lookup` that answers only with the checked addresses, never asking DNS again. */
function pinnedLookup(addresses: LookupAddress[]): LookupFunction {
  return (hostname, options, callback) => {
    const family = typeof options.family === 'number' ? options.family : 0;
    const usable = family === 0 ? addresses : addresses.filter((a) => a.family === family);
    const first = usable[0];
    if (!first) {
      const error: NodeJS.ErrnoException = Object.assign(new Error(`no checked address of ${hostname} for IPv${family}`), { code: 'ENOTFOUND' });
      return void callback(error, '', 0);
    }
    if (options.all) return void callback(null, usable);
    callback(null, first.address, first.family);
  };
}
