/**
 * Zeek-compatible behaviour of the HTTP and DNS analyzers: request-line
 * heuristics, HTTP/0.9, MIME sniffing, DNS record renderings and Zeek's
 * transaction semantics (flags, pairing, rejected, mDNS, dynamic update).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { analyzeCapture } from '../../src/network/engine.js';
import { analyzers } from '../../src/network/analyzers/index.js';
import { parseRequestLine, sniffBody, sniffMime } from '../../src/network/http.js';
import { parseDns, rdataText, updateText } from '../../src/network/dns.js';
import { compareLogRows, dnsToZeek, httpToZeek, parseZeekLog, zeekAnswer } from '../../src/network/zeeklog.js';
import { corpusFile, needCorpus } from '../support/corpus.js';
import { Conversation, pcap, udpPacket } from './support/capbuild.js';

async function run(frames: ReturnType<typeof pcap>) {
  return (await analyzeCapture(frames, { evidence: 'T', analyzers })).events;
}

test('HTTP request line parsed as Zeek does', () => {
  assert.equal(parseRequestLine('OPTIONSHTTP/1.1'), null); // no whitespace after the method token
  assert.equal(parseRequestLine('\xc3\x83 / HTTP/1.1'), null); // method is not a token
  assert.equal(parseRequestLine(''), null);
  assert.deepEqual(parseRequestLine('GET / HTTP/1.1'), { method: 'GET', uri: '/', version: '1.1' });
  assert.deepEqual(parseRequestLine('GET / HTTP/1.'), { method: 'GET', uri: '/', version: undefined });
  assert.deepEqual(parseRequestLine('GET /HTTP/1.1'), { method: 'GET', uri: '/HTTP/1.1', version: '0.9' });
  assert.deepEqual(parseRequestLine('OPTIONS HTTP/1.0'), { method: 'OPTIONS', uri: '', version: '1.0' });
  assert.deepEqual(parseRequestLine('GET /a|b c HTTP/1.0'), { method: 'GET', uri: '/a|b c', version: '1.0' });
  assert.deepEqual(parseRequestLine('CCM_POST /x HTTP/1.1'), { method: 'CCM_POST', uri: '/x', version: '1.1' });
});

test('HTTP: bad request line still yields the reply record; HTTP/0.9 replies are all body', async () => {
  const a = new Conversation('10.0.0.1', 40200, '10.0.0.2', 80).handshake();
  a.client('PA', 'OPTIONSHTTP/1.1\r\nHost: h\r\n\r\n');
  a.server('PA', 'HTTP/1.0 400 Bad Request\r\nContent-Length: 5\r\n\r\nnope!');
  a.close();
  const reply09 = 'HTTP/1.0 403 Forbidden\r\nContent-Length: 4\r\n\r\nxxxx';
  const b = new Conversation('10.0.0.1', 40201, '10.0.0.2', 80).handshake();
  b.client('PA', 'GET /HTTP/1.1\r\nHost: h\r\n\r\n');
  b.server('PA', reply09);
  b.close();
  const c = new Conversation('10.0.0.1', 40202, '10.0.0.2', 80).handshake();
  c.client('PA', 'GET /z.html HTTP/1.1\r\nHost: h\r\n\r\n');
  c.server('PA', '<html>no status line</html>\n');
  c.close();
  const ev = await run(pcap([...a.frames, ...b.frames, ...c.frames].sort((x, y) => x.ts - y.ts)));
  const http = ev.filter((e) => e['event.dataset'] === 'http');
  const by = (p: number) => http.find((e) => e['source.port'] === p)!;
  assert.equal(by(40200)['http.request.method'], undefined);
  assert.equal(by(40200)['http.response.status_code'], 400);
  assert.equal(by(40200)['http.response.body.bytes'], 5);
  assert.equal(by(40201)['url.original'], '/HTTP/1.1');
  assert.equal(by(40201)['http.version'], '0.9');
  assert.equal(by(40201)['http.response.status_code'], 0);
  assert.equal(by(40201)['http.response.body.bytes'], reply09.length);
  // a 1.1 request answered without a status line: not an HTTP reply (Zeek: bad_HTTP_reply)
  assert.equal(by(40202)['http.request.method'], 'GET');
  assert.equal(by(40202)['http.response.status_code'], undefined);
  assert.equal(httpToZeek(by(40202)).version, '-');
  assert.ok(ev.some((e) => e['weird.name'] === 'bad_HTTP_request'));
});

test('HTTP/0.9 simple request line without headers', async () => {
  const a = new Conversation('10.0.0.1', 40203, '10.0.0.2', 80).handshake();
  a.client('PA', 'POST /zeek.html\n');
  a.server('PA', 'bad method\n');
  a.close();
  const http = (await run(pcap(a.frames))).filter((e) => e['event.dataset'] === 'http');
  assert.equal(http.length, 1);
  assert.equal(http[0]['http.request.method'], 'POST');
  assert.equal(http[0]['http.version'], '0.9');
  assert.equal(http[0]['http.response.body.bytes'], 11);
});

test('HTTP: version-less cruft after an HTTP/1.1 request stops the analysis, not a 0.9 request', async () => {
  const c = new Conversation('10.0.0.1', 40205, '10.0.0.2', 80).handshake();
  c.client('PA', 'GET / HTTP/1.1\nHost: h\n\n');
  c.server('PA', 'HTTP/1.1 301 Moved\r\nContent-Length: 3\r\n\r\nabc');
  c.client('PA', 'T / HTTP\n\n');
  c.server('PA', 'HTTP/1.1 400 Bad Request\r\nContent-Length: 2\r\n\r\nno');
  c.client('PA', 'T / HTTP\n\n');
  c.close();
  const ev = await run(pcap(c.frames));
  const http = ev.filter((e) => e['event.dataset'] === 'http');
  assert.equal(http.length, 1);
  assert.equal(http[0]['http.response.status_code'], 301);
  assert.ok(ev.some((e) => e['weird.name'] === 'bad_HTTP_request'));
});

test('MIME sniffing by content', () => {
  const b = (s: string, enc: BufferEncoding = 'latin1') => Buffer.from(s, enc);
  assert.equal(sniffMime(b('89504e470d0a1a0a0000000d49484452', 'hex')), 'image/png');
  assert.equal(sniffMime(b('GIF89a\x01\x00')), 'image/gif');
  assert.equal(sniffMime(b('ffd8ffe000104a464946', 'hex')), 'image/jpeg');
  assert.equal(sniffMime(b('MZ\x90\x00\x03\x00\x00\x00')), 'application/x-dosexec');
  assert.equal(sniffMime(b('PK\x03\x04\x14\x00')), 'application/zip');
  assert.equal(sniffMime(b('1f8b0800000000000003', 'hex')), 'application/x-gzip');
  assert.equal(sniffMime(b('%PDF-1.7\n')), 'application/pdf');
  assert.equal(sniffMime(b('\r\n  <!DOCTYPE html><html>')), 'text/html');
  assert.equal(sniffMime(b('<HTML><HEAD><TITLE>404')), 'text/html');
  assert.equal(sniffMime(b('<?xml version="1.0"?><root/>')), 'application/xml');
  assert.equal(sniffMime(b(' {"id": 1, "x": [1]}')), 'text/json');
  assert.equal(sniffMime(b('HTTP/1.0 403 Forbidden\r\n\r\n<html>')), 'text/plain');
  assert.equal(sniffMime(b('document.write("<b>")')), 'application/javascript');
  assert.equal(sniffMime(b('fin')), undefined); // fewer than 10 characters
  assert.equal(sniffMime(b('\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a')), undefined);
  assert.equal(sniffMime(Buffer.alloc(0)), undefined);
});

test('MIME sniffing per part of multipart and message/rfc822 bodies; unparsable 206 not typed', () => {
  const inner = '--in\r\nContent-Type: text/plain\r\n\r\nsecond part text\r\n--in--\r\n';
  const body = Buffer.from(
    '--out\r\nContent-Type: text/plain\r\n\r\nfirst part text!\r\n' +
      '--out\r\nContent-Type: application/octet-stream\r\n\r\n\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\r\n' +
      '--out\r\nContent-Type: message/rfc822\r\n\r\nContent-Type: multipart/mixed; boundary="in"\r\n\r\n' + inner +
      '--out\r\nContent-Type: image/gif\r\n\r\nGIF89a\x01\x00\x01\x00\r\n--out--\r\n',
    'latin1',
  );
  assert.deepEqual(sniffBody(body, { 'content-type': 'multipart/form-data; boundary=out' }), ['text/plain', 'text/plain', 'image/gif']);
  assert.deepEqual(sniffBody(Buffer.from('GIF89a\x01\x00\x01\x00', 'latin1'), { 'content-range': 'bytes foo-bar/baz' }, 206), []);
  assert.deepEqual(sniffBody(Buffer.from('GIF89a\x01\x00\x01\x00', 'latin1'), { 'content-range': 'bytes 0-9/100' }, 206), ['image/gif']);
});

test('HTTP record carries sniffed types; Zeek rendering uses them, not Content-Type', async () => {
  const c = new Conversation('10.0.0.1', 40204, '10.0.0.2', 80).handshake();
  c.client('PA', 'GET /a.png HTTP/1.1\r\nHost: h\r\n\r\n');
  const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
  c.server('PA', Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: ${png.length}\r\n\r\n`), png]));
  c.close();
  const http = (await run(pcap(c.frames))).filter((e) => e['event.dataset'] === 'http');
  assert.deepEqual(http[0]['http.response.mime_sniffed'], ['image/png']);
  assert.equal(http[0]['http.response.mime_type'], 'text/html');
  assert.equal(httpToZeek(http[0]).resp_mime_types, 'image/png');
  assert.equal(httpToZeek(http[0]).orig_mime_types, '-');
});

/** Build a DNS message: header fields, one question, and answer-section records. */
function dnsMsg(o: { id: number; flags: number; q?: [string, number]; an?: [string, number, number, Buffer, number?][]; ns?: [string, number, number, Buffer, number?][] }): Buffer {
  const name = (n: string) => Buffer.concat([...(n ? n.split('.') : []).map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0])]);
  const rr = ([n, type, ttl, data, cls]: [string, number, number, Buffer, number?]) => {
    const h = Buffer.alloc(10);
    h.writeUInt16BE(type, 0);
    h.writeUInt16BE(cls ?? 1, 2);
    h.writeUInt32BE(ttl, 4);
    h.writeUInt16BE(data.length, 8);
    return Buffer.concat([name(n), h, data]);
  };
  const hdr = Buffer.alloc(12);
  hdr.writeUInt16BE(o.id, 0);
  hdr.writeUInt16BE(o.flags, 2);
  hdr.writeUInt16BE(o.q ? 1 : 0, 4);
  hdr.writeUInt16BE(o.an?.length ?? 0, 6);
  hdr.writeUInt16BE(o.ns?.length ?? 0, 8);
  const parts = [hdr];
  if (o.q) parts.push(name(o.q[0]), Buffer.from([o.q[1] >> 8, o.q[1] & 255, 0, 1]));
  for (const r of o.an ?? []) parts.push(rr(r));
  for (const r of o.ns ?? []) parts.push(rr(r));
  return Buffer.concat(parts);
}

