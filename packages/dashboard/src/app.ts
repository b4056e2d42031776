/**
 * The dashboard: start jobs, watch them live, be told when they finish — and stay usable on a
 * server that runs thousands of them.
 *
 * The page shows a bounded slice and asks the server for the rest: counts by status come from
 * `GET /v1/jobs/counts`, the live list keeps only the newest jobs under the filter
 * ({@link JobWindow}), older jobs are read a page at a time, and pinned jobs sit in a watch list
 * of at most {@link WATCH_LIMIT}. Stream events only update that state; the DOM is rendered at
 * most once per animation frame, with work in proportion to the rows shown, never to the jobs
 * that exist. The page can narrow to one batch or tag (a chip on a job's row, or the group box):
 * then the counts, the list and its pages are that group's, and the stream's other jobs pass by.
 * The stream is opened first and the lists read once it is live, so no change can
 * slip between the two.
 */
import type { CreateJobInput, Job, JobStatus } from '@jobwait/client';
import { ApiError, cancelJob, createJob, getJob, getJobCounts, isUnauthorized, listJobs, loadApiKey, storeApiKey, type JobCounts } from './api.js';
import { createFrameScheduler } from './frame-scheduler.js';
import { startJobEvents, type StreamState } from './job-events.js';
import { clockSkew, formatDuration, matchesFilter, parseDuration, ranMs, STATUS_LABELS, type StatusFilter } from './job-format.js';
import { JobListView } from './job-list-view.js';
import { describeDone, describeScope, matchesScope, parseScope, scopeKey, type JobScope } from './job-scope.js';
import { JobWindow } from './job-window.js';
import { askForDesktopNotifications, canAskForDesktopNotifications, showDesktopNotification, showToast, type ToastKind } from './notifications.js';
import { OlderPages } from './older-pages.js';
import { describeSummary, ToastThrottle, type FinalStatus } from './toast-throttle.js';
import { trailingThrottle } from './trailing-throttle.js';
import { WATCH_LIMIT, WatchList } from './watch-list.js';

/** Jobs in the live list and per older page. */
const PAGE_SIZE = 50;
/** Least time between two reads of the counts, in milliseconds: enough for people, little for the server. */
const COUNTS_INTERVAL_MS = 500;
/** Least time between two reads of the first page when the live list ran short of jobs. */
const REFILL_INTERVAL_MS = 1000;
/** Least time between two redraws for stream changes, in milliseconds. */
const STREAM_RENDER_MS = 100;
/** Time between two steps of the progress bars, in milliseconds. */
const PROGRESS_TICK_MS = 200;
/** Pending rows past which the live list drops its animations (stripes, flashes). */
const BUSY_ROWS = 8;
/** Where the watched jobs' ids are kept in this browser. */
const WATCH_STORAGE = 'jobwait.watch';

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
  counts: Array.from(document.querySelectorAll<HTMLElement>('[data-count]')),
  searchForm: byId<HTMLFormElement>('search-form'),
  searchInput: byId<HTMLInputElement>('search-input'),
  searchError: byId('search-error'),
  listStatus: byId('list-status'),
  groupForm: byId<HTMLFormElement>('group-form'),
  groupInput: byId<HTMLInputElement>('group-input'),
  groupError: byId('group-error'),
  scope: byId('scope'),
  scopeName: byId('scope-name'),
  scopeDone: byId('scope-done'),
  scopeProgress: byId<HTMLProgressElement>('scope-progress'),
  scopeClear: byId<HTMLButtonElement>('scope-clear'),
  watching: byId('watching'),
  watchCount: byId('watch-count'),
  watchList: byId<HTMLUListElement>('watch-list'),
  list: byId<HTMLUListElement>('job-list'),
  empty: byId('empty'),
  newestButton: byId<HTMLButtonElement>('newest-button'),
  newerButton: byId<HTMLButtonElement>('newer-button'),
  olderButton: byId<HTMLButtonElement>('older-button'),
  toasts: byId('toasts'),
  keyDialog: byId<HTMLDialogElement>('key-dialog'),
  keyForm: byId<HTMLFormElement>('key-form'),
  keyInput: byId<HTMLInputElement>('key-input'),
  keyError: byId('key-error'),
  keyForget: byId<HTMLButtonElement>('key-forget'),
  keyCancel: byId<HTMLButtonElement>('key-cancel'),
};

