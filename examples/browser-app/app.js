// The page: asks its backend to start a job, then watches that job on jobwait (another origin)
// with the read token the backend minted. No API key is ever here. When the token expires the
// client calls getToken, which asks the backend for a fresh one, and the stream resumes after the
// last event it saw.
import { JobwaitClient } from '/jobwait-client.js';

const $ = (id) => document.getElementById(id);
/** What the page saw, for the curious (and for the browser test). */
window.example = { states: [], tokenRefreshes: 0, jobId: undefined, jobwaitUrl: undefined, token: undefined, done: false };

async function post(path, body) {
  const response = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body ?? {}) });
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return response.json();
}

function notify(title, body, failed) {
  const notice = $('notice');
  notice.textContent = `${title}: ${body}`;
  notice.className = failed ? 'error' : '';
  notice.hidden = false;
  if ('Notification' in window && Notification.permission === 'granted') new Notification(title, { body });
}

async function start() {
  $('start').disabled = true;
  if ('Notification' in window && Notification.permission === 'default') void Notification.requestPermission().catch(() => {});
  const seconds = Number(new URLSearchParams(location.search).get('seconds')) || undefined;
  const started = await post('/api/videos', { seconds });
  Object.assign(window.example, { jobId: started.jobId, jobwaitUrl: started.jobwaitUrl, token: started.token });
  const client = new JobwaitClient({
    baseUrl: started.jobwaitUrl,
    token: started.token,
    getToken: async () => {
      window.example.tokenRefreshes++;
      const fresh = await post(`/api/videos/${encodeURIComponent(started.jobId)}/token`);
      window.example.token = fresh.token;
      return fresh.token;
    },
  });
  for await (const job of client.watchJob(started.jobId)) {
    window.example.states.push(`${job.status}@${job.version}`);
    $('progress').value = job.progress;
    $('status').dataset.status = job.status;
    $('status').textContent = job.status === 'pending' ? `Encoding… ${Math.round(job.progress * 100)}%` : `Finished: ${job.status}`;
    if (job.status !== 'pending') {
      $('progress').value = 1;
      notify(job.status === 'completed' ? 'Your video is ready' : 'Encoding failed', `job ${job.id} ${job.status}`, job.status !== 'completed');
    }
  }
  window.example.done = true;
}

$('start').addEventListener('click', () => {
  start().catch((error) => {
    $('status').dataset.status = 'failed';
    notify('Something went wrong', String(error?.message ?? error), true);
  });
});