test('DNS record renderings as in Zeek dns.log', () => {
  const enc = (n: string) => Buffer.concat([...n.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0])]);
  const rrsig = Buffer.concat([Buffer.from([0, 48, 5, 2, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x34]), enc('PayPal.com'), Buffer.from([1, 2, 3])]);
  assert.equal(rdataText(rrsig, 46, 0, rrsig.length), 'RRSIG 48 PayPal.com');
  const rootSig = Buffer.concat([Buffer.alloc(18), Buffer.from([0])]);
  assert.equal(rdataText(rootSig, 46, 0, rootSig.length), 'RRSIG 0 <Root>');
  assert.equal(rdataText(Buffer.from([1, 1, 3, 8, 9, 9]), 48, 0, 6), 'DNSKEY 8');
  assert.equal(rdataText(Buffer.from([0x12, 0x34, 5, 2, 0xaa]), 43, 0, 5), 'DS 5 2');
  assert.equal(rdataText(enc('b.example'), 47, 0, enc('b.example').length, 'a.example'), 'NSEC a.example b.example');
  assert.equal(rdataText(Buffer.from([1, 1, 0xa6, 0xb9]), 44, 0, 4), 'SSHFP: a6b9');
  assert.equal(rdataText(Buffer.from([0, 0x12, 0x15, 0x13, ...Array(12).fill(0)]), 29, 0, 16), 'LOC:  18 21 19');
  assert.equal(rdataText(Buffer.from('\x03abc\x02de', 'latin1'), 16, 0, 7), 'TXT 3 abc TXT 2 de');
  assert.equal(rdataText(Buffer.from('\x05v=spf', 'latin1'), 99, 0, 6), 'SPF 5 v=spf');
  assert.equal(rdataText(Buffer.from([1, 2, 3]), 65534, 0, 3), 'BIND9 signing signal');
  assert.equal(rdataText(Buffer.from([1, 2, 3]), 50, 0, 3), 'NSEC3');
  assert.equal(rdataText(Buffer.from([1, 2, 3]), 51, 0, 3), 'NSEC3PARAM');
  assert.equal(rdataText(Buffer.from([1, 2, 3]), 11, 0, 3), '');
  assert.equal(rdataText(Buffer.from([1, 2, 3]), 4242, 0, 3), '<unknown type=4242>');
  assert.equal(zeekAnswer({ type: 'CNAME', data: 'WWW.Example.COM' }), 'www.example.com');
  assert.equal(zeekAnswer({ type: 'RRSIG', data: 'RRSIG 48 PayPal.com' }), 'RRSIG 48 paypal.com');
  assert.equal(zeekAnswer({ type: 'TXT', data: 'TXT 3 ABC' }), 'TXT 3 ABC');
  assert.equal(updateText(true, 254, 1, 5, 'CNAME', 'a.b', ''), 'pre: NoRRSet CNAME a.b');
  assert.equal(updateText(false, 255, 1, 28, 'AAAA', 'a.b', ''), 'del: RRSet AAAA');
  assert.equal(updateText(false, 1, 1, 1, 'A', 'a.b', '10.0.0.1'), 'add: A a.b 10.0.0.1');
});

