/** `jobwait ls`: this key's jobs, newest first. */
import type { JobStatus } from '@jobwait/client';
import { type Command, GLOBAL_HELP, ONE_SHOT, clientFor, parseCommandArgs } from '../command.js';
import { EXIT, UsageError } from '../exit-codes.js';
import { jobTable } from '../output/job-format.js';
import { json, line } from '../output/terminal.js';

const USAGE = `Usage: jobwait ls [--status pending|completed|error|canceled] [--limit <n>] [--cursor <c>]

Lists jobs, newest first.

${GLOBAL_HELP}`;

const STATUSES = ['pending', 'completed', 'error', 'canceled'];

/** The `ls` command. */
export const listCommand: Command = {
  name: 'ls',
  summary: 'list jobs',
  usage: USAGE,
  async run({ argv, terminal, env, signal }) {
    const { values, positionals } = parseCommandArgs(argv, { status: { type: 'string' }, limit: { type: 'string' }, cursor: { type: 'string' } });
    if (values.help) return line(terminal, USAGE), EXIT.ok;
    if (positionals.length > 0) throw new UsageError('ls takes no arguments');
    if (values.status !== undefined && !STATUSES.includes(values.status)) throw new UsageError(`--status must be one of ${STATUSES.join(', ')}`);
    const limit = values.limit === undefined ? undefined : Number(values.limit);
    if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1 && limit <= 100)) throw new UsageError('--limit must be a whole number from 1 to 100');
    const page = await clientFor(values, env, ONE_SHOT).listJobs({ status: values.status as JobStatus | undefined, limit, cursor: values.cursor, signal });
    if (values.json) json(terminal, page);
    else {
      line(terminal, jobTable(page.jobs));
      if (page.nextCursor) line(terminal, `more: jobwait ls --cursor ${page.nextCursor}`);
    }
    return EXIT.ok;
  },
};
