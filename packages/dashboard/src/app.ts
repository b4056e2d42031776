/**
 * The dashboard (issue 6): start jobs, watch them live, be told when they finish.
 *
 * State is one map of job snapshots, fed by `GET /v1/jobs` and `GET /v1/events` in any order
 * (the higher version wins). The stream is opened first and the list read once it is live, so
 * no change can slip between the two. Rows are updated in place; progress bars move between
 * events from each job's createdAt/dueAt, corrected for the server's clock.
 */
import type { CreateJobInput, Job } from '@jobwait/client';
import { ApiError, cancelJob, createJob, isUnauthorized, listJobs, loadApiKey, storeApiKey } from './api.js';
import { startJobEvents, type StreamState } from './job-events.js';
import {
  clockSkew,
  compareNewestFirst,
  describeState,
  formatDuration,
  isNewer,
  matchesFilter,
  parseDuration,
  progressAt,
  remainingAt,
  STATUS_LABELS,
  type StatusFilter,
} from './job-format.js';
import { askForDesktopNotifications, canAskForDesktopNotifications, showDesktopNotification, showToast, type ToastKind } from './notifications.js';

/** Jobs per `GET /v1/jobs` page. */
const PAGE_SIZE = 50;

const CONNECTION_TEXT: Readonly<Record<StreamState, string>> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  unauthorized: 'API key needed',
};

function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no #${id}`);
  return element as T;
}

const ui = {
  connection: byId('connection'),
  connectionText: byId('connection-text'),
  notifyButton: byId<HTMLButtonElement>('notify-button'),
  keyButton: byId<HTMLButtonElement>('key-button'),
  startForm: byId<HTMLFormElement>('start-form'),
  duration: byId<HTMLInputElement>('duration'),
  outcome: byId<HTMLSelectElement>('outcome'),
  startButton: byId<HTMLButtonElement>('start-button'),
  startError: byId('start-error'),
  jobsHeading: byId('jobs-heading'),
  runningCount: byId('running-count'),
  filters: Array.from(document.querySelectorAll<HTMLInputElement>('input[name="status"]')),
  list: byId<HTMLUListElement>('job-list'),
  empty: byId('empty'),
  moreButton: byId<HTMLButtonElement>('more-button'),
  toasts: byId('toasts'),
  keyDialog: byId<HTMLDialogElement>('key-dialog'),
  keyForm: byId<HTMLFormElement>('key-form'),
  keyInput: byId<HTMLInputElement>('key-input'),
  keyError: byId('key-error'),
  keyForget: byId<HTMLButtonElement>('key-forget'),
  keyCancel: byId<HTMLButtonElement>('key-cancel'),
};

/** The DOM of one job. */
interface Row {
  li: HTMLLIElement;
  badge: HTMLElement;
  meta: HTMLElement;
  progress: HTMLProgressElement;
  state: HTMLElement;
  cancel: HTMLButtonElement;
}

const state = {
  jobs: new Map<string, Job>(),
  rows: new Map<string, Row>(),
  filter: '' as StatusFilter,
  /** `nextCursor` of the last page read under the current filter. */
  nextCursor: undefined as string | undefined,
  /** Server clock minus ours. */
  skewMs: 0,
  apiKey: loadApiKey(),
  connection: 'connecting' as StreamState,
  loaded: false,
};

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const formatTime = (iso: string): string => {
  const time = Date.parse(iso);
  return Number.isFinite(time) ? timeFormat.format(time) : '—';
};

