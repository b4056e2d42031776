#!/usr/bin/env node
/** The `jobwait` binary. */
import { runCli } from './cli.js';
import { EXIT } from './exit-codes.js';

const controller = new AbortController();
process.once('SIGINT', () => {
  controller.abort();
  // A second Ctrl-C, or a command that does not stop in time, exits at once.
  process.once('SIGINT', () => process.exit(EXIT.interrupted));
});
const code = await runCli(process.argv.slice(2), { out: process.stdout, err: process.stderr }, process.env, controller.signal);
process.exitCode = code;
