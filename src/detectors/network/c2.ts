/**
 * net.c2 — command-and-control from an internal host to an outside address
 * (T1071 / T1573): RITA-v5 beacon scoring of each connection series, Cobalt
 * Strike default-profile indicators (URIs with cookie metadata, submit.php?id=,
 * the default teamserver certificate, JA3/JA3S as weak evidence) and long
 * connections. Benign regular traffic is suppressed by documented allowances
 * (allowlist.ts). A beaconing host is compromised; its peer is the C2 candidate.
 */
import type { EvidenceRef, SpoorEvent } from '../../core/event.js';
import type { Detector, DetectorContext, DetectorModule, Finding, Severity } from '../../core/finding.js';
import { settingsFor } from '../../core/finding.js';
import { Allowance, allowDefaults } from './allowlist.js';
import { beaconCategory, DEFAULT_BEACON, scoreBeacon, type BeaconOptions, type BeaconResult } from './rita.js';
import { asNum, asNumList, asStrList, BoundedMap, CappedSet, EvidenceSample, header, refOf, str, uriPath } from './util.js';
import { checkinIndicators, indicatorDefaults, malwareCertificate, normSubject, type CheckinHit, type MalwareCert } from './c2indicators.js';

const ID = 'net.c2';

export const c2Defaults = {
  ...allowDefaults,
  /** Beacon score (RITA 0..1) at or above which a series is reported (RITA "medium" starts at 0.7). */
  minScore: 0.7,
  /**
   * spoor addition to RITA: the timestamp sub-score must also reach this, so that
   * Poisson-like traffic spread over the day (which RITA's duration and histogram
   * parts reward) is not called a beacon.
   */
  minTsScore: 0.75,
  /** Unique connection times needed (RITA: 4; stricter because captures are short). */
  minUniqueTimestamps: 6,
  /** RITA strobe limit: series this long are strobes, not beacons. */
  strobeLimit: 86_400,
  /**
   * Analysis window (RITA: 24 h). spoor scores consecutive windows of each pair's own activity
   * (the first starts at the pair's first connection) and keeps the best, so a beacon in a
   * capture taken weeks before the last one is still scored.
   */
  windowMs: 86_400_000,
  /**
   * A silence of at least this long in ALL connection records ends a stretch of evidence
   * (separate captures weeks apart). A window never extends past the end of the stretch it
   * starts in: what was not captured is not scored as absence.
   */
  coverageGapMs: 6 * 3_600_000,
  /** A single connection at least this long is reported (RITA's first long-connection threshold: 1 h). */
  longConnMs: 3_600_000,
  /** Cap on tracked pairs and per-pair connections. */
  maxPairs: 500_000,
  /** Cobalt Strike default profile http-get URIs. */
  csUris: ['/ca', '/dpixel', '/__utm.gif', '/pixel.gif', '/g.pixel', '/dot.gif', '/updates.rss', '/fwlink', '/cm', '/cx', '/pixel', '/match', '/visit.js', '/load', '/push', '/ptj', '/j.ad', '/ga.js', '/en_US/all.js', '/activity', '/IE9CompatViewList.xml'],
  /** Default teamserver certificate (serial 0x8BB00EE, SHA-256 87F2…390C). */
  csCertSerials: ['8bb00ee'],
  csCertSha256: ['87f2085c32b6a2cc709b365f55873e207a9caa10bffecf2fd16d3cf9d94d390c'],
  csJa3: ['72a589da586844d7f0818ce684948eea', 'a0e9f5d64349fb13191bc781f81f42e1'],
  csJa3s: ['b742b407517bac9536a77a7b0fee28e9'],
  /**
   * Known C2-framework client shapes in HTTP (method, path regex, User-Agent regex, request-header
   * names). These are reported even between internal peers (lab C2 servers often sit inside).
   */
  frameworkHttp: [
    { tool: 'Caldera Sandcat', method: 'POST', path: '^/beacon$', ua: 'Go-http-client' },
    { tool: 'Caldera Ragdoll', method: 'POST', path: '^/weather$', ua: 'python-requests' },
    { tool: 'Caldera agent download', method: 'POST', path: '^/file/download$', headers: ['file', 'platform'] },
    { tool: 'Caldera agent download', method: 'GET', path: '^/file/download$', headers: ['file', 'platform'] },
  ] as { tool: string; method?: string; path: string; ua?: string; headers?: string[] }[],
  /** Known C2-framework JSON in unrecognised TCP payloads (e.g. Caldera Manx agent check-in). */
  frameworkPayload: [{ tool: 'Caldera Manx', re: '"paw"\\s*:|"executors"\\s*:\\s*\\[?"?(?:sh|psh|cmd)' }] as { tool: string; re: string }[],
  /** Single-session indicators (c2indicators.ts): malware default certificates, HTTP implant check-ins. */
  ...indicatorDefaults,
};

