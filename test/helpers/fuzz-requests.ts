/**
 * fast-check arbitraries of hostile requests to a jobwait server, and their
 * rendering into what goes on the wire: node:http when it can carry the
 * request, raw bytes when it would refuse (bad header bytes, broken framing,
 * garbage methods, bare LF, obs-fold, oversized heads).
 *
 * Job ids that exist only at run time are written as placeholders
 * (`@@ID<n>@@`) and filled when the request is sent.
 */
import fc from 'fast-check';

/** How the body is framed on the wire; all but `length`, `none` and `chunked` need raw bytes. */
export type Framing = 'length' | 'none' | 'chunked' | 'chunked-garbage' | 'length-short' | 'length-long' | 'length-invalid' | 'length-and-chunked';

/** A deliberate break of HTTP/1.1 syntax; all but `none` need raw bytes. */
export type Mutation =
  | 'none'
  | 'lf-endings'
  | 'obs-fold'
  | 'no-colon'
  | 'space-before-colon'
  | 'ctl-in-value'
  | 'ctl-in-target'
  | 'http10'
  | 'http2'
  | 'bad-version'
  | 'no-host'
  | 'two-hosts'
  | 'header-flood'
  | 'huge-target'
  | 'expect';

/** Which route a request was generated for (it may still carry another method or a broken path). */
export type RouteKind = 'start-timer' | 'status' | 'create' | 'list' | 'get' | 'cancel' | 'job-events' | 'events' | 'random';

/** A generated request. Strings in `target` and `headers` are byte strings (one char per byte). */
export interface FuzzRequest {
  route: RouteKind;
  /** node:http when it can carry the request, else raw; `raw` forces raw bytes. */
  wire: 'http' | 'raw';
  method: string;
  target: string;
  headers: [string, string][];
  body: Buffer | undefined;
  framing: Framing;
  mutation: Mutation;
}

/** What the generators need to know about the server under test. */
export interface FuzzContext {
  /** A key that authenticates; undefined when the server runs open. */
  apiKey: string | undefined;
  /** Ids of jobs that belong to another key (must stay 404 and untouched). */
  foreignIds: string[];
}

/** A request ready to send. */
export interface RenderedRequest {
  source: FuzzRequest;
  wire: 'http' | 'raw';
  method: string;
  target: string;
  /** For node:http: flat name/value list. */
  headers: string[];
  body: Buffer | undefined;
  chunked: boolean;
  /** For raw: the exact bytes. */
  bytes: Buffer;
  head: boolean;
  /** The request may legitimately get no answer (the server waits for body bytes that never come, or Node drops a CONNECT). */
  mayGoUnanswered: boolean;
  /** Bytes after the request that the server will read as another (broken) request. */
  pipelined: boolean;
  /** Everything the request said, decoded every way, so an echo of it is not mistaken for a leak (built on demand: bodies are large). */
  echo: () => string;
}

const ID_PLACEHOLDER = /@@ID(\d+)@@/g;

/** Placeholder of the n-th known job id. */
export function knownId(n: number): string {
  return `@@ID${n}@@`;
}

/** Fills id placeholders from `ids` (index modulo length). */
export function fillIds(text: string, ids: readonly string[]): string {
  return text.replace(ID_PLACEHOLDER, (_, n: string) => ids[Number(n) % Math.max(1, ids.length)] ?? 'job_00000000000000000000000000');
}

/** UTF-8 bytes of `s` as a byte string. */
export function bytesOf(s: string): string {
  return Buffer.from(s, 'utf8').toString('latin1');
}

/** Percent-encodes the UTF-8 bytes of `s` (lone surrogates become U+FFFD, unlike encodeURIComponent which throws). */
export function pctEncode(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) out += /[A-Za-z0-9\-._~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  return out;
}

const STANDARD_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'HEAD'] as const;
/** Methods Node's parser knows; node:http sends any token, but only these reach the server as methods. */
const NODE_METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'HEAD', 'PROPFIND', 'PURGE', 'SEARCH', 'LINK', 'QUERY']);
/** Headers that change framing or the connection: only on their own raw connection, never on the shared keep-alive one. */
const FRAMING_HEADERS = new Set(['content-length', 'transfer-encoding', 'connection', 'upgrade', 'expect', 'host', 'te', 'trailer', 'keep-alive', 'http2-settings']);
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

// ---------------------------------------------------------------- small pieces