const state = {
  /** The live list: the newest jobs under the filter. */
  live: new JobWindow({ limit: PAGE_SIZE }),
  /** Older pages, when the user went back; the live list is shown otherwise. */
  older: undefined as OlderPages | undefined,
  watch: new WatchList(WATCH_LIMIT),
  /** The server's latest counts; undefined until read (or when the server cannot count). */
  counts: undefined as JobCounts | undefined,
  /** Server clock minus ours. */
  skewMs: 0,
  apiKey: loadApiKey(),
  connection: 'connecting' as StreamState,
  loaded: false,
  /** The pointer or the keyboard focus is on the list: rows hold still (they still update in place). */
  holding: false,
  /** Newer snapshots of the rows shown while holding still. */
  heldUpdates: new Map<string, Job>(),
  /** Jobs this page started: their end is always announced on its own. */
  startedHere: new Set<string>(),
};

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const formatTime = (iso: string): string => {
  const time = Date.parse(iso);
  return Number.isFinite(time) ? timeFormat.format(time) : '—';
};
const numberFormat = new Intl.NumberFormat();

const listView = new JobListView({ list: ui.list, formatTime, isWatched: (id) => state.watch.has(id), onFocusLost: () => ui.jobsHeading.focus() });
const watchView = new JobListView({ list: ui.watchList, formatTime, isWatched: () => true, onFocusLost: () => ui.jobsHeading.focus() });

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

/** Takes in a snapshot from the stream or an action: constant work, whatever the number of jobs. */
function upsert(job: Job, receivedAt: number): void {
  const skew = clockSkew(job, receivedAt);
  if (skew !== undefined) state.skewMs = skew;
  const before = state.live.seenStatus(job.id);
  state.live.offer(job);
  const watchedBefore = state.watch.offer(job);
  state.older?.offer(job);
  if (state.holding) {
    const shown = listView.jobOf(job.id);
    const held = state.heldUpdates.get(job.id);
    // The newest wins: a cancel's answer and the stream's events for the same job arrive in any order.
    if (shown !== undefined && job.version >= shown.version && (held === undefined || job.version >= held.version)) state.heldUpdates.set(job.id, job);
  }
  const was = watchedBefore ?? before;
  if (was === 'pending' && job.status !== 'pending') announceFinished(job);
  if (state.live.needsRefill && state.older === undefined) refill.call();
  // Narrowed to a group, only its jobs move its counts (a job's tags and batch never change).
  if (matchesScope(job, state.live.scope)) counts.call();
  streamRender.call();
}

// ---------------------------------------------------------------- notices

const notices = new ToastThrottle();
let summaryTimer: ReturnType<typeof setTimeout> | undefined;

/** Tells of a finished job: one by one while few finish, summed up when many do. */
function announceFinished(job: Job): void {
  const status = job.status as FinalStatus;
  listView.flash(job.id);
  watchView.flash(job.id);
  const own = state.startedHere.delete(job.id) || state.watch.has(job.id);
  if (!own && !notices.admit(status, Date.now())) {
    summaryTimer ??= setTimeout(showSummary, notices.periodMs);
    return;
  }
  const name = `Job ${shortId(job.id)}`;
  const ran = formatDuration(ranMs(job));
  if (status === 'completed') {
    toast(`${name} completed (${ran}).`, 'success');
    showDesktopNotification('Job completed', `${job.id} completed after ${ran}.`, job.id);
  } else if (status === 'error') {
    const reason = job.error?.message ? `: ${job.error.message}` : '.';
    toast(`${name} failed${reason}`, 'error');
    showDesktopNotification('Job failed', `${job.id} failed${reason}`, job.id);
  } else {
    toast(`${name} canceled.`);
  }
}

function showSummary(): void {
  summaryTimer = undefined;
  const summary = notices.takeSummary(Date.now());
  if (!summary) return;
  const text = describeSummary(summary);
  toast(text, summary.byStatus.error > 0 ? 'error' : 'success');
  showDesktopNotification('Jobs finished', text, 'jobwait-summary');
}

