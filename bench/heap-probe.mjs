// Loaded into the server under test by bench/many.ts (`node --expose-gc --import bench/heap-probe.mjs …`):
// on SIGUSR2, a full garbage collection, then process.memoryUsage() written to $JOBWAIT_HEAP_PROBE_FILE,
// so the bench reads the live heap of the held waits, not the garbage of the creates before them.
import { renameSync, writeFileSync } from 'node:fs';

const file = process.env.JOBWAIT_HEAP_PROBE_FILE;
let seq = 0;
if (file) {
  process.on('SIGUSR2', () => {
    globalThis.gc?.();
    globalThis.gc?.();
    const tmp = `${file}.tmp`;
    writeFileSync(tmp, JSON.stringify({ seq: ++seq, ...process.memoryUsage() }));
    renameSync(tmp, file);
  });
}
