/** `jobwait` command dispatch, apart from the process so tests can run it in-process. */
import { type Command, describeFailure, GLOBAL_FLAGS, GLOBAL_HELP } from './command.js';
import { cancelCommand } from './commands/cancel.js';
import { completeCommand } from './commands/complete.js';
import { demoCommand } from './commands/demo.js';
import { failCommand } from './commands/fail.js';
import { keysCommand } from './commands/keys.js';
import { listCommand } from './commands/list.js';
import { reportCommand } from './commands/report.js';
import { serveCommand } from './commands/serve.js';
import { startCommand } from './commands/start.js';
import { statusCommand } from './commands/status.js';
import { waitCommand } from './commands/wait.js';
import { EXIT, UsageError } from './exit-codes.js';
import { line, type Terminal } from './output/terminal.js';

/** Every subcommand, in help order. */
export const COMMANDS: readonly Command[] = [
  serveCommand,
  startCommand,
  statusCommand,
  waitCommand,
  listCommand,
  cancelCommand,
  reportCommand,
  completeCommand,
  failCommand,
  keysCommand,
  demoCommand,
];

/** `jobwait --help`. */
export const HELP = `Usage: jobwait <command> [options]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(8)} ${c.summary}`).join('\n')}

${GLOBAL_HELP.replace('Global options:', 'Global options (before or after the command):')}

Run 'jobwait <command> --help' for a command's options.
Exit codes: 0 completed/ok, 1 job failed or canceled, 2 usage, 3 timeout, 4 request failed, 130 interrupted.`;

/**
 * The command name and its arguments, with global options written before the command
 * (`jobwait --url … start 4`) moved behind it, where the command parses them like its own.
 */
export function commandLine(argv: readonly string[]): { name: string | undefined; args: string[] } {
  const globals: string[] = [];
  let i = 0;
  for (; i < argv.length && argv[i]!.startsWith('-') && argv[i] !== '--version'; i++) {
    const arg = argv[i]!;
    const equals = arg.indexOf('=');
    const flag = arg.startsWith('--') && equals > 0 ? arg.slice(0, equals) : arg;
    const spec = Object.entries(GLOBAL_FLAGS).find(([name, s]) => flag === `--${name}` || ('short' in s && flag === `-${s.short}`))?.[1];
    if (!spec) throw new UsageError(`unknown global option ${JSON.stringify(arg)} (global options: ${Object.keys(GLOBAL_FLAGS).map((n) => `--${n}`).join(', ')})`);
    globals.push(arg);
    if (spec.type === 'string' && flag === arg) {
      const value = argv[i + 1];
      if (value === undefined) throw new UsageError(`option ${flag} needs a value`);
      globals.push(value);
      i++;
    }
  }
  return { name: argv[i], args: [...globals, ...argv.slice(i + 1)] };
}

/** Runs one command line; resolves with the exit code. */
export async function runCli(argv: string[], terminal: Terminal, env: NodeJS.ProcessEnv, signal: AbortSignal): Promise<number> {
  let parsed: ReturnType<typeof commandLine>;
  try {
    parsed = commandLine(argv);
  } catch (error) {
    terminal.err.write(`jobwait: ${(error as Error).message}\n\n${HELP}\n`);
    return EXIT.usage;
  }
  const { name, args: rest } = parsed;
  if (name === undefined) {
    if (rest.includes('--help') || rest.includes('-h')) {
      line(terminal, HELP);
      return EXIT.ok;
    }
    // A missing command is a usage error: the help goes to stderr, like every other usage error.
    terminal.err.write(`${HELP}\n`);
    return EXIT.usage;
  }
  if (name === 'help') {
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
