/**
 * net.scan — horizontal, vertical and block scans (T1046 / T1595) from failed or
 * payload-less connection attempts, with scanner-tool recognition from the first
 * SYN (masscan, ZMap, nmap). An internal host scanning outward is reported as
 * compromised.
 */
import type { SpoorEvent } from '../../core/event.js';
import type { Detector, DetectorContext, DetectorModule, Finding } from '../../core/finding.js';
import { settingsFor } from '../../core/finding.js';
import { ipv4ToInt } from '../../core/homenet.js';
import { asNum, CappedSet, EvidenceSample, num, refOf, str } from './util.js';

const ID = 'net.scan';

export const scanDefaults = {
  /** Unique (host, port) failures from an external source (bro-simple-scan `scan_threshold`). */
  remoteUniqueTargets: 25,
  /** Unique (host, port) failures from an internal source (bro-simple-scan `local_scan_threshold`). */
  localUniqueTargets: 250,
  /** Hosts on one port ("knock-knock", bro-simple-scan 20) — external sources. */
  remoteHostsOnPort: 20,
  /** Hosts on one port — internal sources (a sweep of a /24 is ≥ 50). */
  localHostsOnPort: 50,
  /** Ports on one host (Zeek scan.zeek Port_Scan 15) — external sources. */
  remotePortsOnHost: 15,
  /** Ports on one host — internal sources. */
  localPortsOnHost: 100,
  /** A source is forgotten after this long without a probe (bro-simple-scan: 15 min). */
  idleMs: 15 * 60_000,
  /** Per-source cap on remembered unique targets (bounded state). */
  maxTargetsPerSource: 4096,
  /** Cap on tracked sources. */
  maxSources: 100_000,
  /** Fraction of a source's SYNs that must carry a tool fingerprint to name the tool. */
  toolFraction: 0.6,
  /**
   * Distinct ports probed with stealth packets (FIN, NULL or Xmas: no SYN, no payload; nmap -sF/-sN/-sX)
   * from one source. No TCP stack opens or closes a connection that way, so a handful is a scan.
   */
  stealthPorts: 3,
};

/**
 * Stealth probe (nmap -sF / -sN / -sX and kin): the originator never sent a SYN, an ACK or
 * payload, only a FIN (FIN and Xmas probes both show as Zeek history `F`) or a packet with
 * no flags at all (no originator letter); the responder at most reset it. A capture that
 * starts mid-connection shows ACKs or data from the originator, so it does not qualify.
 */
export function stealthProbe(e: SpoorEvent): 'fin' | 'null' | undefined {
  if (e['network.transport'] !== 'tcp') return undefined;
  const h = e['conn.history'];
  if (typeof h !== 'string' || h.length > 3) return undefined;
  if ((num(e, 'source.bytes') ?? 0) !== 0 || (num(e, 'destination.bytes') ?? 0) !== 0) return undefined;
  const op = num(e, 'source.packets');
  if (op !== undefined && (op < 1 || op > 3)) return undefined;
  let fin = false;
  for (let i = 0; i < h.length; i++) {
    const c = h.charCodeAt(i);
    if (c === 70 /* F */) fin = true;
    else if (c !== 114 /* r */ && c !== 94 /* ^ */) return undefined;
  }
  if (fin) return 'fin';
  // NULL probe: the originator's packet left no letter; only the responder's reset did
  return h.includes('r') ? 'null' : undefined;
}

/** Connection states that mean "no session" (Zeek conn_state). */
const FAILED = new Set(['S0', 'REJ', 'RSTOS0', 'RSTRH', 'SH', 'SHR', 'OTH']);

/** Is this connection a probe: failed, or reset/closed without any payload? */
export function isProbe(e: SpoorEvent): boolean {
  const state = str(e, 'conn.state');
  if (!state) return false;
  if (FAILED.has(state)) return true;
  if (state === 'RSTO' || state === 'RSTR' || state === 'S1' || state === 'SF' || state === 'S2' || state === 'S3') {
    const ob = num(e, 'source.bytes') ?? 0;
    const rb = num(e, 'destination.bytes') ?? 0;
    if (ob === 0 && rb === 0 && (state === 'RSTO' || state === 'RSTR')) return true;
  }
  return false;
}