function toast(message: string, kind: ToastKind = 'info'): void {
  showToast(ui.toasts, message, kind);
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The end of a job id, enough to tell jobs apart in a sentence. */
function shortId(id: string): string {
  return id.length > 12 ? `…${id.slice(-8)}` : id;
}

// ---------------------------------------------------------------- state

/** Takes in a snapshot; announces a job that just finished. */
function upsert(job: Job, receivedAt: number): void {
  const previous = state.jobs.get(job.id);
  if (!isNewer(job, previous)) return;
  state.jobs.set(job.id, job);
  const skew = clockSkew(job, receivedAt);
  if (skew !== undefined) state.skewMs = skew;
  if (previous?.status === 'pending' && job.status !== 'pending') announceFinished(job);
  scheduleRender();
}

function announceFinished(job: Job): void {
  const name = `Job ${shortId(job.id)}`;
  const ran = formatDuration(job.duration * 1000);
  if (job.status === 'completed') {
    toast(`${name} completed (${ran}).`, 'success');
    showDesktopNotification('Job completed', `${job.id} completed after ${ran}.`, job.id);
  } else if (job.status === 'error') {
    const reason = job.error?.message ? `: ${job.error.message}` : '.';
    toast(`${name} failed${reason}`, 'error');
    showDesktopNotification('Job failed', `${job.id} failed${reason}`, job.id);
  } else if (job.status === 'canceled') {
    toast(`${name} canceled.`);
  }
  const row = state.rows.get(job.id);
  if (row) {
    row.li.classList.remove('just-finished');
    // Restart the highlight animation.
    void row.li.offsetWidth;
    row.li.classList.add('just-finished');
  }
}

// ---------------------------------------------------------------- rendering

let renderQueued = false;

/** Renders once after the current batch of changes. */
function scheduleRender(): void {
  if (renderQueued) return;
  renderQueued = true;
  queueMicrotask(() => {
    renderQueued = false;
    render();
  });
}

function render(): void {
  const visible = [...state.jobs.values()].filter((job) => matchesFilter(job, state.filter)).sort(compareNewestFirst);
  const keep = new Set(visible.map((job) => job.id));
  for (const [id, row] of state.rows) {
    if (keep.has(id)) continue;
    if (row.li.contains(document.activeElement)) ui.jobsHeading.focus();
    row.li.remove();
    state.rows.delete(id);
  }
  const now = Date.now();
  let cursor = ui.list.firstElementChild;
  for (const job of visible) {
    let row = state.rows.get(job.id);
    if (!row) {
      row = createRow(job);
      state.rows.set(job.id, row);
    }
    updateRow(row, job, now);
    if (row.li === cursor) cursor = cursor.nextElementSibling;
    else ui.list.insertBefore(row.li, cursor);
  }

  const running = [...state.jobs.values()].filter((job) => job.status === 'pending').length;
  ui.runningCount.textContent = running > 0 ? `${running} running` : '';
  document.title = running > 0 ? `(${running}) jobwait` : 'jobwait';
  ui.empty.hidden = visible.length > 0;
  ui.empty.textContent = !state.loaded
    ? state.connection === 'unauthorized'
      ? 'Enter an API key to see your jobs.'
      : 'Loading jobs…'
    : state.filter === ''
      ? 'No jobs yet. Start one with the form.'
      : `No ${STATUS_LABELS[state.filter].toLowerCase()} jobs.`;
  ui.moreButton.hidden = state.nextCursor === undefined;
  if (running > 0) animate();
}

function createRow(job: Job): Row {
  const li = document.createElement('li');
  li.className = 'job';
  li.dataset.id = job.id;
  // Focus lands here when the row's cancel button goes away under the keyboard.
  li.tabIndex = -1;

  const head = document.createElement('div');
  head.className = 'job-head';
  const badge = document.createElement('span');
  badge.className = 'badge';
  const id = document.createElement('code');
  id.className = 'job-id';
  id.textContent = job.id;
  const meta = document.createElement('span');
  meta.className = 'job-meta';
  head.append(badge, id, meta);

  const progress = document.createElement('progress');
  progress.className = 'job-progress';
  progress.max = 1;
  progress.setAttribute('aria-label', `Progress of job ${job.id}`);

  const stateLine = document.createElement('p');
  stateLine.className = 'job-state';

  const cancel = document.createElement('button');
  cancel.type = 'button';
  cancel.className = 'button button-quiet button-small cancel';
  const hidden = document.createElement('span');
  hidden.className = 'visually-hidden';
  hidden.textContent = ` job ${job.id}`;
  cancel.append('Cancel', hidden);

  li.append(head, progress, stateLine, cancel);
  return { li, badge, meta, progress, state: stateLine, cancel };
}

function setText(element: HTMLElement, text: string): void {
  if (element.textContent !== text) element.textContent = text;
}

function updateRow(row: Row, job: Job, now: number): void {
  row.li.dataset.status = job.status;
  setText(row.badge, STATUS_LABELS[job.status]);
  setText(row.meta, `${formatDuration(job.duration * 1000)} · started ${formatTime(job.createdAt)}`);
  const pending = job.status === 'pending';
  if (!pending && row.cancel.contains(document.activeElement)) row.li.focus();
  row.cancel.hidden = !pending;
  updateProgress(row, job, now);
}

function updateProgress(row: Row, job: Job, now: number): void {
  const progress = progressAt(job, now, state.skewMs);
  if (Math.abs(row.progress.value - progress) >= 0.0005 || (progress === 1 && row.progress.value !== 1)) row.progress.value = progress;
  const remaining = remainingAt(job, now, state.skewMs);
  const words = describeState(job, remaining, formatTime);
  setText(row.state, job.status === 'pending' ? `${Math.floor(progress * 100)} % · ${words}` : words);
}

let animating = false;

/** Moves the bars of pending jobs every frame until none is left. */
function animate(): void {
  if (animating) return;
  animating = true;
  const frame = (): void => {
    const now = Date.now();
    let pending = 0;
    for (const [id, row] of state.rows) {
      const job = state.jobs.get(id);
      if (job?.status !== 'pending') continue;
      pending++;
      updateProgress(row, job, now);
    }
    if (pending > 0) requestAnimationFrame(frame);
    else animating = false;
  };
  requestAnimationFrame(frame);
}

// ---------------------------------------------------------------- API key

let keyPrompt: Promise<boolean> | undefined;
let settleKeyPrompt: ((saved: boolean) => void) | undefined;

/** Shows the key dialog; resolves true once a key is saved. Concurrent callers share one dialog. */
function askForKey(rejected: boolean): Promise<boolean> {
  keyPrompt ??= new Promise<boolean>((resolve) => {
    settleKeyPrompt = resolve;
    openKeyDialog(rejected ? 'The server did not accept this key. Enter another one.' : '');
  }).finally(() => {
    keyPrompt = undefined;
    settleKeyPrompt = undefined;
  });
  return keyPrompt;
}

function openKeyDialog(error: string): void {
  ui.keyError.textContent = error;
  ui.keyInput.value = '';
  ui.keyInput.setAttribute('aria-invalid', String(error !== ''));
  ui.keyForget.hidden = state.apiKey === undefined;
  ui.keyDialog.returnValue = '';
  if (!ui.keyDialog.open) ui.keyDialog.showModal();
  ui.keyInput.focus();
}

/** Runs `call` with the current key; on a 401, asks for a key and runs it again. */
async function withKey<T>(call: (key: string | undefined) => Promise<T>): Promise<T> {
  for (;;) {
    const key = state.apiKey;
    try {
      return await call(key);
    } catch (error) {
      if (!isUnauthorized(error)) throw error;
      // Another call got a new key meanwhile: try that one before asking.
      if (state.apiKey !== key) continue;
      if (!(await askForKey(key !== undefined))) throw error;
    }
  }
}

function useKey(key: string | undefined): void {
  state.apiKey = key;
  if (!storeApiKey(key) && key !== undefined) toast('This browser does not allow saving the key: it is kept until the page closes.');
  updateKeyButton();
  events.restart();
}

function updateKeyButton(): void {
  ui.keyButton.hidden = state.apiKey === undefined && state.connection !== 'unauthorized';
  ui.keyButton.textContent = state.apiKey === undefined ? 'Enter API key' : 'API key';
}

ui.keyForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const key = ui.keyInput.value.trim();
  if (key === '') {
    ui.keyError.textContent = 'Enter the API key.';
    ui.keyInput.setAttribute('aria-invalid', 'true');
    ui.keyInput.focus();
    return;
  }
  ui.keyDialog.close('saved');
  useKey(key);
});
ui.keyCancel.addEventListener('click', () => ui.keyDialog.close(''));
ui.keyForget.addEventListener('click', () => {
  ui.keyDialog.close('');
  useKey(undefined);
  toast('API key forgotten.');
});
ui.keyDialog.addEventListener('close', () => settleKeyPrompt?.(ui.keyDialog.returnValue === 'saved'));
ui.keyButton.addEventListener('click', () => openKeyDialog(''));