test('DNS transactions follow Zeek semantics: flags, rejected, reply-only, pairing queue, mDNS, update', async () => {
  const A = (ip: number[]) => Buffer.from(ip);
  const frames = [
    // 1: query RD=1 Z=1; reply AA RA with an answer and an HINFO (not logged)
    { ts: 1, data: udpPacket('10.0.0.1', '10.0.0.53', 5001, 53, dnsMsg({ id: 7, flags: 0x0110, q: ['x.example', 1] })) },
    { ts: 1.1, data: udpPacket('10.0.0.53', '10.0.0.1', 53, 5001, dnsMsg({ id: 7, flags: 0x8580, q: ['x.example', 1], an: [['x.example', 1, 60, A([1, 2, 3, 4])], ['x.example', 13, 60, Buffer.from('\x01a\x01b', 'latin1')]] })) },
    // 2: REFUSED reply without records: rejected; AA not taken (no answers)
    { ts: 2, data: udpPacket('10.0.0.1', '10.0.0.53', 5002, 53, dnsMsg({ id: 8, flags: 0x0100, q: ['y.example', 6] })) },
    { ts: 2.1, data: udpPacket('10.0.0.53', '10.0.0.1', 53, 5002, dnsMsg({ id: 8, flags: 0x8405, q: ['y.example', 6] })) },
    // 3: reply only: query from the answer's owner, no qtype, RD false
    { ts: 3, data: udpPacket('10.0.0.53', '10.0.0.1', 53, 5003, dnsMsg({ id: 9, flags: 0x8180, q: ['z.example', 16], an: [['z.example', 16, 30, Buffer.from('\x02hi', 'latin1')]] })) },
    // 4: two queries with the same id, then two replies: paired in order
    { ts: 4, data: udpPacket('10.0.0.1', '10.0.0.53', 5004, 53, dnsMsg({ id: 5, flags: 0x0100, q: ['first.example', 1] })) },
    { ts: 4.01, data: udpPacket('10.0.0.1', '10.0.0.53', 5004, 53, dnsMsg({ id: 5, flags: 0x0100, q: ['second.example', 1] })) },
    { ts: 4.1, data: udpPacket('10.0.0.53', '10.0.0.1', 53, 5004, dnsMsg({ id: 5, flags: 0x8180, q: ['first.example', 1], an: [['first.example', 1, 1, A([9, 9, 9, 1])]] })) },
    { ts: 4.2, data: udpPacket('10.0.0.53', '10.0.0.1', 53, 5004, dnsMsg({ id: 5, flags: 0x8180, q: ['second.example', 1], an: [['second.example', 1, 1, A([9, 9, 9, 2])]] })) },
    // 5: mDNS id 0: query and unrelated announcement are separate records
    { ts: 5, data: udpPacket('10.0.0.7', '224.0.0.251', 5353, 5353, dnsMsg({ id: 0, flags: 0, q: ['host.local', 1] })) },
    { ts: 5.1, data: udpPacket('10.0.0.7', '224.0.0.251', 5353, 5353, dnsMsg({ id: 0, flags: 0x8400, an: [['other.local', 1, 120, A([10, 0, 0, 7])]] })) },
    // 6: dynamic update (opcode 5): zone section is no question; prerequisites and updates rendered
    {
      ts: 6,
      data: udpPacket('10.0.0.9', '10.0.0.53', 5006, 53, dnsMsg({ id: 11, flags: 0x2800, q: ['corp.example', 6], an: [['ws1.corp.example', 5, 0, Buffer.alloc(0), 254]], ns: [['ws1.corp.example', 1, 0, Buffer.alloc(0), 255], ['ws1.corp.example', 1, 1200, A([10, 0, 0, 9])]] })),
    },
    { ts: 6.1, data: udpPacket('10.0.0.53', '10.0.0.9', 53, 5006, dnsMsg({ id: 11, flags: 0xa800, q: ['corp.example', 6], an: [['ws1.corp.example', 5, 0, Buffer.alloc(0), 254]] })) },
  ];
  const dns = (await run(pcap(frames))).filter((e) => e['event.dataset'] === 'dns').map(dnsToZeek);
  const row = (p: string, i = 0) => dns.filter((r) => r['id.orig_p'] === p || r['id.resp_p'] === p)[i];
  let r = row('5001');
  assert.deepEqual([r.query, r.qtype, r.RD, r.AA, r.RA, r.Z, r.answers, r.TTLs, r.rejected], ['x.example', '1', 'T', 'T', 'T', '1', '1.2.3.4', '60.000000', 'F']);
  r = row('5002');
  assert.deepEqual([r.rcode_name, r.rejected, r.AA, r.answers], ['REFUSED', 'T', 'F', '-']);
  r = row('5003');
  assert.deepEqual([r.query, r.qtype, r.RD, r.AA, r.RA, r.answers], ['z.example', '-', 'F', 'F', 'T', 'TXT 2 hi']);
  assert.deepEqual([row('5004', 0).query, row('5004', 0).answers, row('5004', 1).query, row('5004', 1).answers], ['first.example', '9.9.9.1', 'second.example', '9.9.9.2']);
  const mdns = dns.filter((x) => x['id.orig_p'] === '5353');
  assert.equal(mdns.length, 2);
  assert.deepEqual([mdns[0].query, mdns[0].rcode, mdns[1].query, mdns[1].rcode, mdns[1].answers], ['host.local', '-', 'other.local', '0', '10.0.0.7']);
  r = row('5006');
  assert.deepEqual([r.query, r.qtype, r.answers, r.TTLs], ['ws1.corp.example', '-', 'pre: NoRRSet CNAME ws1.corp.example,del: RRSet A,add: A ws1.corp.example 10.0.0.9', '0.000000,0.000000,1200.000000']);
  assert.equal(parseDns(dnsMsg({ id: 1, flags: 0, q: ['a.b', 65534] }))!.qtype, 65534);
});

