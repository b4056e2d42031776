/** The text forms of a job: bar frames, durations, lines and the `ls` table, checked without a server or clock. */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import type { Job } from '@jobwait/client';
import { jobLine, jobTable } from './job-format.js';
import { ProgressBar, formatSeconds, renderBar } from './progress-bar.js';

const created = Date.parse('2025-01-01T00:00:00.000Z');
const job = (over: Partial<Job> = {}): Job => ({
  id: 'job_01JABCDEFGHJKMNPQRSTVWXYZ0',
  status: 'pending',
  progress: 0,
  etaMs: 10_000,
  createdAt: new Date(created).toISOString(),
  dueAt: new Date(created + 10_000).toISOString(),
  updatedAt: new Date(created).toISOString(),
  duration: 10,
  version: 1,
  ...over,
});

describe('renderBar', () => {
  it('draws an empty bar with the full ETA at the start', () => {
    assert.equal(renderBar(job(), created, 50), `[${'.'.repeat(20)}]   0%  ETA 10.0s`);
  });

  it('moves with the clock between server updates, from createdAt/dueAt', () => {
    assert.equal(renderBar(job(), created + 4_200, 50), `[${'#'.repeat(8)}${'.'.repeat(12)}]  42%  ETA 5.8s`);
  });

  it('stays at 100% and ETA 0.0s once the due time passed but the job is still pending', () => {
    assert.equal(renderBar(job(), created + 60_000, 50), `[${'#'.repeat(20)}] 100%  ETA 0.0s`);
  });

  it('shows the final status instead of an ETA once the job ended', () => {
    assert.equal(renderBar(job({ status: 'completed', progress: 1 }), created + 3_000, 50), `[${'#'.repeat(20)}] 100%  completed`);
    assert.equal(renderBar(job({ status: 'canceled', progress: 0.25 }), created + 9_000, 50), `[${'#'.repeat(5)}${'.'.repeat(15)}]  25%  canceled`);
  });

  it('keeps the bar between 10 and 40 characters whatever the terminal width', () => {
    const width = (columns: number) => /\[([#.]+)\]/.exec(renderBar(job(), created, columns))![1]!.length;
    assert.equal(width(0), 10);
    assert.equal(width(20), 10);
    assert.equal(width(60), 30);
    assert.equal(width(300), 40);
  });

  it('never divides by zero for a job due when it was created', () => {
    const due = job({ dueAt: new Date(created).toISOString() });
    assert.match(renderBar(due, created, 50), /^\[\.+\]   0%  ETA 0\.0s$/);
    assert.match(renderBar(due, created + 5, 50), /^\[#+\] 100%  ETA 0\.0s$/);
  });
});

describe('formatSeconds', () => {
  it('shows tenths under a minute and m/ss above', () => {
    assert.equal(formatSeconds(0), '0.0s');
    assert.equal(formatSeconds(4_249), '4.2s');
    assert.equal(formatSeconds(59_900), '59.9s');
    assert.equal(formatSeconds(60_000), '1m00s');
    assert.equal(formatSeconds(185_000), '3m05s');
  });
});

describe('jobLine and jobTable', () => {
  it('prints progress and ETA for a pending job, the message for an error, nothing more for the rest', () => {
    assert.equal(jobLine(job({ progress: 0.42, etaMs: 5_800 })), 'job_01JABCDEFGHJKMNPQRSTVWXYZ0  pending   42%  ETA 5.8s');
    assert.equal(jobLine(job({ status: 'completed', progress: 1, etaMs: 0 })), 'job_01JABCDEFGHJKMNPQRSTVWXYZ0  completed');
    assert.equal(jobLine(job({ status: 'canceled' })), 'job_01JABCDEFGHJKMNPQRSTVWXYZ0  canceled');
    assert.equal(
      jobLine(job({ status: 'error', progress: 1, error: { code: 'JOB_FAILED', message: 'simulated failure' } })),
      'job_01JABCDEFGHJKMNPQRSTVWXYZ0  error     simulated failure',
    );
  });

  it('lays jobs out in aligned columns under a header', () => {
    const table = jobTable([job({ progress: 0.5 }), job({ id: 'job_2', status: 'completed', progress: 1, duration: 0.5 })]).split('\n');
    assert.equal(table.length, 3);
    assert.match(table[0]!, /^ID {28}  STATUS     PROGRESS  DURATION  CREATED$/);
    assert.equal(table[1], `job_01JABCDEFGHJKMNPQRSTVWXYZ0  pending         50%       10s  2025-01-01T00:00:00.000Z`);
    assert.equal(table[2]!.indexOf('completed'), table[1]!.indexOf('pending'));
    assert.equal(jobTable([]), 'no jobs');
  });
});

describe('ProgressBar', () => {
  class Capture extends Writable {
    text = '';
    readonly isTTY = true;
    constructor(readonly columns: number) {
      super();
    }
    override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
      this.text += chunk.toString();
      callback();
    }
  }

  it('redraws in place with \\r and clear-line, and ends the line on stop', () => {
    const err = new Capture(100);
    const bar = new ProgressBar({ out: new Capture(100), err });
    bar.update(job({ createdAt: new Date().toISOString(), dueAt: new Date(Date.now() + 10_000).toISOString() }));
    bar.update(job({ status: 'completed', progress: 1 }));
    bar.stop();
    const frames = err.text.split('\r\x1b[2K').filter(Boolean);
    assert.equal(frames.length, 3);
    assert.match(frames[0]!, /^\[\.+\] +\d%  ETA \d+\.\ds$/);
    assert.equal(frames[2], `[${'#'.repeat(40)}] 100%  completed\n`);
  });

  it('uses 80 columns when the terminal reports a width of 0 (as under `script`)', () => {
    const err = new Capture(0);
    const bar = new ProgressBar({ out: new Capture(0), err });
    bar.update(job({ status: 'completed', progress: 1 }));
    bar.stop();
    assert.ok(err.text.includes(`[${'#'.repeat(40)}]`), JSON.stringify(err.text));
  });

  it('writes nothing when stopped before any update', () => {
    const err = new Capture(80);
    new ProgressBar({ out: new Capture(80), err }).stop();
    assert.equal(err.text, '');
  });
});