const anyText = fc.oneof(
  { weight: 6, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
);
const unknownJobId = fc.ulid().map((u) => `job_${u}`);

const methodFor = (usual: string) =>
  fc.oneof(
    { weight: 24, arbitrary: fc.constant(usual) },
    { weight: 4, arbitrary: fc.constantFrom(...STANDARD_METHODS) },
    { weight: 1, arbitrary: fc.constantFrom('CONNECT', 'PROPFIND', 'PURGE', 'SEARCH', 'QUERY', 'get', 'Get', 'FOO', 'G\x00T', 'GET /', '', '-', 'POST\t', bytesOf('ПОСТ'), 'X'.repeat(300)) },
    { weight: 1, arbitrary: fc.stringMatching(/^[A-Z]{1,12}$/) },
  );

const idSegment = (ctx: FuzzContext) =>
  fc.oneof(
    { weight: 8, arbitrary: fc.nat(1000).map(knownId) },
    ...(ctx.foreignIds.length > 0 ? [{ weight: 3, arbitrary: fc.constantFrom(...ctx.foreignIds) }] : []),
    { weight: 3, arbitrary: unknownJobId },
    { weight: 1, arbitrary: unknownJobId.map((s) => s.toLowerCase()) },
    { weight: 1, arbitrary: fc.tuple(fc.nat(1000), fc.constantFrom('%20', '/', '/..', '%00', '.json', '%2F', ';', '~', '%0A')).map(([n, tail]) => `${knownId(n)}${tail}`) },
    { weight: 2, arbitrary: anyText.map(pctEncode) },
    { weight: 1, arbitrary: anyText.map(bytesOf) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        '..', '.', '%2e%2e', '..%2f..%2fpackage.json', '%2F', '%00', '%', '%zz', '%c3%28', '%ff%fe', '%E2%82', '%ED%A0%80', 'job_%', '', ' ', '%20',
        'null', 'undefined', '__proto__', 'constructor', 'prototype', '%u0041', '+', '*', ';', '..;', '\\..\\', 'job_', 'JOB_01JDQ3M8Z4X5Y6V7W8T9S0R1Q2',
        'job_01JDQ3M8Z4X5Y6V7W8T9S0R1Q', 'job_01JDQ3M8Z4X5Y6V7W8T9S0R1Q2X', 'job_0IJDQ3M8Z4X5Y6V7W8T9S0R1Q2', 'job_01JDQ3M8Z4X5Y6V7W8T9S0R1Q%32',
      ),
    },
    { weight: 1, arbitrary: fc.integer({ min: 60, max: 400 }).map((n) => 'a'.repeat(n)) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 120 }).map((n) => pctEncode('é'.repeat(n))) },
  );

const queryKey = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('wait', 'limit', 'cursor', 'status') },
  { weight: 2, arbitrary: fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', '', 'x', 'wait[]', 'limit[0]', 'a.b', 'ids', 'Wait', '%77ait', 'wait%00', '__proto__[x]') },
  { weight: 1, arbitrary: anyText.map(pctEncode) },
);
const queryValue = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom(
      '-1', '0', '1', '2', '60', '61', '1e9', '1e400', '1.5', 'abc', '', '%zz', '%20', '+1', '0x10', '01', 'NaN', 'Infinity', '-0', 'true', '[]', '100', '101',
      '1000000000000000000000', 'pending', 'completed', 'error', 'canceled', 'PENDING', 'x', '%00', '%2e', 'wait=1', 'job_', '%E2%82',
    ),
  },
  { weight: 2, arbitrary: fc.nat(1000).map(knownId) },
  { weight: 1, arbitrary: unknownJobId },
  { weight: 1, arbitrary: anyText.map(pctEncode) },
  { weight: 1, arbitrary: anyText.map(bytesOf) },
);
const query = fc.oneof(
  { weight: 4, arbitrary: fc.constant('') },
  {
    weight: 6,
    arbitrary: fc
      .array(fc.tuple(queryKey, queryValue, fc.constantFrom('=', '=', '=', '', '==')), { minLength: 1, maxLength: 4 })
      .map((pairs) => `?${pairs.map(([k, v, eq]) => `${k}${eq}${eq ? v : ''}`).join('&')}`),
  },
  { weight: 1, arbitrary: fc.constantFrom('?', '??', '?&', '?&&=&', '?=', '?wait', '?wait=1&wait=2', '?limit=1&limit=2', '?status=pending&status=error', '?#frag', '#x', '?%', '?a=%zz', '?wait=1;limit=2') },
);