/** One src → dst connection series; starts small (plain arrays) and moves to typed arrays as it grows. */
class Series {
  ts: number[] | Uint32Array = [];
  bytes: number[] | Float64Array = [];
  n = 0;
  count = 0;
  strobe = false;
  firstMs = Infinity;
  lastMs = -Infinity;
  maxDur = 0;
  maxDurRef?: EvidenceRef;
  ports: number[] = [];
  ev = new EvidenceSample(3, 3, 4);
  push(sec: number, b: number, limit: number): void {
    this.count++;
    if (this.strobe) return;
    if (this.n >= limit) {
      this.strobe = true;
      return;
    }
    const n = this.n;
    if (Array.isArray(this.ts)) {
      if (n < 64) {
        (this.ts as number[]).push(sec);
        (this.bytes as number[]).push(b);
        this.n++;
        return;
      }
      const t = new Uint32Array(256);
      t.set(this.ts);
      this.ts = t;
      const b2 = new Float64Array(256);
      b2.set(this.bytes as number[]);
      this.bytes = b2;
    } else if (n === this.ts.length) {
      const t = new Uint32Array(n * 2);
      t.set(this.ts);
      this.ts = t;
      const b2 = new Float64Array(n * 2);
      b2.set(this.bytes as Float64Array);
      this.bytes = b2;
    }
    (this.ts as Uint32Array)[n] = sec;
    (this.bytes as Float64Array)[n] = b;
    this.n++;
  }
  times(): ArrayLike<number> {
    return Array.isArray(this.ts) ? this.ts : this.ts.subarray(0, this.n);
  }
  sizes(): ArrayLike<number> {
    return Array.isArray(this.bytes) ? this.bytes : this.bytes.subarray(0, this.n);
  }
}

/** Distinct internal sources per destination, without a Set until there are two. */
class Sources {
  one: string;
  set?: Set<string>;
  constructor(first: string) {
    this.one = first;
  }
  add(s: string): void {
    if (s === this.one) return;
    if (!this.set) this.set = new Set([this.one]);
    if (this.set.size < 256) this.set.add(s);
  }
  get size(): number {
    return this.set ? this.set.size : 1;
  }
  values(limit: number): string[] {
    return this.set ? [...this.set].slice(0, limit) : [this.one];
  }
}

interface CsState {
  fw: Record<string, number>;
  get: number;
  post: number;
  cert: boolean;
  ja3: boolean;
  /** Malware family whose default certificate the server presented. */
  malCert?: string;
  noSni?: boolean;
  /** HTTP implant check-ins (c2indicators.ts). */
  checkins?: { n: number; kinds: Set<string>; strength: number; details: string[]; ok: number };
  uris: string[];
  ev: EvidenceRef[];
  first: number;
  last: number;
}