// ---------------------------------------------------------------- rendering

const frames = createFrameScheduler(render);
/**
 * Stream changes are drawn at most every {@link STREAM_RENDER_MS}: rows that move 60 times a second
 * cannot be read, and each redraw of the list costs layout and paint whatever changed.
 */
const streamRender = trailingThrottle(() => frames.schedule(), STREAM_RENDER_MS);
let tickTimer: ReturnType<typeof setTimeout> | undefined;
let renderedLive = -1;
let renderedOlder = -1;
let renderedWatch = -1;
/** The filter ticket whose first page the list shows: until then, rows do not hold still. */
let shownTicket = -1;
/** The filter ticket whose first page has been read. */
let loadedTicket = -1;

/** Draws what changed since the last frame, and moves the bars of pending jobs. */
function render(): void {
  const now = Date.now();
  const older = state.older;
  if (older) {
    if (older.revision !== renderedOlder) {
      renderedOlder = older.revision;
      renderedLive = -1;
      listView.render(older.jobs, now, state.skewMs);
    }
  } else if (state.holding && shownTicket === filterTicket) {
    if (state.heldUpdates.size > 0) {
      listView.render(
        listView.jobs.map((job) => state.heldUpdates.get(job.id) ?? job),
        now,
        state.skewMs,
      );
      state.heldUpdates.clear();
    }
  } else if (state.live.revision !== renderedLive || shownTicket !== filterTicket) {
    // A new filter or group shows at once, even under the pointer (its chip was just clicked).
    renderedLive = state.live.revision;
    renderedOlder = -1;
    if (loadedTicket === filterTicket) shownTicket = filterTicket;
    listView.render(state.live.jobs, now, state.skewMs);
    // The live list has taken in every snapshot: one held before would only be older.
    state.heldUpdates.clear();
  }
  if (state.watch.revision !== renderedWatch) {
    renderedWatch = state.watch.revision;
    watchView.render(state.watch.jobs, now, state.skewMs);
    listView.refreshWatched();
    ui.watching.hidden = state.watch.size === 0;
    setText(ui.watchCount, `${state.watch.size} of ${state.watch.limit}`);
  }
  renderCounts();
  renderListStatus();
  const livePending = listView.tick(now, state.skewMs);
  const pending = livePending + watchView.tick(now, state.skewMs);
  // Many moving bars: no stripes or flashes, whose every frame is a repaint.
  const busy = String(livePending > BUSY_ROWS);
  if (ui.list.dataset.busy !== busy) ui.list.dataset.busy = busy;
  // The bars move on a few times a second while any job shown is pending.
  if (pending > 0 && tickTimer === undefined) {
    tickTimer = setTimeout(() => {
      tickTimer = undefined;
      frames.schedule();
    }, PROGRESS_TICK_MS);
  }
}

function renderCounts(): void {
  const counts = state.counts;
  for (const element of ui.counts) {
    const key = element.dataset.count as JobStatus | 'total';
    const value = counts === undefined ? undefined : key === 'total' ? counts.total : counts.counts[key];
    setText(element, value === undefined ? '' : numberFormat.format(value));
    if (value !== undefined) element.dataset.value = String(value);
    else delete element.dataset.value;
  }
  renderScope(counts);
  const running = counts?.counts.pending ?? 0;
  setText(ui.runningCount, running > 0 ? `${numberFormat.format(running)} running` : '');
  const title = running > 0 ? `(${numberFormat.format(running)}) jobwait` : 'jobwait';
  if (document.title !== title) document.title = title;
}

/** The group's banner: its name and how many of its jobs have ended, from the server's counts. */
function renderScope(counts: JobCounts | undefined): void {
  const scope = state.live.scope;
  ui.scope.hidden = scope === undefined;
  if (scope === undefined) return;
  setText(ui.scopeName, describeScope(scope));
  const done = counts === undefined ? '' : describeDone({ total: counts.total, pending: counts.counts.pending }, (n) => numberFormat.format(n));
  setText(ui.scopeDone, done);
  const progress = counts === undefined ? 0 : (counts.progress ?? (counts.total === 0 ? 1 : (counts.total - counts.counts.pending) / counts.total));
  if (ui.scopeProgress.value !== progress) ui.scopeProgress.value = progress;
}

