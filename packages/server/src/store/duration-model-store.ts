/**
 * Where the duration models live (predict/duration-model.ts): one small JSON state per tenant and
 * job kind, in the engine, so every instance of a cluster predicts alike and a restart forgets nothing.
 */
import type { DurationModelState } from '../predict/duration-model.js';

/** The models of every tenant's kinds. */
export interface DurationModelStore {
  /** The tenant's model of `kind`, or undefined before a job of it finished. */
  get(tenant: string, kind: string): Promise<DurationModelState | undefined>;
  /**
   * Replaces the model of `kind` with `change(stored)` (an empty model when there is none), atomically:
   * two instances learning at once both count. Answers the state written.
   */
  update(tenant: string, kind: string, change: (state: DurationModelState | undefined) => DurationModelState): Promise<DurationModelState>;
}
