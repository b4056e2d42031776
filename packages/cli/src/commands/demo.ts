/** `jobwait demo`: the seed's manual test — start a timer, wait for it, print what happened. */
import { TimerClient } from '@jobwait/client';
import { type Command, GLOBAL_HELP, parseCommandArgs, seconds } from '../command.js';
import { EXIT, UsageError } from '../exit-codes.js';
import { json, line } from '../output/terminal.js';

const USAGE = `Usage: jobwait demo [<seconds>] [--url <url>]

Starts a timer through the seed API and waits for it with TimerClient.
Without --url (or JOBWAIT_URL) it runs its own in-memory server on a free port.

${GLOBAL_HELP}`;

/** The `demo` command. */
export const demoCommand: Command = {
  name: 'demo',
  summary: "the seed's manual test: start a timer and wait for it",
  usage: USAGE,
  async run({ argv, terminal, env, signal }) {
    const { values, positionals } = parseCommandArgs(argv, {});
    if (values.help) return line(terminal, USAGE), EXIT.ok;
    if (positionals.length > 1) throw new UsageError('demo takes at most one argument: the duration in seconds');
    const duration = seconds('duration', positionals[0]) ?? 3;
    let baseUrl = values.url ?? env.JOBWAIT_URL;
    // Loaded here, not at the top: every other command starts faster without Fastify and SQLite.
    const own = baseUrl ? undefined : await (await import('@jobwait/server')).buildServer({ store: 'memory', logLevel: 'silent' });
    try {
      if (own) baseUrl = await own.listen({ port: 0, host: '127.0.0.1' });
      const timer = new TimerClient({ baseUrl: baseUrl!, apiKey: values['api-key'] ?? env.JOBWAIT_API_KEY });
      const started = Date.now();
      const { message } = await timer.startTimer(duration, { signal });
      if (!values.json) line(terminal, `POST /start-timer -> ${message}${own ? ` (own server at ${baseUrl})` : ''}`);
      let polls = 0;
      const status = await timer.getTimerStatus({ signal, onPoll: () => polls++ });
      const seconds_ = ((Date.now() - started) / 1000).toFixed(2);
      if (values.json) json(terminal, { message, result: status.result, seconds: Number(seconds_), statusRequests: polls });
      else line(terminal, `GET /status -> ${status.result} after ${seconds_}s and ${polls} status request${polls === 1 ? '' : 's'}`);
      return status.result === 'completed' ? EXIT.ok : EXIT.jobFailed;
    } finally {
      await own?.close();
    }
  },
};
