/**
 * A list of job rows in the DOM, keyed by job id: a render moves, updates, adds and removes
 * rows to match the jobs given, touching only what changed. Rows that leave are kept in a small
 * pool and reused for the next jobs, so a stream of new jobs makes no garbage DOM. The DOM holds
 * as many rows as the jobs given, and callers give a bounded number.
 */
import type { Job } from '@jobwait/client';
import { describeState, formatDuration, progressAt, ranMs, remainingAt, resultDisplay, STATUS_LABELS } from './job-format.js';

/** Options of {@link JobListView}. */
export interface JobListViewOptions {
  /** The `<ul>` the rows live in. */
  list: HTMLUListElement;
  /** Clock time of an ISO date, for people. */
  formatTime: (iso: string) => string;
  /** True when job `id` is on the watch list (its star is pressed). */
  isWatched: (id: string) => boolean;
  /** Where the keyboard focus goes when the focused row leaves. */
  onFocusLost: () => void;
}

/** The DOM of one job. */
interface Row {
  job: Job;
  li: HTMLLIElement;
  badge: HTMLElement;
  id: HTMLElement;
  watch: HTMLButtonElement;
  meta: HTMLElement;
  /** The job's batch and tags, each a button that narrows the page to it. */
  chips: HTMLElement;
  progress: HTMLProgressElement;
  state: HTMLElement;
  /** A completed job's result: a link for an http(s) URL, else text; hidden without one. */
  result: HTMLElement;
  cancel: HTMLButtonElement;
  cancelLabel: HTMLElement;
}

/** Rows kept for reuse at most. */
const POOL_LIMIT = 64;

/** Keyed rows of jobs in one `<ul>`. */
export class JobListView {
  private readonly rows = new Map<string, Row>();
  private readonly pool: Row[] = [];

  constructor(private readonly options: JobListViewOptions) {}

  /** Number of rows shown. */
  get size(): number {
    return this.rows.size;
  }

  /** True when job `id` has a row. */
  has(id: string): boolean {
    return this.rows.has(id);
  }

  /** The job a row shows, by id. */
  jobOf(id: string): Job | undefined {
    return this.rows.get(id)?.job;
  }

  /** The jobs shown, in order. */
  get jobs(): Job[] {
    const out: Job[] = [];
    for (let li = this.options.list.firstElementChild; li; li = li.nextElementSibling) {
      const row = this.rows.get((li as HTMLLIElement).dataset.id ?? '');
      if (row) out.push(row.job);
    }
    return out;
  }

  /** Shows exactly `jobs`, in this order; work is in proportion to the rows shown, not to all jobs. */
  render(jobs: readonly Job[], now: number, skewMs: number): void {
    const { list } = this.options;
    const keep = new Set<string>();
    for (const job of jobs) keep.add(job.id);
    for (const [id, row] of this.rows) {
      if (keep.has(id)) continue;
      if (row.li.contains(document.activeElement)) this.options.onFocusLost();
      row.li.remove();
      row.li.classList.remove('just-finished');
      this.rows.delete(id);
      if (this.pool.length < POOL_LIMIT) this.pool.push(row);
    }
    let cursor = list.firstElementChild;
    for (const job of jobs) {
      let row = this.rows.get(job.id);
      if (!row) {
        row = this.pool.pop() ?? createRow(job);
        bindRow(row, job);
        this.rows.set(job.id, row);
      }
      this.update(row, job, now, skewMs);
      if (row.li === cursor) cursor = cursor.nextElementSibling;
      else list.insertBefore(row.li, cursor);
    }
  }

  /** Moves the bars of pending rows on to `now`; returns how many rows are pending. */
  tick(now: number, skewMs: number): number {
    let pending = 0;
    for (const row of this.rows.values()) {
      if (row.job.status !== 'pending') continue;
      pending++;
      this.updateProgress(row, row.job, now, skewMs);
    }
    return pending;
  }

  /** Highlights job `id`'s row for a moment (it just finished). */
  flash(id: string): void {
    const row = this.rows.get(id);
    if (!row) return;
    row.li.classList.remove('just-finished');
    // Restart the highlight animation.
    void row.li.offsetWidth;
    row.li.classList.add('just-finished');
  }

  /** Updates every row's star (the watch list changed). */
  refreshWatched(): void {
    for (const row of this.rows.values()) setPressed(row.watch, this.options.isWatched(row.job.id));
  }

  private update(row: Row, job: Job, now: number, skewMs: number): void {
    row.job = job;
    if (row.li.dataset.status !== job.status) row.li.dataset.status = job.status;
    setText(row.badge, STATUS_LABELS[job.status]);
    setText(row.meta, `${formatDuration(ranMs(job))} · started ${this.options.formatTime(job.createdAt)}`);
    setPressed(row.watch, this.options.isWatched(job.id));
    const pending = job.status === 'pending';
    if (!pending && row.cancel.contains(document.activeElement)) row.li.focus();
    if (row.cancel.hidden === pending) row.cancel.hidden = !pending;
    this.updateProgress(row, job, now, skewMs);
    updateResult(row.result, job.result);
    updateChips(row.chips, job);
  }

