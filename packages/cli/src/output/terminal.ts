/** Where a command writes, so tests can capture it and TTY-only output can be turned off. */
import type { Writable } from 'node:stream';

/** Output streams of a command run. */
export interface Terminal {
  out: Writable & { isTTY?: boolean; columns?: number };
  err: Writable & { isTTY?: boolean; columns?: number };
}

/** Writes one line to stdout. */
export function line(terminal: Terminal, text: string): void {
  terminal.out.write(`${text}\n`);
}

/** Writes `value` as one line of JSON to stdout. */
export function json(terminal: Terminal, value: unknown): void {
  terminal.out.write(`${JSON.stringify(value)}\n`);
}
