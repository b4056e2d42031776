/** `jobwait serve`: runs the server in the foreground (same options as `jobwait-server`). */
import type { Command } from '../command.js';
import { EXIT, UsageError } from '../exit-codes.js';
import { line } from '../output/terminal.js';

/** The `serve` command. */
export const serveCommand: Command = {
  name: 'serve',
  summary: 'run the server',
  usage: 'Usage: jobwait serve [options]   (the options of jobwait-server; `jobwait serve --help` lists them)',
  async run({ argv, terminal, env }) {
    // Loaded here, not at the top: every other command starts faster without Fastify and SQLite.
    const { effectiveConfig, parseServerConfig, SERVER_HELP, startServer } = await import('@jobwait/server');
    let config;
    try {
      config = parseServerConfig(argv, env);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    if (config === 'help') return line(terminal, SERVER_HELP.replace('jobwait-server', 'jobwait serve')), EXIT.ok;
    if (config.printConfig) return line(terminal, JSON.stringify(effectiveConfig(config), null, 2)), EXIT.ok;
    const server = await startServer(config);
    terminal.err.write(`jobwait serving on ${server.url}\n`);
    // Runs until SIGINT/SIGTERM, which startServer handles by draining and exiting.
    return new Promise<number>(() => {});
  },
};