function renderListStatus(): void {
  const older = state.older;
  const shown = listView.size;
  let status: string;
  if (older) status = `Older jobs, page ${older.depth + 1}`;
  else if (state.holding) {
    let waiting = 0;
    for (const job of state.live.jobs) if (!listView.has(job.id)) waiting++;
    status = waiting > 0 ? `Held still while you point at it · ${waiting} newer` : 'Held still while you point at it';
  } else status = shown >= PAGE_SIZE ? `Newest ${PAGE_SIZE}, live` : 'Live';
  setText(ui.listStatus, state.loaded ? status : '');
  ui.listStatus.dataset.mode = older ? 'older' : state.holding ? 'held' : 'live';

  ui.empty.hidden = shown > 0;
  if (shown === 0) {
    const filter = state.live.filter;
    setText(
      ui.empty,
      !state.loaded
        ? state.connection === 'unauthorized'
          ? 'Enter an API key to see your jobs.'
          : 'Loading jobs…'
        : older
          ? 'No older jobs.'
          : state.live.scope !== undefined
            ? `No ${filter === '' ? '' : `${STATUS_LABELS[filter].toLowerCase()} `}jobs in this ${state.live.scope.kind}.`
            : filter === ''
              ? 'No jobs yet. Start one with the form.'
              : `No ${STATUS_LABELS[filter].toLowerCase()} jobs.`,
    );
  }
  ui.newestButton.hidden = older === undefined || older.depth < 2;
  ui.newerButton.hidden = older === undefined;
  const hasOlder = older ? older.hasOlder : state.live.jobs.length >= PAGE_SIZE;
  ui.olderButton.hidden = !hasOlder;
}

function setText(element: HTMLElement, text: string): void {
  if (element.textContent !== text) element.textContent = text;
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

let filterTicket = 0;

/** Reads the first page under the current filter into the live list. */
async function loadFirstPage(): Promise<void> {
  const ticket = filterTicket;
  const filter = state.live.filter;
  const scope = state.live.scope;
  try {
    const page = await withKey((key) => listJobs({ status: filter || undefined, scope, limit: PAGE_SIZE }, key));
    if (ticket !== filterTicket) return;
    const receivedAt = Date.now();
    for (const job of page.jobs) {
      const skew = clockSkew(job, receivedAt);
      if (skew !== undefined) state.skewMs = skew;
      state.watch.offer(job);
    }
    state.live.load(page.jobs, page.nextCursor !== undefined);
  } catch (error) {
    if (!isUnauthorized(error)) toast(`Could not load jobs: ${errorMessage(error)}`, 'error');
  } finally {
    if (ticket === filterTicket) loadedTicket = ticket;
    state.loaded = true;
    frames.schedule();
  }
}

/** Reads the first page again, at most once a second, when jobs left the live list. */
const refill = trailingThrottle(() => (state.live.needsRefill && state.older === undefined ? loadFirstPage() : undefined), REFILL_INTERVAL_MS);

/** Set when the server cannot count (an older server): the counts stay hidden. */
let countsUnavailable = false;

/** Reads the counts again, at most every {@link COUNTS_INTERVAL_MS}, and once more after the last change. */
const counts = trailingThrottle(async () => {
  if (countsUnavailable) return;
  const scope = state.live.scope;
  try {
    const read = await withKey((key) => getJobCounts(key, scope));
    // Counts of a group left meanwhile are dropped: the switch asked for the new group's.
    if (scopeKey(scope) === scopeKey(state.live.scope)) state.counts = read;
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) countsUnavailable = true;
    // Otherwise the next change asks again; the stream's state tells of an outage.
  }
  frames.schedule();
}, COUNTS_INTERVAL_MS);

