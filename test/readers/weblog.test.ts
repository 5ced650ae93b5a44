import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SpoorEvent } from '../../src/core/event.js';
import { HomeNet } from '../../src/core/homenet.js';
import type { ParseProblem } from '../../src/core/problems.js';
import { readers } from '../../src/readers/index.js';
import { weblogReader } from '../../src/readers/weblog/index.js';

async function* chunks(buf: Buffer, size: number): AsyncIterable<Buffer> {
  for (let o = 0; o < buf.length; o += size) yield buf.subarray(o, o + size);
}

async function read(text: string): Promise<{ events: SpoorEvent[]; problems: ParseProblem[] }> {
  const buf = Buffer.from(text);
  assert.equal(readers.find((r) => r.sniff(buf.subarray(0, 4096)))?.format, 'access-log');
  const problems: ParseProblem[] = [];
  const events: SpoorEvent[] = [];
  const ctx = { evidenceId: 'E3', path: 'access.log', homeNet: new HomeNet(), problem: (p: ParseProblem) => problems.push(p), stats: { records: 0, errors: 0 } };
  for await (const b of weblogReader.read(chunks(buf, 50), ctx)) events.push(...b);
  return { events, problems };
}

test('combined log format: time with its offset, request line, status, size, referrer and user agent as data', async () => {
  const lines = [
    '10.10.10.3 - - [12/Jun/2024:10:05:13 +0800] "GET /index HTTP/1.1" 200 202',
    '10.10.10.3 - admin [12/Jun/2024:10:07:01 +0800] "POST /?class.module.classLoader.resources.context.parent.pipeline.first.pattern=%25%7Bc2%7Di HTTP/1.1" 200 - "http://web01/" "Mozilla/5.0 \\"<script>alert(1)</script>\\" \\x00end"',
    '203.0.113.9 - - [12/Jun/2024:02:07:02 -0000] "\\x16\\x03\\x01\\x00\\xa5" 400 226 "-" "-"',
    '10.10.10.3 - - [12/Jun/2024:10:08:00 +0800] "GET /tomcatwar.jsp?pwd=j&cmd=whoami HTTP/1.1" 200 12 "-" "python-requests/2.31"',
  ];
  const { events, problems } = await read(lines.join('\n') + '\n');
  assert.deepEqual(problems, []);
  assert.equal(events.length, 4);
  const [a, b, c, d] = events as SpoorEvent[];
  assert.equal(a!['event.dataset'], 'web');
  assert.equal(a!['@timestamp'], Date.UTC(2024, 5, 12, 2, 5, 13));
  assert.equal(a!['url.original'], '/index');
  assert.equal(a!['http.response.body.bytes'], 202);
  assert.deepEqual(a!.ref, { evidence: 'E3', line: 1 });
  assert.equal(b!['user.name'], 'admin');
  assert.equal(b!['http.request.method'], 'POST');
  assert.match(String(b!['url.original']), /classLoader/);
  assert.equal(b!['http.response.body.bytes'], undefined);
  assert.equal(b!['user_agent.original'], 'Mozilla/5.0 "<script>alert(1)</script>" \u0000end');
  assert.equal(c!['http.request.method'], undefined);
  assert.equal(c!['web.request_line'], '\u0016\u0003\u0001\u0000\u00a5', 'a TLS hello sent to a plain HTTP port is kept as logged');
  assert.equal(c!['@timestamp'], Date.UTC(2024, 5, 12, 2, 7, 2));
  assert.equal(d!['url.original'], '/tomcatwar.jsp?pwd=j&cmd=whoami');
});

test('IIS W3C logs: fields from the #Fields header, UTC times, query joined to the stem, + in user agents', async () => {
  const text = [
    '#Software: Microsoft Internet Information Services 10.0',
    '#Version: 1.0',
    '#Date: 2024-06-12 02:00:00',
    '#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken',
    '2024-06-12 02:07:01 80.66.1.20 GET /owa/auth/x.js - 443 - 203.0.113.9 Mozilla/5.0+(compatible) - 404 0 2 15',
    '2024-06-12 02:07:02 80.66.1.20 POST /aspnet_client/shell.aspx cmd=whoami 443 - 203.0.113.9 - - 200 0 0 31',
    'garbage',
  ].join('\r\n');
  const { events, problems } = await read(text);
  assert.equal(events.length, 2);
  const [a, b] = events as SpoorEvent[];
  assert.equal(a!['@timestamp'], Date.UTC(2024, 5, 12, 2, 7, 1));
  assert.equal(a!['destination.ip'], '80.66.1.20');
  assert.equal(a!['source.ip'], '203.0.113.9');
  assert.equal(a!['user_agent.original'], 'Mozilla/5.0 (compatible)');
  assert.equal(a!['http.response.status_code'], 404);
  assert.equal(a!['event.duration'], 15);
  assert.equal(b!['url.original'], '/aspnet_client/shell.aspx?cmd=whoami');
  assert.equal(problems.length, 1);
  assert.equal(problems[0]!.record, 7);
  assert.equal(problems[0]!.severity, 'error');
});

test('a damaged access log: unparseable lines are reported with line and offset, the rest is read', async () => {
  const good = '10.0.0.1 - - [12/Jun/2024:10:05:13 +0800] "GET / HTTP/1.1" 200 5';
  const { events, problems } = await read([good, '10.0.0.1 - - [12/Jun/2024:10:05', good, 'x'.repeat(100)].join('\n'));
  assert.equal(events.length, 2);
  assert.deepEqual(problems.map((p) => [p.record, p.offset]), [[2, good.length + 1], [4, good.length * 2 + 2 + '10.0.0.1 - - [12/Jun/2024:10:05'.length + 1]]);
});
