/** How test/docs-commands reads a doc: which blocks, which commands, skip markers, transcripts. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { docBlocks, showsOutput } from './doc-commands.js';

test('shell blocks: commands, continuations, comments, skip markers, transcripts and root prompts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'jobwait-doc-blocks-'));
  try {
    const file = join(dir, 'doc.md');
    writeFileSync(
      file,
      [
        '```sh', '# a comment', 'curl -s localhost:8080/status   # {"result":"pending"}', 'npx jobwait start 5 \\', '  --wait', '```',
        '```ts', 'not shell', '```',
        '<!-- docs-commands: skip: needs root -->', '', '```console', '# systemctl restart jobwait', '```',
        '```console', '$ jobwait-server --max-wait -1', 'jobwait-server: invalid --max-wait: ...', '```',
      ].join('\n'),
    );
    const blocks = docBlocks(file, 'doc.md');
    assert.equal(blocks.length, 3, 'the ts block is not shell');
    assert.deepEqual(blocks[0]!.commands, [
      { where: 'doc.md:3', command: 'curl -s localhost:8080/status   # {"result":"pending"}' },
      { where: 'doc.md:4', command: 'npx jobwait start 5 --wait' },
    ]);
    assert.equal(blocks[0]!.skip, undefined);
    assert.equal(blocks[1]!.skip, 'needs root');
    assert.equal(blocks[1]!.rootPrompts, 1);
    assert.deepEqual(blocks[2]!.commands, [{ where: 'doc.md:16', command: 'jobwait-server --max-wait -1', output: ['jobwait-server: invalid --max-wait: ...'] }]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a transcript shows output when its lines come in order; ... is the rest of a line or any lines', () => {
  assert.ok(showsOutput(['a', '...', 'd'], 'a\nb\nc\nd\n'));
  assert.ok(showsOutput(['error: bad ...'], 'log line\nerror: bad value 3\n'));
  assert.ok(!showsOutput(['a', 'd'], 'd\na\n'), 'out of order');
  assert.ok(!showsOutput(['error: bad value 4'], 'error: bad value 3\n'), 'a different line');
  assert.ok(!showsOutput(['{', '  "port": 8080,'], '{\n  "port": 9000,\n'));
});
