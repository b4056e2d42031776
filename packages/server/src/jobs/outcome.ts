/**
 * Decides whether a simulated job fails: per job (`outcome`) or at the
 * server's `--error-rate`, from a seedable generator so tests are repeatable.
 */

/** Final state a job reaches when it is not canceled. */
export type Outcome = 'completed' | 'error';

/** Draws outcomes at a fixed error rate. */
export class OutcomePicker {
  private state: number;

  constructor(
    private readonly errorRate: number,
    seed: number = Math.floor(Math.random() * 2 ** 32),
  ) {
    this.state = seed >>> 0;
  }

  /** The requested outcome, or a draw at the error rate. */
  pick(requested?: Outcome): Outcome {
    if (requested) return requested;
    if (this.errorRate <= 0) return 'completed';
    return this.random() < this.errorRate ? 'error' : 'completed';
  }

  // mulberry32: tiny, fast and good enough for simulated failures.
  private random(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}
