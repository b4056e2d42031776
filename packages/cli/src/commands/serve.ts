/** `jobwait serve`: runs the server in the foreground (same options as `jobwait-server`). */
import { parseServerConfig, SERVER_HELP, startServer } from '@jobwait/server';
import type { Command } from '../command.js';
import { EXIT, UsageError } from '../exit-codes.js';
import { line } from '../output/terminal.js';

/** The `serve` command. */
export const serveCommand: Command = {
  name: 'serve',
  summary: 'run the server',
  usage: SERVER_HELP.replace('jobwait-server', 'jobwait serve'),
  async run({ argv, terminal, env }) {
    let config;
    try {
      config = parseServerConfig(argv, env);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    if (config === 'help') return line(terminal, this.usage), EXIT.ok;
    const server = await startServer(config);
    terminal.err.write(`jobwait serving on ${server.url}\n`);
    // Runs until SIGINT/SIGTERM, which startServer handles by draining and exiting.
    return new Promise<number>(() => {});
  },
};
