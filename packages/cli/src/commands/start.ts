/** `jobwait start <seconds>`: starts a job, and with `--wait` follows it to the end. */
import { type Command, GLOBAL_HELP, ONE_SHOT, clientFor, parseCommandArgs, seconds } from '../command.js';
import { EXIT, UsageError } from '../exit-codes.js';
import { json, line } from '../output/terminal.js';
import { follow } from './wait-for.js';
import { parseStrategy } from './wait.js';

const USAGE = `Usage: jobwait start <seconds> [--wait] [--timeout <s>] [--outcome completed|error] [--metadata <json>] [--tag <tag>]...

Starts a simulated job that runs <seconds>. Prints its id (or the job with --json).
  --wait                 follow the job until it ends (exit 0 completed, 1 failed, 3 timeout)
  --timeout <s>          give up waiting after <s> seconds
  --strategy <s>         auto | long-poll | sse | poll (default auto)
  --outcome <o>          force the outcome: completed or error
  --metadata <json>      JSON object kept with the job
  --tag <tag>            label the job (repeat for more; wait on them all with jobwait wait --tag)

${GLOBAL_HELP}`;

/** The `start` command. */
export const startCommand: Command = {
  name: 'start',
  summary: 'start a job (and wait for it with --wait)',
  usage: USAGE,
  async run({ argv, terminal, env, signal }) {
    const { values, positionals } = parseCommandArgs(argv, {
      wait: { type: 'boolean' },
      timeout: { type: 'string' },
      strategy: { type: 'string' },
      outcome: { type: 'string' },
      metadata: { type: 'string' },
      tag: { type: 'string', multiple: true },
    });
    if (values.help) return line(terminal, USAGE), EXIT.ok;
    if (positionals.length !== 1) throw new UsageError('start takes exactly one argument: the duration in seconds');
    const duration = seconds('duration', positionals[0])!;
    const outcome = values.outcome;
    if (outcome !== undefined && outcome !== 'completed' && outcome !== 'error') throw new UsageError('--outcome must be completed or error');
    let metadata: Record<string, unknown> | undefined;
    if (values.metadata !== undefined) {
      try {
        metadata = JSON.parse(values.metadata) as Record<string, unknown>;
      } catch {
        throw new UsageError('--metadata must be a JSON object');
      }
      if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) throw new UsageError('--metadata must be a JSON object');
    }
    const timeoutMs = seconds('--timeout', values.timeout);
    const strategy = parseStrategy(values.strategy);
    const job = await clientFor(values, env, ONE_SHOT).createJob({ duration, ...(outcome ? { outcome } : {}), ...(metadata ? { metadata } : {}), ...(values.tag ? { tags: values.tag } : {}) }, { signal });
    if (!values.wait) {
      if (values.json) json(terminal, job);
      else line(terminal, job.id);
      return EXIT.ok;
    }
    if (!values.json) terminal.err.write(`started ${job.id} (${duration}s)\n`);
    return follow(clientFor(values, env), job.id, terminal, { asJson: values.json ?? false, timeoutMs: timeoutMs && timeoutMs * 1000, strategy, signal, initial: job });
  },
};
