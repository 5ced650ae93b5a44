import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { analyzeCapture } from '../../src/network/engine.js';
import { analyzers } from '../../src/network/analyzers/index.js';
import { parseDns, readName } from '../../src/network/dns.js';
import { parseZeekLog, connToZeek, compareLogRows } from '../../src/network/zeeklog.js';
import { corpusFile, needCorpus } from '../support/corpus.js';
import { Conversation, pcap, udpPacket } from './support/capbuild.js';

async function run(frames: ReturnType<typeof pcap>) {
  return (await analyzeCapture(frames, { evidence: 'T', analyzers })).events;
}

test('HTTP pipelining, chunked and gzip bodies, POST body kept', async () => {
  const gz = gzipSync(Buffer.from('hello gzip world'));
  const c = new Conversation('10.0.0.1', 40100, '10.0.0.2', 8080).handshake();
  c.client('PA', 'POST /upload.php HTTP/1.1\r\nHost: victim\r\nUser-Agent: evil/1.0\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 11\r\n\r\ncmd=whoami&GET /a HTTP/1.1\r\nHost: victim\r\n\r\nGET /b HTTP/1.1\r\nHost: victim\r\nReferer: http://r/\r\n\r\n');
  c.server('PA', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/html; charset=utf-8\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n');
  c.server('PA', `HTTP/1.1 404 Not Found\r\nContent-Encoding: gzip\r\nContent-Length: ${gz.length}\r\n\r\n`);
  c.server('PA', gz);
  c.server('PA', 'HTTP/1.1 302 Found\r\nContent-Length: 0\r\n\r\n');
  c.close();
  const ev = await run(pcap(c.frames));
  const http = ev.filter((e) => e['event.dataset'] === 'http');
  assert.equal(http.length, 3);
  assert.deepEqual(http.map((e) => e['http.request.method']), ['POST', 'GET', 'GET']);
  assert.deepEqual(http.map((e) => e['http.response.status_code']), [200, 404, 302]);
  assert.equal(http[0]['http.request.body.content'], 'cmd=whoami&');
  assert.equal(http[0]['http.request.body.bytes'], 11);
  assert.equal(http[0]['user_agent.original'], 'evil/1.0');
  assert.equal(http[0]['http.response.body.content'], 'hello world');
  assert.equal(http[0]['http.response.mime_type'], 'text/html');
  assert.equal(http[1]['http.response.body.content'], 'hello gzip world');
  assert.equal(http[1]['http.response.body.bytes'], 16);
  assert.equal(http[2]['http.request.referrer'], 'http://r/');
  assert.deepEqual(http.map((e) => e['http.trans_depth']), [1, 2, 3]);
  const conn = ev.find((e) => e['event.dataset'] === 'conn')!;
  assert.equal(conn['network.protocol'], 'http');
  assert.equal(http[0]['conn.uid'], conn['conn.uid']);
});

test('HTTP recognised by content on an unusual port; non-HTTP on port 80 is not', async () => {
  const a = new Conversation('10.0.0.1', 40101, '10.0.0.2', 4444).handshake().client('PA', 'GET /shell HTTP/1.0\r\n\r\n').server('PA', 'HTTP/1.0 200 OK\r\n\r\nok').close();
  const b = new Conversation('10.0.0.3', 40102, '10.0.0.2', 80).handshake().client('PA', '\x16\x03\x01\x00\x05hello').close();
  const ev = await run(pcap([...a.frames, ...b.frames].sort((x, y) => x.ts - y.ts)));
  const http = ev.filter((e) => e['event.dataset'] === 'http');
  assert.equal(http.length, 1);
  assert.equal(http[0]['url.original'], '/shell');
  assert.equal(http[0]['http.response.body.bytes'], 2);
});

function dnsQuery(id: number, name: string): Buffer {
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  return Buffer.concat([Buffer.from([id >> 8, id & 255, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]), ...labels, Buffer.from([0, 0, 1, 0, 1])]);
}

test('DNS over UDP: query/answer pairing, compression pointers, TTLs', async () => {
  const q = dnsQuery(0x1234, 'evil.example.com');
  // answer: CNAME with pointer to the question, then A record named by pointer to the CNAME target
  const hdr = Buffer.from([0x12, 0x34, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0]);
  const question = q.subarray(12);
  const cnameData = Buffer.concat([Buffer.from([3]), Buffer.from('cdn'), Buffer.from([0xc0, 12 + 5])]); // cdn.example.com
  const rr1 = Buffer.concat([Buffer.from([0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, cnameData.length]), cnameData]);
  const cnameOff = 12 + question.length + 12;
  const rr2 = Buffer.from([0xc0, cnameOff, 0, 1, 0, 1, 0, 0, 1, 44, 0, 4, 203, 0, 113, 9]);
  const resp = Buffer.concat([hdr, question, rr1, rr2]);
  const ev = await run(
    pcap([
      { ts: 1700000000, data: udpPacket('10.0.0.1', '10.0.0.53', 5555, 53, q) },
      { ts: 1700000000.02, data: udpPacket('10.0.0.53', '10.0.0.1', 53, 5555, resp) },
    ]),
  );
  const dns = ev.filter((e) => e['event.dataset'] === 'dns');
  assert.equal(dns.length, 1);
  assert.equal(dns[0]['dns.question.name'], 'evil.example.com');
  assert.equal(dns[0]['dns.question.type'], 'A');
  assert.equal(dns[0]['dns.response_code'], 'NOERROR');
  assert.deepEqual(dns[0]['dns.answers'], [
    { name: 'evil.example.com', type: 'CNAME', data: 'cdn.example.com', ttl: 60 },
    { name: 'cdn.example.com', type: 'A', data: '203.0.113.9', ttl: 300 },
  ]);
  assert.deepEqual(dns[0]['dns.resolved_ip'], ['203.0.113.9']);
  assert.equal(ev.find((e) => e['event.dataset'] === 'conn')!['network.protocol'], 'dns');
});

test('DNS name compression loops are refused, not followed forever', () => {
  const b = Buffer.from([0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1]);
  assert.equal(readName(b, 12), null);
  assert.equal(parseDns(b), null);
  const two = Buffer.from([0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 1, 97, 0xc0, 16, 1, 98, 0xc0, 12]);
  assert.equal(readName(two, 12), null);
});

test('corpus: Zeek conn.log baselines for wikipedia.pcap and ftp/ipv4.pcap', { skip: needCorpus('zeek/Traces/wikipedia.pcap', 'zeek/Traces/ftp/ipv4.pcap') }, async () => {
  const cases = [
    ['zeek/Traces/ftp/ipv4.pcap', 'zeek/Baseline/scripts.base.protocols.ftp.ftp-ipv4/conn.log'],
    ['zeek/Traces/wikipedia.pcap', 'zeek/Baseline/scripts.base.frameworks.logging.field-name-map/conn.log'],
  ];
  for (const [trace, base] of cases) {
    const exp = parseZeekLog(readFileSync(corpusFile(base)!, 'utf8'));
    const { events } = await analyzeCapture(readFileSync(corpusFile(trace)!), { evidence: 'E' });
    const act = events.filter((e) => e['event.dataset'] === 'conn').map(connToZeek);
    const r = compareLogRows(exp.rows, act, ['duration', 'orig_bytes', 'resp_bytes', 'conn_state', 'history', 'orig_pkts', 'orig_ip_bytes', 'resp_pkts', 'resp_ip_bytes', 'missed_bytes']);
    // wikipedia has one row Zeek keeps unflipped because its -b run registers no port 80 analyzer
    assert.ok(r.identical >= r.rows - 1, `${trace}: ${r.identical}/${r.rows} ${JSON.stringify(r.diffs.slice(0, 3))}`);
    assert.ok(r.rows > 4);
  }
});