export const c2Detector: DetectorModule = {
  id: ID,
  title: { en: 'Command and control (beaconing)', zh: '远控通信（C2 心跳外联）' },
  attack: ['T1071', 'T1071.001', 'T1573'],
  defaults: c2Defaults,
  create(ctx: DetectorContext): Detector {
    const s = settingsFor(ctx, ID, c2Defaults);
    const allow = new Allowance({
      allowDomains: asStrList(s.allowDomains, c2Defaults.allowDomains),
      allowIps: asStrList(s.allowIps, []),
      allowCidrs: asStrList(s.allowCidrs, []),
      ignorePorts: asNumList(s.ignorePorts, c2Defaults.ignorePorts),
    });
    const scoreInternal = s.scoreInternalPeers === true;
    const strobeLimit = asNum(s.strobeLimit, 86_400);
    const pairs = new BoundedMap<string, Series>(asNum(s.maxPairs, 500_000));
    const cs = new BoundedMap<string, CsState>(50_000);
    const names = new BoundedMap<string, CappedSet<string>>(200_000);
    const dstSources = new Map<string, Sources>();
    const internalHosts = new CappedSet<string>(1_000_000);
    const csUris = new Set(asStrList(s.csUris, c2Defaults.csUris).map((u) => u.toLowerCase()));
    const csSerials = new Set(asStrList(s.csCertSerials, c2Defaults.csCertSerials).map(normHex));
    const csSha = new Set(asStrList(s.csCertSha256, c2Defaults.csCertSha256).map(normHex));
    const csJa3 = new Set(asStrList(s.csJa3, c2Defaults.csJa3));
    const csJa3s = new Set(asStrList(s.csJa3s, c2Defaults.csJa3s));
    const longMs = asNum(s.longConnMs, 3_600_000);
    const malCerts = new Map<string, string>();
    for (const m of (Array.isArray(s.malwareCerts) ? s.malwareCerts : indicatorDefaults.malwareCerts) as MalwareCert[])
      if (m && typeof m.subject === 'string' && typeof m.tool === 'string') malCerts.set(normSubject(m.subject), m.tool);
    const ciOpts = {
      minBlob: asNum(s.checkinMinBlob, indicatorDefaults.checkinMinBlob),
      benign: new Set(asStrList(s.benignBlobFields, indicatorDefaults.benignBlobFields).map((x) => x.toLowerCase())),
      webPorts: new Set(asNumList(s.webPorts, indicatorDefaults.webPorts)),
    };
    const fwHttp = (Array.isArray(s.frameworkHttp) ? s.frameworkHttp : []).flatMap((x) => {
      if (!x || typeof x.path !== 'string' || typeof x.tool !== 'string') return [];
      try {
        return [{ tool: x.tool, method: x.method?.toUpperCase(), path: new RegExp(x.path, 'i'), ua: x.ua ? new RegExp(x.ua, 'i') : undefined, headers: x.headers ?? [] }];
      } catch {
        return [];
      }
    });
    const fwPayload = (Array.isArray(s.frameworkPayload) ? s.frameworkPayload : []).flatMap((x) => {
      if (!x || typeof x.re !== 'string' || typeof x.tool !== 'string') return [];
      try {
        return [{ tool: x.tool, re: new RegExp(x.re, 'i') }];
      } catch {
        return [];
      }
    });
    let lastSrc = '';
    let lastSrcInternal = false;
    let minSec = Infinity;
    let maxSec = -Infinity;
    /** Evidence coverage: 15-min bins holding at least one connection record (bounded). */
    const COVER_BIN = 900;
    const covered = new Set<number>();
    let lastBin = NaN;
    const homeNet = ctx.homeNet;
    /** RITA's "sni" beacon type: src → server name (TLS SNI / HTTP Host), for C2 behind rotating addresses. */
    const sniPairs = new BoundedMap<string, Series & { ips?: string[] }>(100_000);
    const sniSources = new Map<string, Sources>();
    const uidSlot = new BoundedMap<string, { ser: Series; i: number }>(200_000);
    /** Originator bytes of recent outbound connections by uid, for protocol records that arrive after their conn record. */
    const connBytes = new BoundedMap<string, number>(100_000);
    const trackSni = (e: SpoorEvent, src: string, dst: string, name: string, ts: number) => {
      if (!homeNet.isInternal(src)) return;
      if (!scoreInternal && homeNet.isInternal(dst)) return;
      const n = name.toLowerCase().replace(/\.$/, '');
      if (!n || /^[\d.:]+$/.test(n)) return;
      const key = src + '>' + n;
      const ser = sniPairs.getOrCreate(key, () => new Series());
      const uid = e['conn.uid'];
      if (typeof uid === 'string' && uidSlot.get(uid)) return; // one entry per connection (HTTP keep-alive)
      const ss = sniSources.get(n);
      if (ss) ss.add(src);
      else if (sniSources.size < 200_000) sniSources.set(n, new Sources(src));
      const i = ser.n;
      ser.push(Math.floor(ts / 1000), typeof uid === 'string' ? connBytes.get(uid) ?? 0 : 0, strobeLimit);
      if (ts < ser.firstMs) ser.firstMs = ts;
      if (ts > ser.lastMs) ser.lastMs = ts;
      if (!ser.ips) ser.ips = [];
      if (ser.ips.length < 8 && !ser.ips.includes(dst)) ser.ips.push(dst);
      ser.ev.addEvent(e);
      if (typeof uid === 'string' && ser.n > i) uidSlot.getOrCreate(uid, () => ({ ser, i }));
    };
    const maxPairs = asNum(s.maxPairs, 500_000);
    const addName = (ip: string, name: string) => {
      if (!ip || !name || name === ip) return;
      names.getOrCreate(ip, () => new CappedSet(8)).add(name.toLowerCase());
    };
    const csFor = (src: string, dst: string, ts: number): CsState => {
      const c = cs.getOrCreate(`${src}>${dst}`, () => ({ fw: {}, get: 0, post: 0, cert: false, ja3: false, uris: [], ev: [], first: ts, last: ts }));
      if (ts < c.first) c.first = ts;
      if (ts > c.last) c.last = ts;
      return c;
    };

    return {
      id: ID,
      datasets: ['conn', 'http', 'tls', 'dns', 'payload'],
      observe(e: SpoorEvent): void {
        const ds = e['event.dataset'];
        const src = e['source.ip'];
        const dst = e['destination.ip'];
        const ts = e['@timestamp'];
        if (typeof src !== 'string' || typeof dst !== 'string' || typeof ts !== 'number') return;
        if (ds === 'conn') {
          const sec = Math.floor(ts / 1000);
          if (sec < minSec) minSec = sec;
          if (sec > maxSec) maxSec = sec;
          const bin = Math.floor(sec / COVER_BIN);
          if (bin !== lastBin && covered.size < 4_000_000) {
            covered.add(bin);
            lastBin = bin;
          }
          if (uidSlot.size) {
            const uid = e['conn.uid'];
            const slot = typeof uid === 'string' ? uidSlot.get(uid) : undefined;
            if (slot) {
              const ib0 = e['source.ip_bytes'];
              const sb0 = e['source.bytes'];
              slot.ser.bytes[slot.i] = typeof ib0 === 'number' ? ib0 : typeof sb0 === 'number' ? sb0 : 0;
            }
          }
          // consecutive records mostly share their originator: judge it once per run of records
          if (src !== lastSrc) {
            lastSrc = src;
            lastSrcInternal = homeNet.isInternal(src);
            if (lastSrcInternal) internalHosts.add(src);
          }
          if (!lastSrcInternal) return;
          if (!scoreInternal && homeNet.isInternal(dst)) return;
          const port = e['destination.port'];
          if (typeof port === 'number' && allow.ports.has(port)) return;
          const key = src + '>' + dst;
          let ser = pairs.map.get(key);
          if (ser === undefined) {
            // an unanswered attempt does not open a series (scans would otherwise create one per probe);
            // it still counts in a series that answered connections opened
            const st = e['conn.state'];
            if (st === 'S0' || st === 'REJ' || st === 'RSTOS0' || st === 'RSTRH' || st === 'SH' || st === 'SHR') return;
            if (pairs.map.size >= maxPairs) return;
            ser = new Series();
            pairs.map.set(key, ser);
          }
          if (ser.count === 0 || ser.n < 2) {
            const ds0 = dstSources.get(dst);
            if (ds0) ds0.add(src);
            else if (dstSources.size < 1_000_000) dstSources.set(dst, new Sources(src));
          }
          const ib = e['source.ip_bytes'];
          const sb = e['source.bytes'];
          const cu = e['conn.uid'];
          if (typeof cu === 'string') {
            if (connBytes.map.size >= 100_000) connBytes.map.delete(connBytes.map.keys().next().value as string);
            connBytes.map.set(cu, typeof ib === 'number' ? ib : typeof sb === 'number' ? sb : 0);
          }
          ser.push(sec, typeof ib === 'number' ? ib : typeof sb === 'number' ? sb : 0, strobeLimit);
          if (ts < ser.firstMs) ser.firstMs = ts;
          if (ts > ser.lastMs) ser.lastMs = ts;
          if (typeof port === 'number' && ser.ports.length < 8 && !ser.ports.includes(port)) ser.ports.push(port);
          const dur = e['event.duration'];
          if (typeof dur === 'number' && dur > ser.maxDur) {
            ser.maxDur = dur;
            if (dur >= longMs) ser.maxDurRef = refOf(e);
          }
          ser.ev.addEvent(e);
          return;
        }
        if (ds === 'payload') {
          const p = str(e, 'payload.orig');
          if (!p) return;
          for (const f of fwPayload)
            if (f.re.test(p)) {
              const c = csFor(src, dst, ts);
              c.fw[f.tool] = (c.fw[f.tool] ?? 0) + 1;
              if (c.ev.length < 4) c.ev.push(refOf(e));
            }
          return;
        }
        if (ds === 'dns') {
          const q = str(e, 'dns.question.name');
          const ips = e['dns.resolved_ip'];
          if (q && Array.isArray(ips)) for (const ip of ips.slice(0, 16)) if (typeof ip === 'string') addName(ip, q);
          return;
        }
        if (ds === 'tls') {
          const sni = str(e, 'tls.client.server_name');
          if (sni) {
            addName(dst, sni);
            trackSni(e, src, dst, sni, ts);
          }
          const serial = str(e, 'tls.server.x509.serial_number');
          const sha = str(e, 'tls.server.hash.sha256');
          const ja3 = str(e, 'tls.client.ja3');
          const ja3s = str(e, 'tls.server.ja3s');
          if (malCerts.size && homeNet.isInternal(src) && !homeNet.isInternal(dst)) {
            const fam = malwareCertificate(e, malCerts);
            if (fam) {
              const c = csFor(src, dst, ts);
              c.malCert = fam;
              if (!sni) c.noSni = true;
              if (c.ev.length < 4) c.ev.push(refOf(e));
            }
          }
          const certHit = (serial && csSerials.has(normHex(serial))) || (sha && csSha.has(normHex(sha)));
          const ja3Hit = ja3 && ja3s && csJa3.has(ja3) && csJa3s.has(ja3s);
          if (certHit || ja3Hit) {
            const c = csFor(src, dst, ts);
            if (certHit) c.cert = true;
            if (ja3Hit) c.ja3 = true;
            if (c.ev.length < 4) c.ev.push(refOf(e));
          }
          return;
        }
        if (ds === 'http') {
          const host = str(e, 'url.domain');
          if (host) {
            addName(dst, host.replace(/:\d+$/, ''));
            trackSni(e, src, dst, host.replace(/:\d+$/, ''), ts);
          }
          const method = (str(e, 'http.request.method') ?? '').toUpperCase();
          const uri = str(e, 'url.original') ?? '';
          if ((method === 'POST' || uri.includes('?')) && homeNet.isInternal(src) && !homeNet.isInternal(dst)) {
            const hit: CheckinHit | undefined = checkinIndicators(e, ciOpts);
            if (hit) {
              const c = csFor(src, dst, ts);
              const ci = (c.checkins ??= { n: 0, kinds: new Set(), strength: 0, details: [], ok: 0 });
              ci.n++;
              for (const k of hit.kinds) ci.kinds.add(k);
              if (hit.strength > ci.strength) ci.strength = hit.strength;
              if (ci.details.length < 3) ci.details.push(hit.detail);
              const st = e['http.response.status_code'];
              if (typeof st === 'number' && st >= 200 && st < 300) ci.ok++;
              if (c.ev.length < 4) c.ev.push(refOf(e));
            }
          }
          const path = uriPath(uri).toLowerCase();
          if (fwHttp.length) {
            const ua = str(e, 'user_agent.original') ?? header(e, 'request', 'user-agent') ?? '';
            const hs = e['http.request.headers'] as Record<string, unknown> | undefined;
            for (const f of fwHttp) {
              if (f.method && f.method !== method) continue;
              if (!f.path.test(path)) continue;
              if (f.ua && !f.ua.test(ua)) continue;
              if (f.headers.length && !(hs && f.headers.every((h) => h in hs))) continue;
              const c = csFor(src, dst, ts);
              c.fw[f.tool] = (c.fw[f.tool] ?? 0) + 1;
              if (c.ev.length < 4) c.ev.push(refOf(e));
            }
          }
          if (method === 'GET' && csUris.has(path)) {
            const cookie = header(e, 'request', 'cookie') ?? '';
            if (/^[A-Za-z0-9+/]{40,}={0,2}$/.test(cookie.trim())) {
              const c = csFor(src, dst, ts);
              c.get++;
              if (c.uris.length < 5 && !c.uris.includes(path)) c.uris.push(path);
              if (c.ev.length < 4) c.ev.push(refOf(e));
            }
          } else if (method === 'POST' && /^\/submit\.php$/.test(path) && /[?&]id=\d+/.test(uri)) {
            const c = csFor(src, dst, ts);
            c.post++;
            if (c.uris.length < 5 && !c.uris.includes('/submit.php?id=')) c.uris.push('/submit.php?id=');
            if (c.ev.length < 4) c.ev.push(refOf(e));
          }
        }
      },
      finish(): Finding[] {
        const out: Finding[] = [];
        const winMax = Number.isFinite(maxSec) ? maxSec : 0;
        const winMin = Number.isFinite(minSec) ? minSec : 0;
        const winSec = Math.max(1, Math.floor(asNum(s.windowMs, 86_400_000) / 1000));
        const segs = coverageSegments(covered, COVER_BIN, asNum(s.coverageGapMs, 6 * 3_600_000) / 1000, winMax);
        const minScore = asNum(s.minScore, 0.7);
        const minTs = asNum(s.minTsScore, 0.75);
        const opts = { ...DEFAULT_BEACON, minUniqueTimestamps: asNum(s.minUniqueTimestamps, 6), strobeLimit };
        const nInternal = internalHosts.size;
        const keys = cs.map.size ? new Set<string>([...pairs.map.keys(), ...cs.map.keys()]) : pairs.map.keys();
        for (const key of keys) {
          const gt = key.indexOf('>');
          const src = key.slice(0, gt);
          const dst = key.slice(gt + 1);
          const ser = pairs.get(key);
          const c = cs.get(key);
          const fwTools = c ? Object.keys(c.fw) : [];
          const csOwn = !!c && (c.cert || c.post > 0 || c.get >= 3);
          const csStrong = csOwn || fwTools.length > 0;
          const csWeak = !!c && (c.ja3 || c.get > 0);
          // single-session indicators: a malware default certificate, or an implant check-in
          const ci = c?.checkins;
          const indicator = !!c && (!!c.malCert || !!ci);
          if (!csStrong && !indicator && !(ser && (ser.n >= 4 || ser.maxDur >= longMs))) continue;
          let beacon: BeaconResult | null = null;
          // a series across many destination ports is a scan/strobe, not a beacon
          let slice: { from: number; to: number; slices: number } | undefined;
          if (ser && !ser.strobe && ser.n >= 4 && winMax > winMin && ser.ports.length <= 5) {
            const best = bestWindow(ser.times(), ser.sizes(), ser.n, winSec, segs, opts, minScore, minTs);
            if (best) {
              beacon = best.b;
              slice = { from: best.from, to: best.to, slices: best.slices };
            }
          }
          const isBeacon = !!beacon && beacon.score >= minScore && beacon.tsScore >= minTs;
          const bulk = beacon && beacon.medianBytes >= asNum(s.bulkBytes, 1_048_576);
          const long = ser && ser.maxDur >= longMs;
          if (!isBeacon && !csStrong && !long && !indicator) continue;
          const nm = names.get(dst)?.values(8) ?? [];
          const allowed = allow.why(dst, nm);
          const peers = dstSources.get(dst);
          const prevalent = peers && peers.size >= asNum(s.prevalenceMinHosts, 5) && peers.size >= asNum(s.prevalenceFraction, 0.5) * nInternal;
          // suppression (strong Cobalt Strike indicators are never suppressed)
          // (a malware certificate is never suppressed; a check-in only by an explicit allowance)
          const suppressedBy =
            csStrong || c?.malCert ? undefined : indicator && !isBeacon ? allowed : allowed ?? (prevalent ? `common destination: ${peers!.size} of ${nInternal} internal hosts contact it` : bulk ? 'bulk transfers (backup-like)' : undefined);
          if (suppressedBy) continue;
          const reasons: string[] = [];
          if (isBeacon) reasons.push('beacon-score');
          if (csOwn) reasons.push('cobalt-strike-default-profile');
          if (fwTools.length) reasons.push('c2-framework-traffic');
          else if (csWeak) reasons.push('cobalt-strike-weak-indicator');
          if (long) reasons.push('long-connection');
          if (c?.malCert) reasons.push('malware-default-certificate');
          if (ci) reasons.push(...[...ci.kinds].map((k) => `checkin-${k}`));
          // a check-in is judged compromised when two independent signs agree (or it repeats)
          const ciStrong = !!ci && (ci.strength >= 2 || ci.n >= 3);
          const compromised = isBeacon || csStrong || !!c?.malCert || ciStrong;
          let severity: Severity = 'low';
          let confidence = 0.3;
          if (isBeacon) {
            const cat = beaconCategory(beacon!.score);
            severity = cat === 'high' ? 'high' : 'medium';
            confidence = Math.min(0.95, 0.55 + (beacon!.score - 0.7) * 1.3);
          }
          if (csStrong) {
            severity = 'critical';
            confidence = Math.max(confidence, 0.85) + (isBeacon ? 0.05 : 0);
          } else if (csWeak && isBeacon) confidence = Math.min(0.97, confidence + 0.1);
          if (c?.malCert) {
            severity = 'critical';
            confidence = Math.max(confidence, c.noSni ? 0.85 : 0.8);
          }
          if (ci) {
            if (severity !== 'critical') severity = ciStrong ? 'high' : 'medium';
            confidence = Math.max(confidence, Math.min(0.85, 0.45 + 0.1 * ci.strength + (ci.n >= 3 ? 0.1 : 0)));
          }
          confidence = Math.round(Math.min(0.99, confidence) * 100) / 100;
          const ev = ser ? ser.ev : new EvidenceSample(3, 3, 4);
          if (c) for (const r of c.ev) ev.key(r);
          if (ser?.maxDurRef) ev.key(ser.maxDurRef);
          const others = peers ? peers.values(10).filter((x) => x !== src) : [];
          const peerName = nm.length ? ` (${nm.slice(0, 2).join(', ')})` : '';
          const tool = fwTools.length ? fwTools.join(', ') : csOwn || (csWeak && isBeacon) ? 'Cobalt Strike' : c?.malCert;
          const indEn = [
            c?.malCert ? `the server presented the ${c.malCert} C2 default certificate (self-signed${c.noSni ? ', no SNI requested' : ''})` : '',
            ci ? `${ci.n} HTTP request(s) shaped like an implant check-in (${ci.details.join(' | ')})` : '',
          ].filter(Boolean).join('; ');
          const indZh = [
            c?.malCert ? `服务器出示 ${c.malCert} 远控默认证书（自签名${c.noSni ? '，客户端未携带 SNI' : ''}）` : '',
            ci ? `${ci.n} 个 HTTP 请求符合木马上线特征（${[...ci.kinds].map((k) => (k === 'victim-identity' ? '上报主机名、用户名与机器 GUID' : '表单中提交大段编码密文')).join('、')}）` : '',
          ].filter(Boolean).join('；');
          const first = Math.min(ser?.firstMs ?? Infinity, c?.first ?? Infinity);
          const last = Math.max(ser?.lastMs ?? -Infinity, c?.last ?? -Infinity);
          const b = beacon;
          const intervalTxt = b ? `${b.medianInterval} s` : '';
          let en: string;
          let zh: string;
          if (compromised) {
            en = `${src} ${isBeacon ? `beacons to ${dst}${peerName}: ${ser!.count} connections, median interval ${intervalTxt}, beacon score ${b!.score} (RITA: ts ${b!.tsScore}, size ${b!.dsScore}, duration ${b!.durScore}, histogram ${b!.histScore})` : `talks to ${dst}${peerName}`}${indEn ? `; ${indEn}` : ''}${fwTools.length ? `; traffic matches ${fwTools.join(', ')}` : ''}${csOwn ? `; traffic matches the Cobalt Strike default profile (${[c!.cert ? 'default certificate' : '', c!.get ? `${c!.get} GET ${c!.uris.filter((u) => u !== '/submit.php?id=').join(' ')} with cookie metadata` : '', c!.post ? `${c!.post} POST /submit.php?id=` : ''].filter(Boolean).join(', ')})` : ''}. ${src} is likely compromised; ${dst} is a C2 candidate.${others.length ? ` Other internal hosts contacting it: ${others.join(', ')}.` : ''}`;
            zh = `${src} 向 ${dst}${peerName} ${isBeacon ? '周期性外联' : '通信'}${isBeacon ? `：共 ${ser!.count} 次连接，间隔中位数 ${b ? `${b.medianInterval} 秒` : ''}，心跳评分 ${b!.score}` : ''}${indZh ? `，${indZh}` : ''}${fwTools.length ? `，流量符合 ${fwTools.join('、')} 远控特征` : ''}${csOwn ? `，流量符合 Cobalt Strike 默认配置特征` : ''}。判断 ${src} 已失陷，${dst} 疑似 C2 服务器。${others.length ? `其他与其通信的内网主机：${others.join('、')}。` : ''}`;
          } else if (indicator) {
            en = `${src} sent ${dst}${peerName} ${indEn}. This may be an implant checking in; ${dst} is a C2 candidate (one sign only: confirm on the host).`;
            zh = `${src} 访问 ${dst}${peerName}：${indZh}。疑似木马上线通信，${dst} 疑似 C2 服务器（仅单一特征，需在主机上确认）。`;
          } else {
            en = `Long connection from ${src} to ${dst}${peerName}: ${Math.round(ser!.maxDur / 60000)} min.`;
            zh = `${src} 与 ${dst}${peerName} 存在长连接，持续 ${Math.round(ser!.maxDur / 60000)} 分钟。`;
          }
          out.push({
            id: '',
            detector: ID,
            attack: c?.malCert ? ['T1071.001', 'T1573.002'] : ci ? ['T1071.001', 'T1132.001'] : tool ? ['T1071.001', 'T1573'] : ['T1071'],
            severity,
            outcome: compromised ? 'compromised' : indicator ? (ci && ci.ok > 0 ? 'succeeded' : 'attempt') : 'attempt',
            confidence,
            first: Number.isFinite(first) ? first : 0,
            last: Number.isFinite(last) ? last : 0,
            src,
            dst,
            host: src,
            summary: { en, zh },
            evidence: ev.refs(),
            facts: {
              c2: dst,
              c2Names: nm.length ? nm : undefined,
              reasons,
              connections: ser?.count ?? 0,
              ports: ser?.ports,
              beacon: b ?? undefined,
              beaconWindow: slice ? { from: new Date(slice.from * 1000).toISOString(), to: new Date(slice.to * 1000).toISOString(), windows: slice.slices } : undefined,
              beaconCategory: b ? beaconCategory(b.score) : undefined,
              strobe: ser?.strobe || undefined,
              frameworks: fwTools.length ? c!.fw : undefined,
              cobaltStrike: c && csOwn ? { getWithCookie: c.get, submitPost: c.post, defaultCert: c.cert, ja3Pair: c.ja3, uris: c.uris } : undefined,
              malwareCertificate: c?.malCert ? { family: c.malCert, noSni: !!c.noSni } : undefined,
              checkin: ci ? { requests: ci.n, kinds: [...ci.kinds], strength: ci.strength, answered2xx: ci.ok, samples: ci.details } : undefined,
              tool,
              longestConnectionMs: ser?.maxDur,
              otherInternalSources: others.length ? others : undefined,
            },
          });
        }
        // server-name series (RITA "sni" beacons): only where the address series did not already report the host
        const reported = new Set(out.filter((f) => f.outcome === 'compromised').map((f) => f.src + '>' + f.dst));
        for (const [key, ser] of sniPairs.map) {
          if (ser.strobe || ser.n < 4 || winMax <= winMin) continue;
          const gt = key.indexOf('>');
          const src = key.slice(0, gt);
          const name = key.slice(gt + 1);
          const ips = ser.ips ?? [];
          if (ips.some((ip) => reported.has(src + '>' + ip))) continue;
          if (allow.why(ips[0] ?? '', [name])) continue;
          const peers = sniSources.get(name);
          if (peers && peers.size >= asNum(s.prevalenceMinHosts, 5) && peers.size >= asNum(s.prevalenceFraction, 0.5) * nInternal) continue;
          const best = bestWindow(ser.times(), ser.sizes(), ser.n, winSec, segs, opts, minScore, minTs);
          const b = best?.b;
          if (!b || b.score < minScore || b.tsScore < minTs) continue;
          if (b.medianBytes >= asNum(s.bulkBytes, 1_048_576)) continue;
          const cat = beaconCategory(b.score);
          out.push({
            id: '',
            detector: ID,
            attack: ['T1071'],
            severity: cat === 'high' ? 'high' : 'medium',
            outcome: 'compromised',
            confidence: Math.round(Math.min(0.9, 0.5 + (b.score - 0.7) * 1.3) * 100) / 100,
            first: ser.firstMs,
            last: ser.lastMs,
            src,
            dst: ips[0],
            host: src,
            summary: {
              en: `${src} beacons to ${name} (addresses ${ips.join(', ')}): ${ser.count} connections, median interval ${b.medianInterval} s, beacon score ${b.score} (RITA sni: ts ${b.tsScore}, size ${b.dsScore}, duration ${b.durScore}, histogram ${b.histScore}). ${src} is likely compromised; ${name} is a C2 candidate.`,
              zh: `${src} 向域名 ${name}（地址 ${ips.join('、')}）周期性外联：共 ${ser.count} 次连接，间隔中位数 ${b.medianInterval} 秒，心跳评分 ${b.score}。判断 ${src} 已失陷，${name} 疑似 C2 域名。`,
            },
            evidence: ser.ev.refs(),
            facts: { c2: name, c2Ips: ips, reasons: ['beacon-score-sni'], connections: ser.count, beacon: b, beaconCategory: cat },
          });
        }
        return out;
      },
    };
  },
};

