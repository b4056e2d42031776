import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SseParser, readServerSentEvents, type ServerSentEvent } from './parser.js';

function parseAll(chunks: readonly string[], parser = new SseParser()): ServerSentEvent[] {
  return chunks.flatMap((chunk) => parser.push(chunk));
}

function message(data: string, id?: string, extra: Partial<ServerSentEvent> = {}): ServerSentEvent {
  return { event: 'message', data, id, retry: undefined, ...extra };
}

function streamOf(chunks: readonly Uint8Array[], onCancel?: () => void): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const chunk = chunks[i++];
      if (chunk === undefined) controller.close();
      else controller.enqueue(chunk);
    },
    cancel() {
      onCancel?.();
    },
  });
}

async function collect(body: ReadableStream<Uint8Array>, parser?: SseParser): Promise<ServerSentEvent[]> {
  const events: ServerSentEvent[] = [];
  for await (const event of readServerSentEvents(body, parser)) events.push(event);
  return events;
}

/** A stream using every line ending, comments, ids, retry, named events, multi-line and non-ASCII data. */
const MIXED = [
  ': hello, this is a comment\n',
  'retry: 2500\r\n',
  'id: 1\r',
  'event: job\r\n',
  'data: {"status":"pending","note":"héllo wörld 🚀"}\n',
  '\n',
  'data: line one\r\n',
  'data: line two\r',
  'data:line three\n',
  '\r\n',
  'id: 2\n',
  'event: job\n',
  'data: {"status":"completed"}\r',
  '\r',
  'data: trailing, never finished',
].join('');

const MIXED_EVENTS: ServerSentEvent[] = [
  { event: 'job', data: '{"status":"pending","note":"héllo wörld 🚀"}', id: '1', retry: 2500 },
  message('line one\nline two\nline three', '1'),
  { event: 'job', data: '{"status":"completed"}', id: '2', retry: undefined },
];

describe('SseParser', () => {
  test('dispatches an event at a blank line', () => {
    assert.deepEqual(parseAll(['data: hello\n\n']), [message('hello')]);
  });

  for (const [name, eol] of [
    ['LF', '\n'],
    ['CRLF', '\r\n'],
    ['CR', '\r'],
  ] as const) {
    test(`ends lines at ${name}`, () => {
      const text = `event: job${eol}id: 7${eol}data: a${eol}data: b${eol}${eol}data: c${eol}${eol}`;
      assert.deepEqual(parseAll([text]), [
        { event: 'job', data: 'a\nb', id: '7', retry: undefined },
        message('c', '7'),
      ]);
    });
  }

  test('treats a CRLF split across two chunks as one line ending', () => {
    assert.deepEqual(parseAll(['data: a\r', '\ndata: b\r', '\n\r', '\n']), [message('a\nb')]);
  });

  test('treats a CRLF split by an empty chunk as one line ending', () => {
    assert.deepEqual(parseAll(['data: a\r', '', '\n', 'data: b\n', '\n']), [message('a\nb')]);
  });

  test('treats CR CR as two line endings, dispatching the event', () => {
    assert.deepEqual(parseAll(['data: a\r', '\r']), [message('a')]);
  });

  test('joins multi-line data with \\n and keeps empty data lines', () => {
    assert.deepEqual(parseAll(['data: first\ndata\ndata:\ndata: last\n\n']), [message('first\n\n\nlast')]);
  });

  test('strips exactly one space after the colon', () => {
    assert.deepEqual(parseAll(['data:no-space\n\ndata:  two spaces\n\ndata: \n\n']), [
      message('no-space'),
      message(' two spaces'),
      message(''),
    ]);
  });

  test('ignores comment lines, even between data lines', () => {
    assert.deepEqual(parseAll([':heartbeat\n\n: another\ndata: a\n:mid-event comment\ndata: b\n\n']), [message('a\nb')]);
  });

  test('dispatches nothing for blank lines, comments or fields without data', () => {
    assert.deepEqual(parseAll(['\n\n\n: keep-alive\n\nevent: job\n\nid: 3\n\n']), []);
  });

  test('ignores unknown fields and lines without a known field name', () => {
    assert.deepEqual(parseAll(['foo: bar\nDATA: shout\ndata : spaced\ndata: kept\n\n']), [message('kept')]);
  });

  test('defaults the event type to "message" and resets it after each dispatch', () => {
    assert.deepEqual(parseAll(['event: job\ndata: 1\n\ndata: 2\n\n']), [
      { event: 'job', data: '1', id: undefined, retry: undefined },
      message('2'),
    ]);
  });

  test('does not carry the event type of a data-less block into the next event', () => {
    assert.deepEqual(parseAll(['event: job\n\ndata: x\n\n']), [message('x')]);
  });

  test('keeps the last id across later events that carry none', () => {
    const parser = new SseParser();
    assert.deepEqual(parseAll(['id: 41\ndata: a\n\ndata: b\n\nid: 42\ndata: c\n\ndata: d\n\n'], parser), [
      message('a', '41'),
      message('b', '41'),
      message('c', '42'),
      message('d', '42'),
    ]);
    assert.equal(parser.lastEventId, '42');
  });

  test('resets the id with an empty id field', () => {
    assert.deepEqual(parseAll(['id: 5\ndata: a\n\nid\ndata: b\n\n']), [message('a', '5'), message('b', '')]);
  });

  test('ignores an id that contains NULL', () => {
    assert.deepEqual(parseAll(['id: 5\ndata: a\n\nid: 6\0x\ndata: b\n\n']), [message('a', '5'), message('b', '5')]);
  });

  test('takes an id from a data-less block, as the spec dispatch step does', () => {
    const parser = new SseParser();
    assert.deepEqual(parseAll(['id: 9\n\n'], parser), []);
    assert.equal(parser.lastEventId, '9');
    assert.deepEqual(parseAll(['data: x\n\n'], parser), [message('x', '9')]);
  });

  test('does not resume from the id of an event cut off before its blank line', () => {
    const parser = new SseParser();
    parseAll(['id: 1\ndata: first\n\n', 'id: 2\ndata: sec'], parser);
    assert.equal(parser.lastEventId, '1');
  });

  test('starts from a lastEventId set from outside (resuming a stream)', () => {
    const parser = new SseParser();
    parser.lastEventId = '17';
    assert.deepEqual(parseAll(['data: a\n\n'], parser), [message('a', '17')]);
  });

  test('reports retry on the event that carries it, and only on that one', () => {
    assert.deepEqual(parseAll(['retry: 3000\ndata: a\n\ndata: b\n\n']), [message('a', undefined, { retry: 3000 }), message('b')]);
  });

  test('reports a retry-only block as a data-less event so the reader can apply it', () => {
    assert.deepEqual(parseAll(['retry: 10\n\n']), [{ event: '', data: '', id: undefined, retry: 10 }]);
  });

  test('ignores retry values that are not all ASCII digits', () => {
    assert.deepEqual(parseAll(['retry: 1.5\nretry: -1\nretry: 10s\nretry:\nretry: ١٢\ndata: a\n\n']), [message('a')]);
  });

  test('never dispatches an event whose blank line has not arrived', () => {
    const parser = new SseParser();
    assert.deepEqual(parseAll(['data: a\n', 'data: b'], parser), []);
    assert.deepEqual(parser.push('\n'), []);
    assert.deepEqual(parser.push('\n'), [message('a\nb')]);
  });

  test('parses a stream with every line ending, comments, ids and retry', () => {
    assert.deepEqual(parseAll([MIXED]), MIXED_EVENTS);
  });

  test('gives the same events whatever the chunk boundaries (character by character)', () => {
    assert.deepEqual(parseAll([...MIXED]), MIXED_EVENTS);
    assert.deepEqual(parseAll(MIXED.split('')), MIXED_EVENTS);
  });

  test('gives the same events for every split of the stream into two and three chunks', () => {
    for (let i = 0; i <= MIXED.length; i++) {
      assert.deepEqual(parseAll([MIXED.slice(0, i), MIXED.slice(i)]), MIXED_EVENTS, `split at ${i}`);
    }
    for (let i = 0; i <= MIXED.length; i += 3) {
      for (let j = i; j <= MIXED.length; j += 5) {
        assert.deepEqual(parseAll([MIXED.slice(0, i), MIXED.slice(i, j), MIXED.slice(j)]), MIXED_EVENTS, `split at ${i}, ${j}`);
      }
    }
  });
});