// ---------------------------------------------------------------- loading

let listTicket = 0;

/** Reads the first page under the current filter (or the next one) into the map. */
async function loadJobs(more = false): Promise<void> {
  const ticket = ++listTicket;
  const filter = state.filter;
  const cursor = more ? state.nextCursor : undefined;
  try {
    const page = await withKey((key) => listJobs({ status: filter || undefined, cursor, limit: PAGE_SIZE }, key));
    const receivedAt = Date.now();
    for (const job of page.jobs) upsert(job, receivedAt);
    if (ticket === listTicket && filter === state.filter) state.nextCursor = page.nextCursor;
  } catch (error) {
    if (!isUnauthorized(error)) toast(`Could not load jobs: ${errorMessage(error)}`, 'error');
  } finally {
    state.loaded = true;
    scheduleRender();
  }
}

const events = startJobEvents({
  apiKey: () => state.apiKey,
  onJob: upsert,
  onOpen: () => void loadJobs(),
  onState: (next) => {
    state.connection = next;
    ui.connection.dataset.state = next;
    setText(ui.connectionText, CONNECTION_TEXT[next]);
    updateKeyButton();
    scheduleRender();
    if (next === 'unauthorized') void askForKey(state.apiKey !== undefined);
  },
});

// ---------------------------------------------------------------- actions