/** Stretches of evidence [start, end] (seconds): covered bins separated by less than `gapSec` of silence. */
export function coverageSegments(covered: Set<number>, binSec: number, gapSec: number, maxSec: number): { start: number[]; end: number[] } {
  const bins = Float64Array.from(covered).sort();
  const gapBins = Math.max(1, Math.ceil(gapSec / binSec));
  const start: number[] = [];
  const end: number[] = [];
  for (let i = 0; i < bins.length; i++) {
    const e = Math.min((bins[i] + 1) * binSec, Number.isFinite(maxSec) ? maxSec : Infinity);
    if (i === 0 || bins[i] - bins[i - 1] > gapBins) {
      start.push(bins[i] * binSec);
      end.push(e);
    } else end[end.length - 1] = e;
  }
  return { start, end };
}

/**
 * Score a series over consecutive windows of its own activity: each window starts at the
 * first connection not yet scored and lasts `winSec` (RITA's 24 h), cut at the end of the
 * stretch of evidence it starts in. Returns the best window: the highest score among those
 * that pass (score and interval score), else the highest score.
 */
export function bestWindow(
  times: ArrayLike<number>,
  sizes: ArrayLike<number>,
  n: number,
  winSec: number,
  segs: { start: number[]; end: number[] },
  opts: BeaconOptions,
  minScore: number,
  minTs: number,
): { b: BeaconResult; from: number; to: number; slices: number } | null {
  let t: ArrayLike<number> = times;
  let by: ArrayLike<number> = sizes;
  let sorted = true;
  for (let i = 1; i < n; i++)
    if (times[i] < times[i - 1]) {
      sorted = false;
      break;
    }
  if (!sorted) {
    const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => times[a] - times[b]);
    t = idx.map((i) => times[i]);
    by = idx.map((i) => sizes[i]);
  }
  const segEnd = (sec: number): number => {
    // last segment starting at or before sec
    let lo = 0;
    let hi = segs.start.length - 1;
    let k = -1;
    while (lo <= hi) {
      const m = (lo + hi) >> 1;
      if (segs.start[m] <= sec) {
        k = m;
        lo = m + 1;
      } else hi = m - 1;
    }
    return k >= 0 && segs.end[k] >= sec ? segs.end[k] : Infinity;
  };
  let best: { b: BeaconResult; from: number; to: number; pass: boolean } | null = null;
  let slices = 0;
  let i = 0;
  while (i < n) {
    const a = t[i];
    let end = Math.min(a + winSec, segEnd(a));
    let j = i;
    while (j < n && t[j] <= end) j++;
    if (j - i >= 4) {
      if (!Number.isFinite(end) || end <= a) end = t[j - 1];
      slices++;
      const whole = i === 0 && j === n;
      const ts = whole ? t : Array.prototype.slice.call(t, i, j);
      const bs = whole ? by : Array.prototype.slice.call(by, i, j);
      const b = end > a ? scoreBeacon(ts, bs, a, end, opts) : null;
      if (b) {
        const pass = b.score >= minScore && b.tsScore >= minTs;
        if (!best || (pass && !best.pass) || (pass === best.pass && b.score > best.b.score)) best = { b, from: a, to: end, pass };
      }
    }
    i = j;
  }
  return best ? { b: best.b, from: best.from, to: best.to, slices } : null;
}

function normHex(s: string): string {
  return s.toLowerCase().replace(/^0x/, '').replace(/[^0-9a-f]/g, '').replace(/^0+/, '');
}
