/**
 * Counts the failures of a store or feed without touching its code: every
 * method call that throws or rejects adds one to
 * `jobwait_store_errors_total{component, operation}` and fails as before. One
 * wrapper covers every path that uses the store (routes, the scheduler,
 * `/readyz`), so each failure is counted once, where it happened.
 */
import type { ServerMetrics } from './metrics.js';

/** `target` with its method failures counted under `component` (e.g. `store`, `feed`). */
export function countErrors<T extends object>(target: T, component: string, metrics: Pick<ServerMetrics, 'storeErrors'>): T {
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(target, {
    get(object, property) {
      const value: unknown = Reflect.get(object, property, object);
      if (typeof value !== 'function' || property === 'constructor') return value;
      let wrapper = wrapped.get(property);
      if (!wrapper) {
        const operation = String(property);
        const count = (): void => metrics.storeErrors.inc({ component, operation });
        wrapper = function (this: unknown, ...args: unknown[]): unknown {
          let result: unknown;
          try {
            // Called on the target itself, so private (#) fields keep working.
            result = (value as (...a: unknown[]) => unknown).apply(object, args);
          } catch (error) {
            count();
            throw error;
          }
          if (result instanceof Promise) {
            return result.catch((error: unknown) => {
              count();
              throw error;
            });
          }
          return result;
        };
        wrapped.set(property, wrapper);
      }
      return wrapper;
    },
  });
}