const randomPath = (ctx: FuzzContext) =>
  fc.oneof(
    {
      weight: 4,
      arbitrary: fc.constantFrom(
        '/', '//', '/v1', '/v1/', '/v1/jobs/', '/V1/JOBS', '/v1//jobs', '//v1/jobs', '/v1/jobs/../jobs', '/v1/./jobs', '/v1/jobs%2F', '/v2/jobs', '/v1/job', '/v1/events/',
        '/v1/events/x', '/status/x', '/start-timer/x', '/START-TIMER', '/Status', '/status%00', '/status%20', '/start-timer;', '/status.json', '/healthz', '/readyz', '/metrics',
        '/openapi.json', '/docs', '/docs/', '/docs/json', '/docs/static/index.html', '/docs/static/..%2f..%2fpackage.json', '/docs/static/%2e%2e/%2e%2e/package.json',
        '/docs/..%2f..%2fpackage.json', '/../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/%', '/%zz', '/%c3%28', '/%ff', '/%00', '/.env', '/favicon.ico', '/index.html',
        '/api', '/admin', '/v1/keys', '/v1/jobs/x/y/z', '*', 'status', 'http://evil.invalid/status', 'http://127.0.0.1/v1/jobs', '/' + 'a/'.repeat(300), '/\\status',
      ),
    },
    { weight: 2, arbitrary: fc.tuple(idSegment(ctx), fc.constantFrom('/deliveries', '/events/', '/events/x', '/x', '/cancel', '/..', '')).map(([id, rest]) => `/v1/jobs/${id}${rest}`) },
    { weight: 2, arbitrary: fc.webPath() },
    { weight: 1, arbitrary: anyText.map((s) => `/${pctEncode(s)}`) },
    { weight: 1, arbitrary: anyText.map((s) => `/${bytesOf(s)}`) },
  );

// ---------------------------------------------------------------- headers

const authorization = (ctx: FuzzContext) => {
  const key = ctx.apiKey;
  return fc.oneof(
    ...(key ? [{ weight: 16, arbitrary: fc.constantFrom(`Bearer ${key}`, `Bearer ${key}`, `bearer ${key}`, `Bearer   ${key}  `, `BEARER ${key}`) }] : []),
    { weight: 1, arbitrary: fc.constantFrom('Bearer', 'Bearer ', '', ' ', 'Basic dXNlcjpwYXNz', 'Bearer null', 'Bearer undefined', 'Token abc', 'Bearer jw_', 'Bearer jw__', 'Bearer jw_x_y') },
    { weight: 1, arbitrary: fc.tuple(fc.stringMatching(/^[a-z0-9]{12}$/), fc.stringMatching(/^[A-Za-z0-9_-]{43}$/)).map(([id, secret]) => `Bearer jw_${id}_${secret}`) },
    ...(key
      ? [
          {
            weight: 2,
            arbitrary: fc.constantFrom(
              `Bearer ${key}x`,
              `Bearer ${key.slice(0, -1)}`,
              key,
              `Bearer ${key},Bearer ${key}`,
              `Bearer ${key} ${key}`,
              `Bearer ${key.toUpperCase()}`,
              `Bearer ${key.slice(0, 16)}${'A'.repeat(key.length - 16)}`,
              `Bearer ${key}\t`,
              `Bearer "${key}"`,
            ),
          },
        ]
      : []),
    { weight: 1, arbitrary: anyText.map((s) => `Bearer ${bytesOf(s)}`) },
    { weight: 1, arbitrary: fc.constantFrom(`Bearer ${'A'.repeat(9000)}`, `Bearer jw_${'a'.repeat(12)}_${'A'.repeat(43)}\x00`) },
  );
};

const contentType = fc.oneof(
  { weight: 10, arbitrary: fc.constant('application/json') },
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      'application/json; charset=utf-8', 'application/JSON', 'Application/Json ; charset="UTF-8"', 'application/json;charset=latin1', 'application/json; charset=utf-16',
      'application/problem+json', 'application/vnd.api+json', 'text/json', 'text/plain', 'text/plain; charset=utf-8', 'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x', 'application/octet-stream', '*/*', '', ';', ';;;', 'application/', '/json', 'application/json, text/plain',
      'application/json; boundary', 'application/json\xff', 'text/event-stream', 'application/xml', 'application/json; charset=ütf-8', 'application/json;;;;',
    ),
  },
  { weight: 1, arbitrary: anyText.map(bytesOf) },
);

const idempotencyKey = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('k1', 'k2', 'k3', 'key-with.dots_and~tilde') },
  { weight: 3, arbitrary: fc.uuid() },
  {
    weight: 3,
    arbitrary: fc.constantFrom('', ' ', '   ', 'a b', 'x'.repeat(255), 'x'.repeat(256), 'x'.repeat(10_000), bytesOf('ключ'), bytesOf('clé'), '\xff', bytesOf('🔑'), 'k\x001', 'k\tk', '"k1"'),
  },
  { weight: 1, arbitrary: anyText.map(bytesOf) },
);

const prefer = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      'wait=1', 'wait=0', 'wait=-1', 'wait=99999999999', 'wait=999999999', 'wait=1e9', 'wait=abc', 'wait=', 'wait="1"', 'wait=1;x', 'respond-async, wait=1', 'wait=1, wait=2',
      'handling=strict', 'return=minimal', 'wait=1.5', 'WAIT=1', 'wait = 1', 'wait=0001', 'wait', ',,,', 'wait=1,',
    ),
  },
  { weight: 1, arbitrary: anyText.map(bytesOf) },
);

