/** `jobwait` command dispatch, apart from the process so tests can run it in-process. */
import { type Command, describeFailure } from './command.js';
import { cancelCommand } from './commands/cancel.js';
import { demoCommand } from './commands/demo.js';
import { keysCommand } from './commands/keys.js';
import { listCommand } from './commands/list.js';
import { serveCommand } from './commands/serve.js';
import { startCommand } from './commands/start.js';
import { statusCommand } from './commands/status.js';
import { waitCommand } from './commands/wait.js';
import { EXIT } from './exit-codes.js';
import { line, type Terminal } from './output/terminal.js';

/** Every subcommand, in help order. */
export const COMMANDS: readonly Command[] = [serveCommand, startCommand, statusCommand, waitCommand, listCommand, cancelCommand, keysCommand, demoCommand];

/** `jobwait --help`. */
export const HELP = `Usage: jobwait <command> [options]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(8)} ${c.summary}`).join('\n')}

Run 'jobwait <command> --help' for a command's options.
Exit codes: 0 completed/ok, 1 job failed or canceled, 2 usage, 3 timeout, 4 request failed, 130 interrupted.`;

/** Runs one command line; resolves with the exit code. */
export async function runCli(argv: string[], terminal: Terminal, env: NodeJS.ProcessEnv, signal: AbortSignal): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    // A missing command is a usage error: the help goes to stderr, like every other usage error.
    terminal.err.write(`${HELP}\n`);
    return EXIT.usage;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    line(terminal, HELP);
    return EXIT.ok;
  }
  if (name === '--version') {
    line(terminal, '0.1.0');
    return EXIT.ok;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    terminal.err.write(`jobwait: unknown command ${JSON.stringify(name)}\n\n${HELP}\n`);
    return EXIT.usage;
  }
  try {
    return await command.run({ argv: rest, terminal, env, signal });
  } catch (error) {
    const { code, message } = describeFailure(error);
    terminal.err.write(`jobwait ${command.name}: ${message}\n`);
    if (code === EXIT.usage) terminal.err.write(`\n${command.usage}\n`);
    return code;
  }
}