/** Scanner fingerprint of one originator SYN: 'masscan' | 'zmap' | 'nmap' | undefined. */
export function toolFingerprint(e: SpoorEvent): 'masscan' | 'zmap' | 'nmap' | undefined {
  const ttl = num(e, 'conn.orig_ttl');
  const win = num(e, 'conn.orig_window');
  const ipid = num(e, 'conn.orig_ipid');
  const seq = num(e, 'conn.orig_seq');
  if (ipid === 54321) return 'zmap';
  const dst = str(e, 'destination.ip');
  const dport = num(e, 'destination.port');
  if (ipid !== undefined && seq !== undefined && dst && dport !== undefined) {
    const ip = ipv4ToInt(dst);
    if (!Number.isNaN(ip) && win === 1024 && (((ip ^ dport ^ seq) & 0xffff) >>> 0) === ipid) return 'masscan';
  }
  // nmap raw SYN probes use windows 1024/2048/3072/4096 and TTL ≤ 64 at the sender
  if (win !== undefined && (win === 1024 || win === 2048 || win === 3072 || win === 4096) && (ttl === undefined || ttl <= 64)) return 'nmap';
  return undefined;
}

interface SourceState {
  src: string;
  first: number;
  last: number;
  pairs: CappedSet<string | number>;
  hostsByPort: Map<number, CappedSet<string>>;
  portsByHost: Map<string, CappedSet<number>>;
  hosts: CappedSet<string>;
  ports: CappedSet<number>;
  attempts: number;
  open: CappedSet<string>;
  closed: number;
  filtered: number;
  syns: number;
  tools: Record<string, number>;
  outside: number;
  inside: number;
  ev: EvidenceSample;
  /** Distinct ports hit by stealth (FIN/NULL/Xmas) probes, and how many of each kind. */
  stealth?: { ports: CappedSet<number>; fin: number; null: number };
}