let starting = false;

ui.startForm.addEventListener('submit', (event) => {
  event.preventDefault();
  if (starting) return;
  const parsed = parseDuration(ui.duration.value);
  if ('error' in parsed) {
    showStartError(parsed.error);
    ui.duration.focus();
    return;
  }
  showStartError('');
  const outcome = ui.outcome.value;
  const input: CreateJobInput = { duration: parsed.seconds, ...(outcome === 'completed' || outcome === 'error' ? { outcome } : {}) };
  // aria-disabled rather than disabled: a disabled button would drop the keyboard focus.
  starting = true;
  ui.startButton.setAttribute('aria-disabled', 'true');
  void withKey((key) => createJob(input, key))
    .then((job) => {
      if (!matchesFilter(job, state.filter)) selectFilter('');
      upsert(job, Date.now());
      toast(`Job ${shortId(job.id)} started: ${formatDuration(job.duration * 1000)}.`);
    })
    .catch((error: unknown) => showStartError(isUnauthorized(error) ? 'An API key is needed to start jobs.' : errorMessage(error)))
    .finally(() => {
      starting = false;
      ui.startButton.removeAttribute('aria-disabled');
    });
});

function showStartError(message: string): void {
  ui.startError.textContent = message;
  ui.duration.setAttribute('aria-invalid', String(message !== ''));
}

ui.list.addEventListener('click', (event) => {
  const button = (event.target as Element | null)?.closest<HTMLButtonElement>('button.cancel');
  const id = button?.closest<HTMLLIElement>('li.job')?.dataset.id;
  if (!button || id === undefined || button.getAttribute('aria-disabled') === 'true') return;
  button.setAttribute('aria-disabled', 'true');
  void withKey((key) => cancelJob(id, key))
    .then((job) => upsert(job, Date.now()))
    .catch((error: unknown) => {
      if (error instanceof ApiError && error.code === 'JOBWAIT_ERR_JOB_FINISHED') toast(`Job ${shortId(id)} had already finished.`);
      else if (!isUnauthorized(error)) toast(`Could not cancel job ${shortId(id)}: ${errorMessage(error)}`, 'error');
    })
    .finally(() => button.removeAttribute('aria-disabled'));
});

function selectFilter(filter: StatusFilter): void {
  for (const input of ui.filters) input.checked = input.value === filter;
  applyFilter(filter);
}

function applyFilter(filter: StatusFilter): void {
  state.filter = filter;
  state.nextCursor = undefined;
  render();
  // Older jobs of this status may not be loaded yet.
  void loadJobs();
}

for (const input of ui.filters) {
  input.addEventListener('change', () => {
    if (input.checked) applyFilter(input.value as StatusFilter);
  });
}

ui.moreButton.addEventListener('click', () => void loadJobs(true));

function updateNotifyButton(): void {
  ui.notifyButton.hidden = !canAskForDesktopNotifications();
}

ui.notifyButton.addEventListener('click', () => {
  void askForDesktopNotifications().then((allowed) => {
    updateNotifyButton();
    toast(allowed ? 'Desktop notifications are on.' : 'Desktop notifications stay off; this page still shows them.');
  });
});

updateNotifyButton();
updateKeyButton();
render();
