#!/usr/bin/env node
/** `jobwait-server`: runs the server from flags, environment and config file (see --help). */
import { ConfigError } from './config/config-error.js';
import { effectiveConfig, parseServerConfig, SERVER_HELP } from './config/server-config.js';
import { startServer } from './start-server.js';

try {
  const config = parseServerConfig(process.argv.slice(2));
  if (config === 'help') {
    process.stdout.write(SERVER_HELP);
  } else if (config.printConfig) {
    process.stdout.write(`${JSON.stringify(effectiveConfig(config), null, 2)}\n`);
  } else {
    await startServer(config);
  }
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`jobwait-server: ${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`jobwait-server: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
