#!/usr/bin/env node
// The `jobwait-server` command as npm links it. It is committed, not built: `npm ci` links package
// bins before `prepare` builds dist/, and npm skips a link to a missing file without a word, which
// sent `npx jobwait-server` to the public registry for a package of that name.
import { existsSync } from 'node:fs';

const program = new URL('../dist/bin.js', import.meta.url);
if (!existsSync(program)) {
  process.stderr.write(`jobwait-server: not built yet (${program.pathname} is missing): run \`npm run build\` in the jobwait checkout\n`);
  process.exit(1);
}
await import(program.href);
