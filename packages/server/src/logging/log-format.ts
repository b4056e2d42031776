/**
 * How log lines look: JSON (one object per line, for a service manager, a
 * log shipper or a benchmark) or pretty (a short readable line, for a person
 * at a terminal). `auto` picks pretty when the destination is a terminal and
 * JSON otherwise.
 */
import { Writable } from 'node:stream';
import type { DestinationStream } from 'pino';

/** The `--log-format` values. */
export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;

/** `--log-format`: `auto` is pretty on a terminal, JSON otherwise. */
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Where lines go: a writable with a `write(line)`, maybe a terminal. */
export type LogDestination = { write(line: string): unknown; isTTY?: boolean };

/** The format `format` means for `destination` (stdout when undefined). */
export function resolveLogFormat(format: LogFormat, destination: LogDestination | undefined): 'json' | 'pretty' {
  if (format !== 'auto') return format;
  return (destination ?? process.stdout).isTTY === true ? 'pretty' : 'json';
}

/** Fields of the request line that its pretty message already says. */
const REQUEST_FIELDS = ['method', 'url', 'statusCode', 'ms', 'held'];

/**
 * A stream that turns pino's JSON lines into readable ones (local time, level, message; the
 * request line as `GET /status 200 0.4 ms`) and writes them to `destination` (stdout when
 * undefined), in colour on a terminal. pino-pretty is loaded only here: a JSON log never pays for it.
 */
export async function prettyDestination(destination: LogDestination | undefined): Promise<DestinationStream> {
  const { default: pretty } = await import('pino-pretty');
  return pretty({
    colorize: (destination ?? process.stdout).isTTY === true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: ['pid', 'hostname', ...REQUEST_FIELDS].join(','),
    singleLine: true,
    sync: true,
    // stdout through pino's own writer (fd 1), so the last lines are out before the process exits.
    destination: destination === undefined ? 1 : asWritable(destination),
    messageFormat: (line, messageKey) => {
      const message = String(line[messageKey] ?? '');
      if (message !== 'request completed') return message;
      const took = line.held === true ? 'held' : `${String(line.ms)} ms`;
      return `${String(line.method)} ${String(line.url)} ${String(line.statusCode)} ${took}`;
    },
  });
}

/** `destination` as a Node stream (pino-pretty pipes into one); a plain `{ write(line) }` is wrapped. */
function asWritable(destination: LogDestination): NodeJS.WritableStream {
  if (typeof (destination as Partial<NodeJS.WritableStream>).on === 'function') return destination as NodeJS.WritableStream;
  return new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      destination.write(chunk.toString());
      done();
    },
  });
}