/** Reads an older page: `cursor` is the id of the newest job it must not hold. */
async function loadOlder(cursor: string, step: 'push' | 'replace'): Promise<void> {
  const ticket = filterTicket;
  const filter = state.live.filter;
  const scope = state.live.scope;
  try {
    const page = await withKey((key) => listJobs({ status: filter || undefined, scope, cursor, limit: PAGE_SIZE }, key));
    if (ticket !== filterTicket) return;
    state.older ??= new OlderPages();
    if (step === 'push') state.older.push(cursor, page.jobs, page.nextCursor !== undefined);
    else state.older.replace(page.jobs, page.nextCursor !== undefined);
  } catch (error) {
    if (!isUnauthorized(error)) toast(`Could not load older jobs: ${errorMessage(error)}`, 'error');
  } finally {
    frames.schedule();
  }
}

function showLive(): void {
  state.older = undefined;
  renderedLive = -1;
  frames.schedule();
  refill.call();
}

/** Reads the watched jobs saved in this browser (a job gone from the server is dropped). */
async function loadWatched(): Promise<void> {
  for (const id of loadWatchedIds()) {
    try {
      const job = await withKey((key) => getJob(id, key));
      state.watch.add(job);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) continue;
      if (isUnauthorized(error)) return;
      // Unreachable now: keep the id for the next visit, show nothing.
    }
  }
  saveWatchedIds();
  frames.schedule();
}

function loadWatchedIds(): string[] {
  try {
    const ids: unknown = JSON.parse(localStorage.getItem(WATCH_STORAGE) ?? '[]');
    return Array.isArray(ids) ? ids.filter((id): id is string => typeof id === 'string').slice(0, WATCH_LIMIT) : [];
  } catch {
    return [];
  }
}

function saveWatchedIds(): void {
  try {
    localStorage.setItem(WATCH_STORAGE, JSON.stringify(state.watch.ids));
  } catch {
    // Storage is off: the watch list lasts as long as the page.
  }
}

let watchedLoaded = false;

