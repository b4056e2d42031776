/**
 * The process's file-descriptor limit (RLIMIT_NOFILE, what `ulimit -n`
 * sets) and the budget derived from it: every held long-poll or event
 * stream is one socket, so one descriptor, and a process that runs out
 * cannot accept a connection, open its database or call a webhook.
 */
import { readFileSync } from 'node:fs';

/** The soft and hard limits, as `/proc/self/limits` shows them ("unlimited" as `Infinity`). */
export interface FdLimit {
  soft: number;
  hard: number;
}

/**
 * Reads `Max open files` from `/proc/self/limits` (Linux); `undefined` where that file does not
 * exist or says nothing readable (macOS, Windows).
 * @example readFdLimit() // {soft: 1024, hard: 524288}
 */
export function readFdLimit(text?: string): FdLimit | undefined {
  let limits = text;
  if (limits === undefined) {
    try {
      limits = readFileSync('/proc/self/limits', 'utf8');
    } catch {
      return undefined;
    }
  }
  const match = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(limits);
  if (!match) return undefined;
  const value = (s: string): number => (s === 'unlimited' ? Number.POSITIVE_INFINITY : Number(s));
  return { soft: value(match[1]!), hard: value(match[2]!) };
}

/** How the descriptors of a process are shared out. */
export interface FdBudget {
  /** The soft limit the budget was derived from (`undefined`: unknown, defaults used). */
  fdLimit: number | undefined;
  /**
   * Client connections accepted at once (`server.maxConnections`): beyond it a new connection is
   * closed at once instead of failing `accept()` with EMFILE. The rest of the descriptors stay for
   * the database, Redis, webhooks, SMTP and Node itself.
   */
  maxConnections: number;
  /** Long-polls and event streams held at once, leaving room for plain requests under `maxConnections`. */
  maxHeld: number;
}

/** Descriptors assumed when the limit cannot be read (Node's own default on most systems is higher). */
const UNKNOWN_LIMIT = 65_536;

/**
 * The budget for a soft limit of `fdLimit` descriptors: a tenth (at least 160) kept for everything
 * but client connections, and of the connections, another tenth (at least 96) kept for plain
 * requests. `ulimit -n 1024` gives 864 connections of which 762 may be held.
 * @example fdBudget(1024) // {fdLimit: 1024, maxConnections: 864, maxHeld: 762}
 */
export function fdBudget(fdLimit: number | undefined): FdBudget {
  const limit = fdLimit === undefined || !Number.isFinite(fdLimit) ? UNKNOWN_LIMIT : fdLimit;
  const reserve = Math.max(160, Math.floor(limit / 10));
  const maxConnections = Math.max(1, limit - reserve);
  const maxHeld = Math.max(1, maxConnections - Math.max(96, Math.floor(limit / 10)));
  return { fdLimit, maxConnections, maxHeld };
}
