/** Reading `Prefer: wait=N` (RFC 7240) and the `?wait=N` shorthand. */

/** Seconds the client asks the server to hold the request, or undefined when it asks for none. */
export function requestedWait(preferHeader: string | string[] | undefined, queryWait: number | undefined): number | undefined {
  if (queryWait !== undefined) return queryWait;
  const values = Array.isArray(preferHeader) ? preferHeader : preferHeader ? [preferHeader] : [];
  for (const value of values) {
    for (const preference of value.split(',')) {
      const match = /^\s*wait\s*=\s*"?(\d{1,9})"?\s*(?:;.*)?$/i.exec(preference);
      if (match) return Number(match[1]);
    }
  }
  return undefined;
}

/**
 * True when the client asks to be answered only at a final state (`Prefer: until=final`), not at
 * each new version: a waiter that only wants the end is not woken by every progress report.
 */
export function prefersUntilFinal(preferHeader: string | string[] | undefined): boolean {
  const values = Array.isArray(preferHeader) ? preferHeader : preferHeader ? [preferHeader] : [];
  return values.some((value) => value.split(',').some((preference) => /^\s*until\s*=\s*"?final"?\s*(?:;.*)?$/i.test(preference)));
}
