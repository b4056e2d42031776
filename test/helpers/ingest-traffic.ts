/**
 * Message streams for the ingest tests and the benchmark: jobs of a translation pipeline, each a
 * `started`, progress with increasing `seq`, then `completed` with a result URL, with poison
 * messages of every kind mixed in where asked.
 */

/** A message to publish and what the test expects of it. */
export interface PlannedMessage {
  body: string | object;
  /** The dead-letter reason it must get, for a poison message. */
  poison?: string;
}

/** Poison kinds, in turn, with the reason each must be dead-lettered with. */
const POISON: readonly [(i: number, tenant: string) => string | object, string][] = [
  [(i) => `{"messageId": "broken-${i}", "event": `, 'malformed_json'],
  [(i, tenant) => ({ messageId: `unknown-${i}`, tenant, jobId: `job_${ulidTime(Date.now())}${'0'.repeat(15)}${i % 10}`, event: 'started', at: new Date().toISOString() }), 'unknown_job'],
  [(i) => ({ messageId: `tenant-${i}`, tenant: 'someone-else', externalId: `x-${i}`, event: 'started', at: new Date().toISOString() }), 'wrong_tenant'],
  [(i, tenant) => ({ messageId: `big-${i}`, tenant, externalId: `big-${i}`, event: 'completed', result: { blob: 'x'.repeat(3000) }, at: new Date().toISOString() }), 'result_too_large'],
  [(i, tenant) => ({ messageId: `bad-${i}`, tenant, externalId: `bad-${i}`, event: 'exploded', at: new Date().toISOString() }), 'invalid_message'],
];

/** `jobs` jobs of `perJob` messages each (started, progress…, completed), in job order, with `poison` poison messages spread evenly. */
export function pipelineTraffic(options: { jobs: number; perJob: number; poison: number; tenant?: string; prefix: string }): PlannedMessage[] {
  const tenant = options.tenant ?? 'public';
  const good: PlannedMessage[] = [];
  for (let j = 0; j < options.jobs; j++) {
    for (let k = 0; k < options.perJob; k++) {
      const externalId = `${options.prefix}-video-${j}`;
      const base = { messageId: `${externalId}-${k}`, tenant, externalId, seq: k, at: new Date().toISOString() };
      if (k === 0) good.push({ body: { ...base, event: 'started', message: 'queued for translation' } });
      else if (k === options.perJob - 1) good.push({ body: { ...base, event: 'completed', result: { url: `https://cdn.example/${externalId}.fr.mp4` } } });
      else good.push({ body: { ...base, event: 'progress', progress: Math.round((k / (options.perJob - 1)) * 1000) / 1000, message: `step ${k}` } });
    }
  }
  const out: PlannedMessage[] = [];
  const every = options.poison === 0 ? Infinity : Math.floor(good.length / options.poison);
  let poisoned = 0;
  for (let i = 0; i < good.length; i++) {
    out.push(good[i]!);
    if (poisoned < options.poison && (i + 1) % every === 0) {
      const [make, reason] = POISON[poisoned % POISON.length]!;
      out.push({ body: make(poisoned, tenant), poison: reason });
      poisoned++;
    }
  }
  return out;
}

function ulidTime(ms: number): string {
  const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  let out = '';
  for (let i = 0, t = ms; i < 10; i++, t = Math.floor(t / 32)) out = alphabet[t % 32]! + out;
  return out;
}