  private updateProgress(row: Row, job: Job, now: number, skewMs: number): void {
    const progress = progressAt(job, now, skewMs);
    if (Math.abs(row.progress.value - progress) >= 0.0005 || (progress === 1 && row.progress.value !== 1)) row.progress.value = progress;
    const words = describeState(job, remainingAt(job, now, skewMs), this.options.formatTime);
    setText(row.state, job.status === 'pending' ? `${Math.floor(progress * 100)} % · ${words}` : words);
  }
}

function createRow(job: Job): Row {
  const li = document.createElement('li');
  li.className = 'job';
  // Focus lands here when the row's cancel button goes away under the keyboard.
  li.tabIndex = -1;

  const head = document.createElement('div');
  head.className = 'job-head';
  const badge = document.createElement('span');
  badge.className = 'badge';
  const id = document.createElement('code');
  id.className = 'job-id';
  const watch = document.createElement('button');
  watch.type = 'button';
  watch.className = 'watch';
  watch.textContent = '★';
  const meta = document.createElement('span');
  meta.className = 'job-meta';
  const chips = document.createElement('span');
  chips.className = 'job-chips';
  chips.hidden = true;
  head.append(badge, id, watch, meta, chips);

  const progress = document.createElement('progress');
  progress.className = 'job-progress';
  progress.max = 1;

  const state = document.createElement('p');
  state.className = 'job-state';

  const result = document.createElement('p');
  result.className = 'job-result';
  result.hidden = true;

  const cancel = document.createElement('button');
  cancel.type = 'button';
  cancel.className = 'button button-quiet button-small cancel';
  const cancelLabel = document.createElement('span');
  cancelLabel.className = 'visually-hidden';
  cancel.append('Cancel', cancelLabel);

  li.append(head, progress, state, result, cancel);
  return { job, li, badge, id, watch, meta, chips, progress, state, result, cancel, cancelLabel };
}

/** Points a new or reused row at `job`'s id. */
function bindRow(row: Row, job: Job): void {
  row.job = job;
  row.li.dataset.id = job.id;
  row.id.textContent = job.id;
  row.watch.setAttribute('aria-label', `Watch job ${job.id}`);
  row.progress.setAttribute('aria-label', `Progress of job ${job.id}`);
  row.cancelLabel.textContent = ` job ${job.id}`;
  // A reused bar starts where this job is, not where the last one was.
  row.progress.value = 0;
}

/** Shows `value` (a job's result) in `element`: built from text nodes and one checked link, never from HTML. */
function updateResult(element: HTMLElement, value: unknown): void {
  const shown = resultDisplay(value);
  const key = shown ? ('href' in shown ? `a ${shown.href} ${shown.text}` : `t ${shown.text}`) : '';
  if (element.dataset.shown === key) return;
  element.dataset.shown = key;
  element.hidden = !shown;
  if (!shown) return void element.replaceChildren();
  const label = document.createElement('span');
  label.className = 'job-result-label';
  label.textContent = 'Result: ';
  if (!('href' in shown)) return void element.replaceChildren(label, shown.text);
  const link = document.createElement('a');
  link.href = shown.href;
  link.textContent = shown.text;
  link.target = '_blank';
  link.rel = 'noopener noreferrer';
  element.replaceChildren(label, link);
}

/**
 * Shows `job`'s batch and tags as buttons (at most 1 + 10: the server's cap on tags), each
 * carrying its scope in data attributes; built from text, never from HTML.
 */
function updateChips(element: HTMLElement, job: Job): void {
  const key = `${job.batchId ?? ''} ${(job.tags ?? []).join(' ')}`;
  if (element.dataset.shown === key) return;
  element.dataset.shown = key;
  const chips: HTMLButtonElement[] = [];
  if (job.batchId !== undefined) chips.push(chip('batch', job.batchId, `batch …${job.batchId.slice(-6)}`, `Show batch ${job.batchId}`));
  for (const tag of job.tags ?? []) chips.push(chip('tag', tag, tag, `Show tag ${tag}`));
  element.hidden = chips.length === 0;
  element.replaceChildren(...chips);
}

function chip(kind: 'batch' | 'tag', value: string, text: string, label: string): HTMLButtonElement {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = `chip chip-${kind}`;
  button.dataset.scopeKind = kind;
  button.dataset.scopeValue = value;
  button.textContent = text;
  button.title = label;
  button.setAttribute('aria-label', label);
  return button;
}

function setText(element: HTMLElement, text: string): void {
  if (element.textContent !== text) element.textContent = text;
}

function setPressed(button: HTMLButtonElement, pressed: boolean): void {
  const value = String(pressed);
  if (button.getAttribute('aria-pressed') !== value) button.setAttribute('aria-pressed', value);
}