test('DNS: unanswered queries are bounded per connection (Zeek max_pending_query_ids) and all still recorded', async () => {
  const frames = [];
  for (let i = 0; i < 300; i++) frames.push({ ts: 1 + i / 1000, data: udpPacket('10.0.0.1', '10.0.0.53', 6000, 53, dnsMsg({ id: i, flags: 0x0100, q: [`h${i}.example`, 1] })) });
  // the answer to query 299 still pairs after earlier ids were given up on
  frames.push({ ts: 2, data: udpPacket('10.0.0.53', '10.0.0.1', 53, 6000, dnsMsg({ id: 299, flags: 0x8180, q: ['h299.example', 1], an: [['h299.example', 1, 5, Buffer.from([1, 1, 1, 1])]] })) });
  const dns = (await run(pcap(frames))).filter((e) => e['event.dataset'] === 'dns');
  assert.equal(dns.length, 300);
  const last = dns.find((e) => e['dns.id'] === 299)!;
  assert.deepEqual(last['dns.resolved_ip'], ['1.1.1.1']);
  assert.equal(dns.filter((e) => e['dns.response_code'] !== undefined).length, 1);
  // given-up queries are recorded as soon as the cap is passed, before the later answered one
  assert.ok(dns.findIndex((e) => e['dns.id'] === 0) < dns.indexOf(last));
});

