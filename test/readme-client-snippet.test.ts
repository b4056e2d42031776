/**
 * The README's client snippet and `examples/demo.ts` compile against the client's public entry,
 * with the options CI's typecheck uses: a renamed or removed export, or an option that changed
 * shape, fails here rather than in a user's editor.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { typeErrors } from './helpers/typecheck.js';

const README = fileURLToPath(new URL('../README.md', import.meta.url));
const DEMO = fileURLToPath(new URL('../examples/demo.ts', import.meta.url));
/** Where the snippet is compiled from: beside the tests, so `@jobwait/client` resolves as it does for a user of the workspace. */
const SNIPPET = fileURLToPath(new URL('readme-client-snippet.ts', import.meta.url));

/** The first ```ts block of the README's client section. */
function clientSnippet(): string {
  const readme = readFileSync(README, 'utf8');
  const section = readme.indexOf('## Client (`@jobwait/client`)');
  assert.ok(section >= 0, 'the README has a client section');
  const match = /```ts\n([\s\S]*?)```/.exec(readme.slice(section));
  assert.ok(match?.[1], 'the client section has a ```ts snippet');
  return match[1];
}

test("the README's client snippet and examples/demo.ts compile against @jobwait/client", () => {
  const snippet = clientSnippet();
  assert.match(snippet, /from '@jobwait\/client'/, 'the snippet imports the public entry');
  const errors = typeErrors([SNIPPET, DEMO], { [SNIPPET]: snippet });
  assert.deepEqual(errors, [], errors.join('\n'));
});