const ifNoneMatch = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom('*', '""', 'W/""', '"x"', 'W/"job_x.1"', ',', 'W/"job_01JDQ3M8Z4X5Y6V7W8T9S0R1Q2.1"', `W/"${'a'.repeat(5000)}.1"`) },
  { weight: 3, arbitrary: fc.tuple(fc.nat(1000), fc.integer({ min: -1, max: 4 }), fc.boolean()).map(([n, v, weak]) => `${weak ? 'W/' : ''}"${knownId(n)}.${v}"`) },
  { weight: 1, arbitrary: fc.tuple(fc.nat(1000), fc.constantFrom('1e3', '99999999999999999999', '', 'x', '1.5')).map(([n, v]) => `W/"${knownId(n)}.${v}"`) },
  { weight: 1, arbitrary: anyText.map(bytesOf) },
);

const lastEventId = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom('0', '1', '2', '3', '-1', '99999999999999999999', '999999999999999', '1e3', 'abc', '', ' 1 ', '0x1', String(Number.MAX_SAFE_INTEGER), '1.5', '١'),
  },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 2_000_000_000_000 }).map(String) },
  { weight: 1, arbitrary: anyText.map(bytesOf) },
);

const headerName = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'x-foo', 'accept-encoding', 'cookie', 'origin', 'referer', 'user-agent', 'content-encoding', 'forwarded', 'x-forwarded-for', 'x-forwarded-proto', 'range', 'if-match',
      'if-modified-since', 'cache-control', 'x-http-method-override', 'accept-language', 'authorization', 'prefer', 'idempotency-key', 'last-event-id', 'content-type',
      'x-request-id', '__proto__', 'constructor',
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom('transfer-encoding', 'content-length', 'host', 'expect', 'connection', 'upgrade', 'te', 'trailer', 'keep-alive', 'http2-settings') },
  { weight: 1, arbitrary: fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/) },
  { weight: 1, arbitrary: anyText.map(bytesOf) },
);
const headerValue = fc.oneof(
  { weight: 3, arbitrary: anyText.map(bytesOf) },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', '\t', 'x'.repeat(8000), '\xff\xfe', 'chunked', '0', '-1', 'close', 'keep-alive', 'Upgrade', 'websocket', 'h2c', '100-continue', 'gzip', 'POST', 'DELETE') },
);

const extraHeaders = fc.array(fc.tuple(headerName, headerValue), { maxLength: 2 });

type Headers = [string, string][];

/** `arb` one time in `oneIn`, else absent. */
const sometimes = <T>(arb: fc.Arbitrary<T>, oneIn: number): fc.Arbitrary<T | undefined> =>
  oneIn <= 1 ? arb : fc.oneof({ weight: oneIn - 1, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });

const headersFor = (ctx: FuzzContext, route: RouteKind): fc.Arbitrary<Headers> => {
  const jsonish = route === 'create' || route === 'start-timer';
  return fc
    .record({
      // With keys, nearly every request carries one (mostly valid) so the routes behind the 401 get fuzzed too.
      authorization: ctx.apiKey ? fc.oneof({ weight: 1, arbitrary: fc.constant(undefined) }, { weight: 12, arbitrary: authorization(ctx) }) : sometimes(authorization(ctx), 5),
      contentType: jsonish ? fc.oneof({ weight: 1, arbitrary: fc.constant(undefined) }, { weight: 12, arbitrary: contentType }) : sometimes(contentType, 4),
      idempotencyKey: sometimes(idempotencyKey, route === 'create' ? 2 : 12),
      prefer: sometimes(prefer, route === 'get' || route === 'status' ? 2 : 12),
      ifNoneMatch: sometimes(ifNoneMatch, route === 'get' ? 3 : 12),
      lastEventId: sometimes(lastEventId, route === 'job-events' || route === 'events' ? 2 : 12),
      accept: sometimes(fc.constantFrom('*/*', 'application/json', 'text/event-stream', 'text/html', 'application/problem+json', '', 'garbage', '*/*;q=abc'), 4),
      requestId: sometimes(fc.oneof(anyText.map(bytesOf), fc.constantFrom('x'.repeat(1000), '', ' ', '../../etc')), 12),
      extra: fc.oneof({ weight: 3, arbitrary: fc.constant<Headers>([]) }, { weight: 1, arbitrary: extraHeaders }),
    })
    .map((h) => {
      const out: Headers = [];
      if (h.authorization !== undefined) out.push(['Authorization', h.authorization]);
      if (h.contentType !== undefined) out.push(['Content-Type', h.contentType]);
      if (h.idempotencyKey !== undefined) out.push(['Idempotency-Key', h.idempotencyKey]);
      if (h.prefer !== undefined) out.push(['Prefer', h.prefer]);
      if (h.ifNoneMatch !== undefined) out.push(['If-None-Match', h.ifNoneMatch]);
      if (h.lastEventId !== undefined) out.push(['Last-Event-ID', h.lastEventId]);
      if (h.accept !== undefined) out.push(['Accept', h.accept]);
      if (h.requestId !== undefined) out.push(['X-Request-Id', h.requestId]);
      out.push(...h.extra);
      return out;
    });
};

