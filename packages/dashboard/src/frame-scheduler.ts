/**
 * At most one render per animation frame, however many changes arrive: the page stays
 * responsive at hundreds of changes a second because it draws at the screen's pace, not the
 * server's.
 */

/** Asks for a callback before the next paint; `requestAnimationFrame` in the page. */
export type RequestFrame = (callback: () => void) => unknown;

/** Coalesces render requests into frames. */
export interface FrameScheduler {
  /** Renders before the next frame; calls until then cost nothing more. */
  schedule(): void;
  /** Renders now if a render is scheduled (e.g. before reading the DOM). */
  flush(): void;
  /** True while a render is waiting for its frame. */
  readonly pending: boolean;
}

/**
 * Runs `render` at most once per frame, after any number of {@link FrameScheduler.schedule}
 * calls. A render that schedules again runs again in the next frame, not in a loop.
 * @param requestFrame injected for tests; the page's `requestAnimationFrame` by default.
 */
export function createFrameScheduler(render: () => void, requestFrame: RequestFrame = (callback) => requestAnimationFrame(callback)): FrameScheduler {
  let queued = false;
  /** Frames asked for that have not run yet: a flush between leaves one behind, which must then do nothing. */
  let generation = 0;
  const run = (): void => {
    queued = false;
    render();
  };
  return {
    schedule() {
      if (queued) return;
      queued = true;
      const mine = ++generation;
      requestFrame(() => {
        if (queued && mine === generation) run();
      });
    },
    flush() {
      if (queued) run();
    },
    get pending() {
      return queued;
    },
  };
}
