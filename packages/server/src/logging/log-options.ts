/**
 * pino options of the server's own logger: nothing secret in a log line.
 * Credentials (the Authorization and Cookie headers, API keys, webhook
 * secrets, passwords, tokens) are written as `[redacted]` under whatever
 * object they are logged in; passwords inside URLs as `***`; email addresses
 * as `a***@example.com` wherever they appear — in a logged value, a message
 * text or an error. Every line of a request carries its `reqId`, which is the
 * `x-request-id` the answer echoes.
 */
import { stdSerializers, type LoggerOptions } from 'pino';

/** Keys whose values are credentials: replaced by `[redacted]` whatever they hold. */
const SECRET_KEYS = ['authorization', 'cookie', 'proxy-authorization', 'x-api-key', 'apiKey', 'apiKeys', 'secret', 'webhookSecret', 'signingSecret', 'password', 'pass', 'token', 'metricsToken'];
const SECRET = new Set(SECRET_KEYS);

/** Masked value of a credential. */
export const REDACTED = '[redacted]';

/** `alice@example.com` → `a***@example.com`. */
export function maskEmail(address: string): string {
  const at = address.lastIndexOf('@');
  if (at <= 0) return REDACTED;
  return `${address[0]}***${address.slice(at)}`;
}

const EMAIL_PATTERN = /[\w.%+-]+@[\w-]+(?:\.[\w-]+)+/g;

/** `text` with every email address in it masked. */
export function maskEmails(text: string): string {
  return text.includes('@') ? text.replace(EMAIL_PATTERN, maskEmail) : text;
}

/** `text` with the password of a URL in it masked (`redis://:***@host`); other text as it is. */
export function maskUrlPassword(text: string): string {
  if (!/^[a-z][\w+.-]*:\/\//i.test(text)) return text;
  try {
    const url = new URL(text);
    if (!url.password) return text;
    url.password = '***';
    return url.toString();
  } catch {
    return REDACTED;
  }
}

/** Nesting levels of a log object that are scrubbed; deeper values are written as they are. */
const MAX_DEPTH = 4;

/**
 * `value` (logged under `key`) with credentials redacted and addresses masked. Walks plain objects
 * and arrays only (requests and errors have serializers of their own), and copies on write: the
 * caller's objects are never changed.
 */
function scrub(value: unknown, key: string, depth: number): unknown {
  if (SECRET.has(key)) return value === undefined || value === null ? value : REDACTED;
  if (typeof value === 'string') return value.includes('@') ? maskEmails(maskUrlPassword(value)) : value;
  if (value === null || typeof value !== 'object' || depth >= MAX_DEPTH) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    value.forEach((item: unknown, i) => {
      const clean = scrub(item, key, depth + 1);
      if (clean !== item) (copy ??= [...value])[i] = clean;
    });
    return copy ?? value;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  let copy: Record<string, unknown> | undefined;
  for (const [k, item] of Object.entries(value)) {
    const clean = scrub(item, k, depth + 1);
    if (clean !== item) (copy ??= { ...value })[k] = clean;
  }
  return copy ?? value;
}

/**
 * `object` scrubbed (see {@link scrub}), as pino's `formatters.log`. Child-logger bindings are not
 * scrubbed (pino does not pass them through it): bind ids (`reqId`, `jobId`), never data.
 */
function scrubObject(object: Record<string, unknown>): Record<string, unknown> {
  return scrub(object, '', 0) as Record<string, unknown>;
}

/** pino's error serializer, scrubbed like the rest (an SMTP refusal quotes the recipient in its message and `response`). */
function errorSerializer(error: Error): ReturnType<typeof stdSerializers.err> {
  return scrubSerializedError(stdSerializers.err(error), 0);
}

/** A serialized error (not a plain object, so {@link scrub} would pass it by) scrubbed field by field, causes included. */
function scrubSerializedError<T extends object>(serialized: T, depth: number): T {
  const fields = serialized as Record<string, unknown>;
  for (const [key, value] of Object.entries(fields)) {
    if (key === 'cause' && value !== null && typeof value === 'object' && depth < MAX_DEPTH) fields[key] = scrubSerializedError(value, depth + 1);
    else fields[key] = scrub(value, key, depth + 1);
  }
  return serialized;
}

/**
 * Options of the server's pino logger at `level`; `stream` is where lines go (stdout by default).
 * @example Fastify({ logger: jobwaitLoggerOptions('info') })
 */
export function jobwaitLoggerOptions(level: string): LoggerOptions {
  return {
    level,
    // pino's `redact` would do the same by path, at ~5x the cost per line and on every child logger.
    formatters: { log: scrubObject },
    serializers: { err: errorSerializer },
    hooks: {
      // Message texts (and `%s` arguments) are masked too: `log.info('mailed %s', address)`.
      logMethod(args, method) {
        for (let i = 0; i < args.length; i++) {
          const arg: unknown = args[i];
          if (typeof arg === 'string' && arg.includes('@')) (args as unknown[])[i] = maskEmails(arg);
        }
        method.apply(this, args);
      },
    },
  };
}