describe('readServerSentEvents', () => {
  const encoder = new TextEncoder();

  test('reads events from a ReadableStream of bytes', async () => {
    assert.deepEqual(await collect(streamOf([encoder.encode(MIXED)])), MIXED_EVENTS);
  });

  test('gives the same events when the stream arrives byte by byte, splitting multi-byte characters', async () => {
    const bytes = encoder.encode(MIXED);
    const oneByOne = Array.from(bytes, (byte) => Uint8Array.of(byte));
    assert.deepEqual(await collect(streamOf(oneByOne)), MIXED_EVENTS);
  });

  test('copes with empty chunks anywhere, including between CR and LF', async () => {
    const bytes = encoder.encode(MIXED);
    const chunks = Array.from(bytes, (byte) => [Uint8Array.of(byte), new Uint8Array(0)]).flat();
    assert.deepEqual(await collect(streamOf(chunks)), MIXED_EVENTS);
  });

  test('strips a leading byte order mark', async () => {
    const bytes = Uint8Array.of(0xef, 0xbb, 0xbf, ...encoder.encode('data: x\n\n'));
    assert.deepEqual(await collect(streamOf([bytes])), [message('x')]);
  });

  test('uses the parser it is given, so an id carries over to a reconnection', async () => {
    const parser = new SseParser();
    await collect(streamOf([encoder.encode('id: 3\ndata: a\n\n')]), parser);
    assert.equal(parser.lastEventId, '3');
    assert.deepEqual(await collect(streamOf([encoder.encode('data: b\n\n')]), parser), [message('b', '3')]);
  });

  test('cancels the stream when the reader stops early', async () => {
    let canceled = false;
    const body = streamOf([encoder.encode('data: 1\n\n'), encoder.encode('data: 2\n\n')], () => {
      canceled = true;
    });
    for await (const event of readServerSentEvents(body)) {
      assert.equal(event.data, '1');
      break;
    }
    assert.equal(canceled, true);
    assert.equal(body.locked, false);
  });
});