test('corpus: Zeek dns.log and http.log baselines (DNSSEC renderings, methods.pcap heuristics)', { skip: needCorpus('zeek/Traces/dnssec/rrsig.pcap', 'zeek/Traces/http/methods.pcap') }, async () => {
  const cases: [string, string, (e: Record<string, unknown>) => Record<string, string>, string[], number][] = [
    ['zeek/Traces/dnssec/rrsig.pcap', 'zeek/Baseline/scripts.base.protocols.dns.rrsig/dns.log', dnsToZeek as never, ['query', 'qtype', 'rcode', 'AA', 'RD', 'RA', 'Z', 'answers', 'TTLs', 'rejected'], 0],
    ['zeek/Traces/http/methods.pcap', 'zeek/Baseline/scripts.base.protocols.http.http-methods/http.log', httpToZeek as never, ['method', 'uri', 'version', 'status_code', 'response_body_len', 'resp_mime_types'], 0],
  ];
  for (const [trace, base, conv, fields, allowed] of cases) {
    const b = corpusFile(base);
    if (!b) continue;
    const exp = parseZeekLog(readFileSync(b, 'utf8'));
    const ds = base.endsWith('dns.log') ? 'dns' : 'http';
    const act = (await run(readFileSync(corpusFile(trace)!) as never)).filter((e) => e['event.dataset'] === ds).map(conv as never) as Record<string, string>[];
    const r = compareLogRows(exp.rows, act, fields);
    assert.ok(r.rows >= 4);
    assert.ok(r.identical >= r.rows - allowed, `${trace}: ${r.identical}/${r.rows} ${JSON.stringify(r.diffs.slice(0, 3))}`);
  }
});
