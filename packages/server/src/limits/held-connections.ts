/**
 * Long-polls and event streams held at once: counted per holder (the API
 * key, or the client's IP when the server runs open) and in total, and
 * refused past either limit. The rate limit counts a hold once, when it
 * opens; this counts it for as long as it lasts, so one key cannot take the
 * process's sockets from everyone else.
 */

/** What is held. */
export type HeldKind = 'long-poll' | 'sse';

/** Every {@link HeldKind}, for metrics. */
export const HELD_KINDS: readonly HeldKind[] = ['long-poll', 'sse'];

/** Why a hold was refused: the holder is at its cap (429), or the server at its ceiling (503). */
export type HoldRefusal = 'holder-cap' | 'server-ceiling';

/** Limits of {@link HeldConnections}. */
export interface HeldLimits {
  /** Holds at once per holder. */
  perHolder: number;
  /** Holds at once in this process. */
  total: number;
}

/** A hold taken: call `release` once when it ends (calling it again does nothing). */
export interface Hold {
  release(): void;
}

/** The answer of {@link HeldConnections.take}. */
export type HoldAttempt = { ok: true; hold: Hold } | { ok: false; reason: HoldRefusal; limit: number };

/** The holds of one server instance. */
export class HeldConnections {
  private readonly perHolder = new Map<string, number>();
  private readonly byKind: Record<HeldKind, number> = { 'long-poll': 0, sse: 0 };
  private total = 0;
  private most = 0;

  constructor(
    readonly limits: HeldLimits,
    private readonly onRefused?: (reason: HoldRefusal) => void,
  ) {}

  /** Takes a hold of `kind` for `holder`, unless the holder or the server is at its limit. */
  take(holder: string, kind: HeldKind): HoldAttempt {
    const held = this.perHolder.get(holder) ?? 0;
    if (held >= this.limits.perHolder) return this.refuse('holder-cap', this.limits.perHolder);
    if (this.total >= this.limits.total) return this.refuse('server-ceiling', this.limits.total);
    this.perHolder.set(holder, held + 1);
    this.byKind[kind] += 1;
    this.total += 1;
    this.most = Math.max(this.most, this.total);
    let released = false;
    return {
      ok: true,
      hold: {
        release: () => {
          if (released) return;
          released = true;
          const now = (this.perHolder.get(holder) ?? 1) - 1;
          if (now > 0) this.perHolder.set(holder, now);
          else this.perHolder.delete(holder);
          this.byKind[kind] -= 1;
          this.total -= 1;
        },
      },
    };
  }

  /** Holds now, in total. */
  get size(): number {
    return this.total;
  }

  /** Most holds there were at once since this was made. */
  get peak(): number {
    return this.most;
  }

  /** Holds now of `kind`. */
  count(kind: HeldKind): number {
    return this.byKind[kind];
  }

  /** Holds now of `holder`. */
  heldBy(holder: string): number {
    return this.perHolder.get(holder) ?? 0;
  }

  private refuse(reason: HoldRefusal, limit: number): HoldAttempt {
    this.onRefused?.(reason);
    return { ok: false, reason, limit };
  }
}