// ---------------------------------------------------------------- bodies

const durationValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.double({ min: 0.001, max: 0.5, noNaN: true }) },
  { weight: 3, arbitrary: fc.integer({ min: 60, max: 86_400 }) },
  { weight: 2, arbitrary: fc.constantFrom(86_400, 86_400.0001, 86_401, 0, -1, -0, 5e-324, 1e9, Number.MAX_VALUE, 1e-7, 0.0001, Number.MAX_SAFE_INTEGER) },
  { weight: 2, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 2, arbitrary: fc.constantFrom<unknown>('10', '', 'abc', true, false, null, [], [1], {}, { value: 1 }, '1e3', ' 5') },
);

const invalidHost = fc.stringMatching(/^[a-z]{1,10}$/).map((s) => `${s}.invalid`);

const jobObject = fc.record(
  {
    duration: durationValue,
    outcome: fc.constantFrom<unknown>('completed', 'error', 'canceled', 'pending', '', 'COMPLETED', null, 1, ['error']),
    // Only hosts that can never resolve, and loopback/link-local the server must refuse: a fuzzer never calls out.
    callbackUrl: fc.oneof(
      fc.constantFrom<unknown>('http://127.0.0.1:9/hook', 'http://169.254.169.254/latest', 'http://[::1]/', 'ftp://x.invalid', 'javascript:alert(1)', '', 'https://', 'x'.repeat(3000), 12, null),
      fc.tuple(invalidHost, fc.webPath()).map(([host, path]) => `https://${host}${path}`),
    ),
    notifyEmail: fc.oneof(fc.constantFrom<unknown>('x', '@', 'a@', 'a b@c.invalid', '', `${'a'.repeat(250)}@x.invalid`, null), fc.stringMatching(/^[a-z]{1,8}$/).map((s) => `${s}@example.invalid`)),
    metadata: fc.oneof(
      fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 }),
      fc.dictionary(fc.string({ unit: 'binary', maxLength: 10 }), fc.string({ unit: 'binary', maxLength: 20 }), { maxKeys: 3 }),
      fc.constantFrom<unknown>(null, [], 'x', 1, { a: { b: { c: 1 } } }, Object.fromEntries(Array.from({ length: 70 }, (_, i) => [`k${i}`, i])), { big: 'x'.repeat(17_000) }),
      fc.jsonValue({ maxDepth: 2 }),
    ),
    extra: fc.dictionary(fc.constantFrom('id', 'status', 'tenant', 'version', 'x', '', 'Duration', 'dueAt'), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 2 }),
  },
  { requiredKeys: [] },
);

/** A create body: mostly near-valid JSON objects, so most reach validation and some become jobs. */
const jobJson = jobObject.map((o) => {
  const { extra, ...rest } = o;
  return JSON.stringify({ ...rest, ...(extra ?? {}) });
});
const validJobJson = fc
  .record({ duration: fc.double({ min: 0.001, max: 0.5, noNaN: true }), outcome: fc.constantFrom('completed', 'error'), metadata: fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 2 }) }, { requiredKeys: ['duration'] })
  .map((o) => JSON.stringify(o));
const seedJson = fc.oneof(
  durationValue.map((d) => JSON.stringify({ duration: d })),
  fc.constantFrom(
    '{"duration": 10}', '{"duration": 3600}', '{"duration": NaN}', '{"duration": Infinity}', '{"duration": -Infinity}', '{"duration": "NaN"}', '{"duration":1,"x":NaN}',
    '{"x":"NaN", "duration": NaN}', '{"duration": 1, "s": "Infinity\\"NaN"}', '[NaN]', 'NaN', 'Infinity', '{"duration": NaNx}', '{"duration": 1e309}', '{"duration": -0}',
    '{"duration":5,"duration":-5}', '{"duration":-5,"duration":5}', '{"Duration": 5}', '{"duration ": 5}', '{"duration": 5', '{"duration": 5}}', "{'duration': 5}", 'duration=5',
  ),
);