export const scanDetector: DetectorModule = {
  id: ID,
  title: { en: 'Network scanning', zh: '网络扫描探测' },
  attack: ['T1046', 'T1595'],
  defaults: scanDefaults,
  create(ctx: DetectorContext): Detector {
    const s = settingsFor(ctx, ID, scanDefaults);
    const cap = asNum(s.maxTargetsPerSource, 4096);
    const findings: Finding[] = [];
    const sources = new Map<string, SourceState>();
    const maxSources = asNum(s.maxSources, 100_000);

    const close = (st: SourceState): void => {
      const f = evaluate(st);
      if (f) findings.push(f);
    };

    const evaluate = (st: SourceState): Finding | null => {
      const internal = ctx.homeNet.isInternal(st.src);
      const uniq = internal ? asNum(s.localUniqueTargets, 250) : asNum(s.remoteUniqueTargets, 25);
      const hop = internal ? asNum(s.localHostsOnPort, 50) : asNum(s.remoteHostsOnPort, 20);
      const poh = internal ? asNum(s.localPortsOnHost, 100) : asNum(s.remotePortsOnHost, 15);
      let maxHostsOnPort = 0;
      let topPort = -1;
      for (const [p, hs] of st.hostsByPort) if (hs.size > maxHostsOnPort) ((maxHostsOnPort = hs.size), (topPort = p));
      let maxPortsOnHost = 0;
      let topHost = '';
      for (const [h, ps] of st.portsByHost) if (ps.size > maxPortsOnHost) ((maxPortsOnHost = ps.size), (topHost = h));
      const reasons: string[] = [];
      if (st.pairs.size >= uniq) reasons.push(`unique-targets>=${uniq}`);
      if (maxHostsOnPort >= hop) reasons.push(`hosts-on-port>=${hop}`);
      if (maxPortsOnHost >= poh) reasons.push(`ports-on-host>=${poh}`);
      const stealthMin = asNum(s.stealthPorts, 3);
      if (st.stealth && stealthMin > 0 && st.stealth.ports.size >= stealthMin) reasons.push(`stealth-probes>=${stealthMin}`);
      if (reasons.length === 0) return null;

      const nHosts = st.hosts.size;
      const nPorts = st.ports.size;
      const kind = nPorts <= 5 ? 'horizontal' : nHosts <= 5 ? 'vertical' : 'block';
      const direction = internal ? (st.outside > st.inside ? 'outbound' : 'internal') : st.inside > 0 ? 'inbound' : 'external';
      let tool: string | undefined;
      for (const [t, c] of Object.entries(st.tools)) if (st.syns > 0 && c / st.syns >= asNum(s.toolFraction, 0.6)) tool = t;
      const compromised = direction === 'outbound';
      const severity = compromised ? 'high' : direction === 'inbound' ? 'medium' : direction === 'internal' ? 'medium' : 'low';
      const confidence = Math.min(0.99, 0.6 + 0.1 * reasons.length + (tool ? 0.1 : 0) + (st.pairs.size >= 4 * uniq ? 0.1 : 0));
      const kindZh = kind === 'horizontal' ? '横向（多主机同端口）' : kind === 'vertical' ? '纵向（单主机多端口）' : '块状（多主机多端口）';
      const dirZh = { outbound: '由内向外', inbound: '由外向内', internal: '内网', external: '外部' }[direction];
      const targetEn = kind === 'vertical' ? `host ${topHost}` : kind === 'horizontal' ? `${nHosts} hosts on port ${topPort}` : `${nHosts} hosts × ${nPorts} ports`;
      const targetZh = kind === 'vertical' ? `主机 ${topHost}` : kind === 'horizontal' ? `${nHosts} 台主机的 ${topPort} 端口` : `${nHosts} 台主机、${nPorts} 个端口`;
      const stealthEn = st.stealth ? ` ${st.stealth.fin + st.stealth.null} stealth probe(s) without a SYN (FIN/Xmas ${st.stealth.fin}, NULL ${st.stealth.null}) on ${st.stealth.ports.size} port(s): no TCP stack sends these on its own.` : '';
      const stealthZh = st.stealth ? `其中 ${st.stealth.fin + st.stealth.null} 个为不带 SYN 的隐蔽探测包（FIN/Xmas ${st.stealth.fin} 个，NULL ${st.stealth.null} 个，涉及 ${st.stealth.ports.size} 个端口），正常 TCP 通信不会产生此类报文。` : '';
      const toolEn = (tool ? ` Packets match ${tool}.` : '') + stealthEn;
      const toolZh = (tool ? `数据包特征与 ${tool} 吻合。` : '') + stealthZh;
      const sumEn = compromised
        ? `Internal host ${st.src} scanned outward (${kind} scan of ${targetEn}; ${st.attempts} probes, ${st.pairs.size}${st.pairs.overflow ? '+' : ''} unique targets).${toolEn} An internal host scanning the Internet is likely compromised.`
        : `${st.src} ran a ${kind} scan (${direction}) of ${targetEn}: ${st.attempts} probes, ${st.pairs.size}${st.pairs.overflow ? '+' : ''} unique host/port targets, ${st.open.size} answered.${toolEn}`;
      const sumZh = compromised
        ? `内网主机 ${st.src} 对外发起${kindZh}扫描（目标：${targetZh}；探测 ${st.attempts} 次，${st.pairs.size}${st.pairs.overflow ? '+' : ''} 个不同目标）。${toolZh}内网主机对外扫描，判断该主机已失陷。`
        : `${st.src} 发起${dirZh}${kindZh}扫描（目标：${targetZh}）：探测 ${st.attempts} 次，${st.pairs.size}${st.pairs.overflow ? '+' : ''} 个不同主机/端口，其中 ${st.open.size} 个有响应。${toolZh}`;
      return {
        id: '',
        detector: ID,
        attack: compromised ? ['T1046', 'T1595'] : direction === 'inbound' || direction === 'external' ? ['T1595', 'T1046'] : ['T1046'],
        severity,
        outcome: compromised ? 'compromised' : 'attempt',
        confidence: Math.round(confidence * 100) / 100,
        first: st.first,
        last: st.last,
        src: st.src,
        dst: kind === 'vertical' ? topHost : undefined,
        host: compromised || direction === 'internal' ? st.src : kind === 'vertical' ? topHost : undefined,
        summary: { en: sumEn, zh: sumZh },
        evidence: st.ev.refs(),
        facts: {
          kind,
          direction,
          reasons,
          probes: st.attempts,
          uniqueTargets: st.pairs.size,
          uniqueTargetsCapped: st.pairs.overflow,
          hosts: nHosts,
          ports: nPorts,
          topPort: topPort >= 0 ? topPort : undefined,
          topPortHosts: maxHostsOnPort,
          topHost: topHost || undefined,
          topHostPorts: maxPortsOnHost,
          sampleHosts: st.hosts.values(20),
          samplePorts: st.ports.values(30),
          openTargets: st.open.values(30),
          closed: st.closed,
          filtered: st.filtered,
          tool,
          toolSyns: st.tools,
          fingerprintedSyns: st.syns,
          stealthProbes: st.stealth ? { fin: st.stealth.fin, null: st.stealth.null, ports: st.stealth.ports.values(30) } : undefined,
        },
      };
    };

    return {
      id: ID,
      datasets: ['conn'],
      observe(e: SpoorEvent): void {
        const src = str(e, 'source.ip');
        const dst = str(e, 'destination.ip');
        if (!src || !dst) return;
        const ts = e['@timestamp'];
        if (typeof ts !== 'number') return;
        let st = sources.get(src);
        if (st && ts - st.last > asNum(s.idleMs, 900_000)) {
          sources.delete(src);
          close(st);
          st = undefined;
        }
        const probe = isProbe(e);
        if (!st && !probe) return;
        const dport = num(e, 'destination.port') ?? 0;
        const state = str(e, 'conn.state') ?? '';
        const hist = str(e, 'conn.history') ?? '';
        if (!st) {
          if (sources.size >= maxSources) {
            const oldest = sources.keys().next().value as string;
            const o = sources.get(oldest)!;
            sources.delete(oldest);
            close(o);
          }
          st = {
            src,
            first: ts,
            last: ts,
            pairs: new CappedSet(cap),
            hostsByPort: new Map(),
            portsByHost: new Map(),
            hosts: new CappedSet(cap),
            ports: new CappedSet(cap),
            attempts: 0,
            open: new CappedSet(64),
            closed: 0,
            filtered: 0,
            syns: 0,
            tools: {},
            outside: 0,
            inside: 0,
            ev: new EvidenceSample(3, 3, 4),
          };
          sources.set(src, st);
        }
        if (ts < st.first) st.first = ts;
        if (ts > st.last) st.last = ts;
        // an answered connection after probing reveals an open port
        if (hist.includes('h') || hist.includes('H')) st.open.add(`${dst}:${dport}`);
        if (!probe) return;
        st.attempts++;
        if (state === 'REJ') st.closed++;
        else if (state === 'S0') st.filtered++;
        if (ctx.homeNet.isInternal(dst)) st.inside++;
        else st.outside++;
        const dip = ipv4ToInt(dst);
        const isNew = st.pairs.add(Number.isNaN(dip) ? `${dst}:${dport}` : dip * 65536 + dport);
        // a repeated (host, port) probe (retransmission, second pass) is already in every set below
        if (isNew || st.pairs.overflow) {
          st.hosts.add(dst);
          st.ports.add(dport);
          if (st.hostsByPort.size < 64 || st.hostsByPort.has(dport)) {
            let hs = st.hostsByPort.get(dport);
            if (!hs) st.hostsByPort.set(dport, (hs = new CappedSet(1024)));
            hs.add(dst);
          }
          if (st.portsByHost.size < 64 || st.portsByHost.has(dst)) {
            let ps = st.portsByHost.get(dst);
            if (!ps) st.portsByHost.set(dst, (ps = new CappedSet(1024)));
            ps.add(dport);
          }
        }
        if (st.syns < 2000 && (e['conn.orig_window'] !== undefined || e['conn.orig_ipid'] !== undefined)) {
          st.syns++;
          const t = toolFingerprint(e);
          if (t) st.tools[t] = (st.tools[t] ?? 0) + 1;
        }
        st.ev.addEvent(e);
        if (isNew && st.pairs.size === 1) st.ev.key(refOf(e));
        if (state !== 'S0' && state !== 'REJ') {
          const sp = stealthProbe(e);
          if (sp) {
            st.stealth ??= { ports: new CappedSet(1024), fin: 0, null: 0 };
            st.stealth[sp]++;
            if (st.stealth.ports.add(dport) && st.stealth.ports.size <= 3) st.ev.key(refOf(e));
          }
        }
      },
      finish(): Finding[] {
        for (const st of sources.values()) close(st);
        sources.clear();
        const out = findings.splice(0);
        return out;
      },
    };
  },
};