const events = startJobEvents({
  apiKey: () => state.apiKey,
  onJob: upsert,
  onOpen: () => {
    void loadFirstPage();
    counts.call();
    if (!watchedLoaded) {
      watchedLoaded = true;
      void loadWatched();
    }
  },
  onState: (next) => {
    state.connection = next;
    ui.connection.dataset.state = next;
    setText(ui.connectionText, CONNECTION_TEXT[next]);
    updateKeyButton();
    frames.schedule();
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
      state.startedHere.add(job.id);
      if (!matchesScope(job, state.live.scope)) applyScope(undefined);
      if (!matchesFilter(job, state.live.filter)) selectFilter('');
      if (state.older) showLive();
      upsert(job, Date.now());
      toast(`Job ${shortId(job.id)} started: ${formatDuration(ranMs(job))}.`);
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

/** Cancel and watch buttons, and batch and tag chips, of both lists. */
function onRowClick(event: MouseEvent): void {
  const chip = (event.target as Element | null)?.closest<HTMLButtonElement>('button.chip');
  if (chip) {
    const { scopeKind, scopeValue } = chip.dataset;
    if (scopeValue !== undefined) applyScope(scopeKind === 'batch' ? { kind: 'batch', id: scopeValue } : { kind: 'tag', tag: scopeValue });
    return;
  }
  const button = (event.target as Element | null)?.closest<HTMLButtonElement>('button.cancel, button.watch');
  const id = button?.closest<HTMLLIElement>('li.job')?.dataset.id;
  if (!button || id === undefined || button.getAttribute('aria-disabled') === 'true') return;
  if (button.classList.contains('watch')) return toggleWatch(id);
  button.setAttribute('aria-disabled', 'true');
  void withKey((key) => cancelJob(id, key))
    .then((job) => upsert(job, Date.now()))
    .catch((error: unknown) => {
      if (error instanceof ApiError && error.code === 'JOBWAIT_ERR_JOB_FINISHED') toast(`Job ${shortId(id)} had already finished.`);
      else if (!isUnauthorized(error)) toast(`Could not cancel job ${shortId(id)}: ${errorMessage(error)}`, 'error');
    })
    .finally(() => button.removeAttribute('aria-disabled'));
}

function toggleWatch(id: string): void {
  if (state.watch.remove(id)) {
    saveWatchedIds();
    frames.schedule();
    return;
  }
  const job = listView.jobOf(id) ?? watchView.jobOf(id);
  if (job) watchJob(job);
}

/** Pins `job`; says so when the watch list is full. */
function watchJob(job: Job): boolean {
  if (!state.watch.add(job)) {
    toast(`You are watching ${state.watch.limit} jobs already: unpin one first.`, 'error');
    return false;
  }
  saveWatchedIds();
  frames.schedule();
  return true;
}

ui.list.addEventListener('click', onRowClick);
ui.watchList.addEventListener('click', onRowClick);

ui.searchForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const id = ui.searchInput.value.trim();
  showSearchError('');
  if (!/^job_[0-9A-HJKMNP-TV-Z]{26}$/i.test(id)) {
    showSearchError('A job id is job_ followed by 26 letters and digits.');
    return;
  }
  void withKey((key) => getJob(id.slice(0, 4) + id.slice(4).toUpperCase(), key))
    .then((job) => {
      if (!watchJob(job)) return;
      ui.searchInput.value = '';
      toast(`Job ${shortId(job.id)} is on your watch list.`);
    })
    .catch((error: unknown) => {
      if (error instanceof ApiError && error.status === 404) showSearchError(`No job ${id} here.`);
      else if (!isUnauthorized(error)) showSearchError(errorMessage(error));
    });
});

function showSearchError(message: string): void {
  ui.searchError.textContent = message;
  ui.searchInput.setAttribute('aria-invalid', String(message !== ''));
}

function selectFilter(filter: StatusFilter): void {
  for (const input of ui.filters) input.checked = input.value === filter;
  applyFilter(filter);
}

function applyFilter(filter: StatusFilter): void {
  filterTicket++;
  state.live.setFilter(filter);
  state.older = undefined;
  state.heldUpdates.clear();
  frames.schedule();
  void loadFirstPage();
}

/** Narrows the page to a batch or tag, or back to all jobs: its counts, its list, its pages. */
function applyScope(scope: JobScope | undefined): void {
  if (scopeKey(scope) === scopeKey(state.live.scope)) return;
  filterTicket++;
  state.live.setScope(scope);
  state.older = undefined;
  state.heldUpdates.clear();
  state.counts = undefined;
  showGroupError('');
  ui.groupInput.value = '';
  frames.schedule();
  void loadFirstPage();
  counts.call();
}

ui.groupForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const parsed = parseScope(ui.groupInput.value);
  if ('error' in parsed) {
    showGroupError(parsed.error);
    ui.groupInput.focus();
    return;
  }
  applyScope(parsed.scope);
});

ui.scopeClear.addEventListener('click', () => {
  applyScope(undefined);
  ui.jobsHeading.focus();
});

function showGroupError(message: string): void {
  ui.groupError.textContent = message;
  ui.groupInput.setAttribute('aria-invalid', String(message !== ''));
}

for (const input of ui.filters) {
  input.addEventListener('change', () => {
    if (input.checked) applyFilter(input.value as StatusFilter);
  });
}

ui.olderButton.addEventListener('click', () => {
  const oldest = (state.older?.jobs ?? listView.jobs).at(-1);
  if (oldest) void loadOlder(oldest.id, 'push');
});
ui.newerButton.addEventListener('click', () => {
  const older = state.older;
  if (!older) return;
  const previous = older.previousCursor;
  if (older.pop() && previous !== undefined) void loadOlder(previous, 'replace');
  else showLive();
});
ui.newestButton.addEventListener('click', showLive);

// Rows hold still under the pointer or the keyboard, so a click lands where it was aimed.
function setHolding(holding: boolean): void {
  if (state.holding === holding) return;
  state.holding = holding;
  state.heldUpdates.clear();
  if (!holding) renderedLive = -1;
  frames.schedule();
}
ui.list.addEventListener('pointerenter', () => setHolding(true));
ui.list.addEventListener('pointerleave', () => setHolding(ui.list.contains(document.activeElement)));
ui.list.addEventListener('focusin', () => setHolding(true));
ui.list.addEventListener('focusout', (event) => setHolding(ui.list.contains(event.relatedTarget as Node | null) || ui.list.matches(':hover')));

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