const nested = fc
  .tuple(fc.constantFrom(2, 10, 31, 32, 33, 64, 100, 500, 1000, 2000, 5000, 10_000, 20_000, 32_000), fc.integer({ min: 0, max: 9 }), fc.constantFrom('array', 'object'), fc.constantFrom('metadata', 'top', 'duration', 'extra'))
  .map(([base, jitter, kind, where]) => {
    // Objects cost 5 bytes a level: keep them near the 64 KiB body limit (some over, for 413).
    const depth = kind === 'object' ? Math.min(base + jitter, 13_500) : base + jitter;
    const inner = kind === 'array' ? `${'['.repeat(depth)}1${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    if (where === 'top') return inner;
    if (where === 'duration') return `{"duration":${inner}}`;
    if (where === 'extra') return `{"duration":1,"x":${inner}}`;
    return `{"duration":1,"metadata":{"deep":${inner}}}`;
  });

const rawJsonTexts = fc.constantFrom(
  '', ' ', '\n', 'null', '[]', '{}', '"str"', '0', 'true', '{"duration": 1}garbage', '{"duration": 1', '{"duration":1,}', '{duration: 1}', '{"duration": 01}', '{"duration": .5}',
  '{"duration": 1.}', '{"duration": +1}', '{"duration": 0x10}', '{"duration": 1e}', `{"duration":${'9'.repeat(400)}}`, `{"duration":0.${'0'.repeat(400)}1}`, '{"duration": 1e-400}',
  '{"duration": 1e309}', '{"duration":-1,"duration":1}', '{"duration":1,"duration":"x"}', '{"duration":1,"duration":1}', '{"__proto__":{"duration":1}}', '{"duration":1,"__proto__":null}',
  '{"duration":1,"__proto__":{"isAdmin":true}}', '{"duration":1,"metadata":{"__proto__":{"a":1}}}', '{"duration":1,"constructor":{"prototype":{"a":1}}}',
  '{"duration":1,"metadata":{"constructor":{"prototype":{"a":1}}}}', '{"duration":1,"metadata":{"constructor":1}}', '{"duration":1,"metadata":{"toString":1,"hasOwnProperty":1}}',
  '{"duration":"\\ud800"}', '{"duration":1,"metadata":{"k":"\\ud800\\udfff\\u0000"}}', '{"duration":1,"outcome":"error","metadata":{}}', '{"duration": 1, "callbackUrl": "http://127.0.0.1/x"}',
  '\x00', '{"duration":1}\x00', 'duration=5', '<duration>5</duration>', '--x\r\nContent-Disposition: form-data; name="duration"\r\n\r\n5\r\n--x--',
);

const body = (route: RouteKind): fc.Arbitrary<Buffer | undefined> => {
  const text = (arb: fc.Arbitrary<string>) => arb.map((s) => Buffer.from(s, 'utf8'));
  const others = [
    { weight: 3, arbitrary: text(rawJsonTexts) },
    { weight: 1, arbitrary: text(fc.json({ maxDepth: 3 })) },
    { weight: 2, arbitrary: text(nested) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom([0xff], [0xfe, 0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xc0, 0xaf], [0xe2, 0x82]), fc.boolean())
        .map(([bad, inKey]) =>
          Buffer.concat([Buffer.from(inKey ? '{"duration":1,"metadata":{"' : '{"duration":1,"metadata":{"k":"'), Buffer.from(bad), Buffer.from(inKey ? '":1}}' : '"}}')]),
        ),
    },
    { weight: 1, arbitrary: jobJson.map((s) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(s)])) },
    { weight: 1, arbitrary: validJobJson.map((s) => Buffer.from(`\ufeff${s}`, 'utf16le')) },
    { weight: 1, arbitrary: fc.constantFrom(70_000, 65_537, 65_536, 65_000).map((n) => Buffer.from(`{"duration":1,"metadata":{"pad":"${'x'.repeat(Math.max(0, n - 40))}"}}`)) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 50 }).map((s) => Buffer.from(s)) },
  ];
  if (route === 'create') return fc.oneof({ weight: 10, arbitrary: text(jobJson) }, { weight: 4, arbitrary: text(validJobJson) }, { weight: 1, arbitrary: fc.constant(undefined) }, ...others);
  if (route === 'start-timer') return fc.oneof({ weight: 12, arbitrary: text(seedJson) }, { weight: 1, arbitrary: fc.constant(undefined) }, ...others);
  return fc.oneof({ weight: 12, arbitrary: fc.constant(undefined) }, ...others);
};

// ---------------------------------------------------------------- requests

const routeShape = (ctx: FuzzContext) =>
  fc.oneof(
    { weight: 2, arbitrary: fc.tuple(fc.constant<RouteKind>('start-timer'), methodFor('POST'), fc.constantFrom('/start-timer', '/start-timer', '/start-timer/', '/start-timer?x=1', '/start-timer?duration=5')) },
    { weight: 2, arbitrary: fc.tuple(fc.constant<RouteKind>('status'), methodFor('GET'), fc.tuple(fc.constantFrom('/status', '/status', '/status/'), query).map(([p, q]) => p + q)) },
    { weight: 4, arbitrary: fc.tuple(fc.constant<RouteKind>('create'), methodFor('POST'), fc.tuple(fc.constantFrom('/v1/jobs', '/v1/jobs', '/v1/jobs/'), fc.oneof(fc.constant(''), query)).map(([p, q]) => p + q)) },
    { weight: 3, arbitrary: fc.tuple(fc.constant<RouteKind>('list'), methodFor('GET'), query.map((q) => `/v1/jobs${q}`)) },
    { weight: 4, arbitrary: fc.tuple(fc.constant<RouteKind>('get'), methodFor('GET'), fc.tuple(idSegment(ctx), query).map(([id, q]) => `/v1/jobs/${id}${q}`)) },
    { weight: 2, arbitrary: fc.tuple(fc.constant<RouteKind>('cancel'), methodFor('DELETE'), fc.tuple(idSegment(ctx), fc.oneof(fc.constant(''), query)).map(([id, q]) => `/v1/jobs/${id}${q}`)) },
    { weight: 2, arbitrary: fc.tuple(fc.constant<RouteKind>('job-events'), methodFor('GET'), fc.tuple(idSegment(ctx), fc.oneof(fc.constant(''), query)).map(([id, q]) => `/v1/jobs/${id}/events${q}`)) },
    { weight: 1, arbitrary: fc.tuple(fc.constant<RouteKind>('events'), methodFor('GET'), fc.oneof(fc.constant('/v1/events'), query.map((q) => `/v1/events${q}`))) },
    { weight: 3, arbitrary: fc.tuple(fc.constant<RouteKind>('random'), methodFor('GET'), randomPath(ctx)) },
  );

const framing = fc.oneof(
  { weight: 26, arbitrary: fc.constant<Framing>('length') },
  { weight: 2, arbitrary: fc.constant<Framing>('chunked') },
  { weight: 1, arbitrary: fc.constant<Framing>('none') },
  { weight: 3, arbitrary: fc.constantFrom<Framing>('chunked-garbage', 'length-short', 'length-long', 'length-invalid', 'length-and-chunked') },
);
const mutation = fc.oneof(
  { weight: 40, arbitrary: fc.constant<Mutation>('none') },
  {
    weight: 4,
    arbitrary: fc.constantFrom<Mutation>(
      'lf-endings', 'obs-fold', 'no-colon', 'space-before-colon', 'ctl-in-value', 'ctl-in-target', 'http10', 'http2', 'bad-version', 'no-host', 'two-hosts', 'header-flood', 'huge-target', 'expect',
    ),
  },
);

const ROUTES: readonly RouteKind[] = ['start-timer', 'status', 'create', 'list', 'get', 'cancel', 'job-events', 'events', 'random'];

/** Hostile requests for a server described by `ctx`. */
export function fuzzRequest(ctx: FuzzContext): fc.Arbitrary<FuzzRequest> {
  // Built once per route, not inside chain(): building arbitraries per request made generation the slowest part of a run.
  const rest = new Map(
    ROUTES.map((route) => [
      route,
      fc.record({
        wire: fc.oneof({ weight: 7, arbitrary: fc.constant<'http' | 'raw'>('http') }, { weight: 1, arbitrary: fc.constant<'http' | 'raw'>('raw') }),
        headers: headersFor(ctx, route),
        body: body(route),
        framing,
        mutation,
      }),
    ]),
  );
  return routeShape(ctx).chain(([route, method, target]) => rest.get(route)!.map((r) => ({ route, method, target, ...r })));
}

// ---------------------------------------------------------------- rendering

/** Turns a generated request into bytes (or a node:http request), with the known job ids filled in. */
export function renderRequest(req: FuzzRequest, ids: readonly string[], host: string): RenderedRequest {
  const target = fillIds(req.target, ids);
  const headers: [string, string][] = req.headers.map(([n, v]) => [n, fillIds(v, ids)]);
  const head = req.method === 'HEAD';
  const sendable =
    req.wire === 'http' &&
    req.mutation === 'none' &&
    (req.framing === 'length' || req.framing === 'chunked' || req.framing === 'none') &&
    NODE_METHODS.has(req.method) &&
    TOKEN.test(req.method) &&
    /^[\x21-\xff]+$/.test(target) &&
    headers.every(([n, v]) => TOKEN.test(n) && HEADER_VALUE.test(v) && !FRAMING_HEADERS.has(n.toLowerCase()));
  const body = req.framing === 'none' ? undefined : req.body;
  let echoed: string | undefined;
  const echo = (): string => (echoed ??= echoOf(req.method, target, headers, body) + (bytes?.toString('latin1') ?? ''));
  let bytes: Buffer | undefined;
  if (sendable) {
    const flat: string[] = ['Host', host];
    for (const [n, v] of headers) flat.push(n, v);
    const chunked = req.framing === 'chunked' && body !== undefined;
    // Explicit framing: node:http sends a GET/DELETE/OPTIONS/HEAD body without Content-Length, which the server reads as the next request.
    if (chunked) flat.push('Transfer-Encoding', 'chunked');
    else if (body !== undefined) flat.push('Content-Length', String(body.length));
    return { source: req, wire: 'http', method: req.method, target, headers: flat, body, chunked, bytes: Buffer.alloc(0), head, mayGoUnanswered: false, pipelined: false, echo };
  }

  const eol = req.mutation === 'lf-endings' ? '\n' : '\r\n';
  const version = { http10: 'HTTP/1.0', http2: 'HTTP/2.0', 'bad-version': 'HTTX/1.1' }[req.mutation as string] ?? 'HTTP/1.1';
  let line = `${req.method} ${target}`;
  if (req.mutation === 'ctl-in-target') line += '\x00x';
  if (req.mutation === 'huge-target') line += `?pad=${'a'.repeat(20_000)}`;
  const lines: string[] = [`${line} ${version}`];
  if (req.mutation !== 'no-host') lines.push(`Host: ${host}`);
  if (req.mutation === 'two-hosts') lines.push('Host: evil.invalid');
  for (const [n, v] of headers) lines.push(`${n}: ${v}`);
  if (req.mutation === 'obs-fold') lines.push('X-Folded: a', ' b');
  if (req.mutation === 'no-colon') lines.push('NoColonHere');
  if (req.mutation === 'space-before-colon') lines.push('Content-Type : application/json');
  if (req.mutation === 'ctl-in-value') lines.push('X-Ctl: a\x01\x7fb');
  if (req.mutation === 'header-flood') for (let i = 0; i < 200; i++) lines.push(`X-Flood-${i}: ${'f'.repeat(100)}`);
  if (req.mutation === 'expect') lines.push(`Expect: ${req.framing === 'length' ? '100-continue' : 'the-impossible'}`);
  let payload: Buffer = Buffer.alloc(0);
  // A generated Transfer-Encoding or Content-Length header declares a body the payload below may
  // not supply (e.g. `transfer-encoding: chunked` with no chunks): the server rightly waits for it.
  let mayGoUnanswered = req.method === 'CONNECT' || headers.some(([n]) => n.toLowerCase() === 'transfer-encoding' || n.toLowerCase() === 'content-length');
  let pipelined = false;
  const b = body ?? Buffer.alloc(0);
  switch (req.framing) {
    case 'length':
      if (body !== undefined) lines.push(`Content-Length: ${b.length}`);
      payload = b;
      break;
    case 'none':
      break;
    case 'chunked':
      lines.push('Transfer-Encoding: chunked');
      payload = Buffer.concat([b.length > 0 ? Buffer.concat([Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from('\r\n')]) : Buffer.alloc(0), Buffer.from('0\r\n\r\n')]);
      break;
    case 'chunked-garbage':
      lines.push('Transfer-Encoding: chunked');
      payload = Buffer.concat([Buffer.from(`zz${b.length}\r\n`), b, Buffer.from('\r\nffffffffffffffffffff\r\n0\r\n\r\n')]);
      break;
    case 'length-short':
      lines.push(`Content-Length: ${b.length + 10}`);
      payload = b;
      mayGoUnanswered = true;
      break;
    case 'length-long':
      lines.push(`Content-Length: ${Math.max(0, b.length - 3)}`);
      payload = Buffer.concat([b, Buffer.from('\x00\x01garbage\r\n\r\n')]);
      pipelined = true;
      break;
    case 'length-invalid': {
      const bad = ['abc', '-1', '1.5', ' ', '0x10', '99999999999999999999', '1,2', `${b.length}, ${b.length + 1}`, '+5', `${b.length}\x00`][b.length % 10] ?? 'abc';
      lines.push(`Content-Length: ${bad}`);
      if (b.length % 3 === 0) lines.push(`Content-Length: ${b.length + 1}`);
      payload = b;
      break;
    }
    case 'length-and-chunked':
      lines.push(`Content-Length: ${b.length + 5}`, 'Transfer-Encoding: chunked');
      payload = Buffer.concat([Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from('\r\n0\r\n\r\n')]);
      break;
  }
  bytes = Buffer.concat([Buffer.from(lines.join(eol) + eol + eol, 'latin1'), payload]);
  return { source: req, wire: 'raw', method: req.method, target, headers: [], body, chunked: false, bytes, head, mayGoUnanswered, pipelined, echo };
}

function echoOf(method: string, target: string, headers: [string, string][], body: Buffer | undefined): string {
  const parts = [method, target, ...headers.flat()];
  const text = parts.join('\n');
  let decoded = '';
  try {
    decoded = decodeURIComponent(target);
  } catch {
    decoded = target.replace(/%([0-9a-f]{2})/gi, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)));
  }
  const utf8 = Buffer.from(text, 'latin1').toString('utf8');
  return [text, utf8, decoded, Buffer.from(decoded, 'latin1').toString('utf8'), body?.toString('utf8') ?? '', body?.toString('latin1') ?? ''].join('\n');
}
