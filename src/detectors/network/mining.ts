/**
 * net.mining — crypto-mining (T1496) from stratum records, mining-pool names in
 * DNS/TLS SNI/HTTP Host and stratum JSON in unrecognised payloads; and tool
 * transfer (T1105): executables or archives fetched over HTTP by a server.
 */
import type { EvidenceRef, SpoorEvent } from '../../core/event.js';
import type { Detector, DetectorContext, DetectorModule, Finding } from '../../core/finding.js';
import { settingsFor } from '../../core/finding.js';
import { asNum, asStrList, BoundedMap, CappedSet, clip, EvidenceSample, header, num, refOf, str, uriPath } from './util.js';

const ID = 'net.mining';

export const miningDefaults = {
  /** Domain suffixes of public mining pools (match on DNS query, TLS SNI, HTTP Host). */
  poolDomains: [
    'nanopool.org', 'minexmr.com', 'supportxmr.com', 'xmrpool.eu', 'moneroocean.stream', 'c3pool.com', 'hashvault.pro', 'herominers.com',
    'f2pool.com', 'antpool.com', 'viabtc.com', 'poolin.com', 'slushpool.com', 'braiins.com', 'btc.com', 'ethermine.org', '2miners.com',
    'nicehash.com', 'suprnova.cc', 'miningpoolhub.com', 'dwarfpool.com', 'unmineable.com', 'crypto-pool.fr', 'xmrig.com', 'coinhive.com',
    'minergate.com', 'hiveon.net', 'flypool.org', 'sparkpool.com', 'pool.eth.pp.ua', 'monerohash.com', 'zpool.ca', 'p2pool.io', 'kryptex.network',
  ],
  /** Host-name patterns that name a pool even when not listed. */
  poolPattern: '(?:^|[.-])(?:stratum|xmr|monero|mining|miningpool|minerpool)(?:[.-]|\\d)|(?:^|\\.)pool\\.(?:[a-z0-9-]+\\.)*(?:xmr|eth|etc|zec|rvn|btc|ltc|erg|kas)',
  /** File types that count as tool downloads. */
  downloadExtensions: ['exe', 'dll', 'scr', 'msi', 'ps1', 'bat', 'vbs', 'hta', 'sh', 'elf', 'jar', 'rar', 'zip', '7z'],
  /** Download hosts never reported (suffix match), e.g. vendor update services. */
  allowDownloadDomains: ['windowsupdate.com', 'update.microsoft.com', 'delivery.mp.microsoft.com', 'download.microsoft.com', 'ubuntu.com', 'debian.org', 'centos.org', 'fedoraproject.org', 'apple.com', 'mozilla.net', 'mozilla.org', 'google.com', 'gvt1.com'],
  downloadMimes: ['application/x-dosexec', 'application/x-msdownload', 'application/x-executable', 'application/x-elf', 'application/x-sharedlib', 'application/vnd.microsoft.portable-executable', 'application/x-rar', 'application/x-rar-compressed', 'application/zip', 'application/x-7z-compressed', 'application/gzip', 'application/x-gzip', 'application/java-archive', 'application/x-msi'],
  /** Treat these internal hosts as servers even if no inbound service traffic is seen. */
  servers: [] as string[],
  /** Inbound answered connections that make an internal host a "server". */
  serverMinInbound: 3,
};

const TOOL_UA = /(curl|wget|certutil|powershell|bitsadmin|python-requests|python-urllib|go-http-client|winhttp|microsoft bits)/i;

/**
 * A User-Agent that is one random-looking token (malware loaders send e.g. "vBKbaQgjyvRRbcgfvlsc"):
 * 12+ letters/digits, no product/version slash, no spaces, the case flipping at least 4 times, and
 * fewer than a quarter of the letters vowels. Real clients send "Product/version (comment)"; a
 * camel-case product name (MicrosoftEdgeUpdate, WindowsPowerShellISE) is made of words, about 40 % vowels.
 */
export function randomTokenUa(ua: string): boolean {
  if (ua.length < 12 || ua.length > 64 || !/^[A-Za-z0-9]+$/.test(ua)) return false;
  let flips = 0;
  let prev = 0;
  let letters = 0;
  let vowels = 0;
  for (let i = 0; i < ua.length; i++) {
    const c = ua.charCodeAt(i);
    const k = c >= 65 && c <= 90 ? 1 : c >= 97 && c <= 122 ? 2 : 0;
    if (!k) continue;
    letters++;
    if ('aeiouAEIOU'.includes(ua[i])) vowels++;
    if (prev && k !== prev) flips++;
    prev = k;
  }
  return flips >= 4 && letters >= 10 && vowels < 0.25 * letters;
}
const EXE_EXT = /\.(?:exe|dll|scr|msi|ps1|bat|vbs|hta|sh|elf|jar)$/i;

interface Mine {
  src: string;
  dst: string;
  first: number;
  last: number;
  how: Set<string>;
  logins: string[];
  agents: string[];
  methods: string[];
  names: string[];
  ev: EvidenceSample;
}

interface Download {
  src: string;
  dst: string;
  ts: number;
  uri: string;
  host?: string;
  ua?: string;
  mime?: string;
  bytes?: number;
  status: number;
  ref: EvidenceRef;
  magic?: string;
}

export const miningDetector: DetectorModule = {
  id: ID,
  title: { en: 'Crypto-mining and tool download', zh: '挖矿与工具下载' },
  attack: ['T1496', 'T1105'],
  defaults: miningDefaults,
  create(ctx: DetectorContext): Detector {
    const s = settingsFor(ctx, ID, miningDefaults);
    const pools = asStrList(s.poolDomains, miningDefaults.poolDomains).map((d) => d.toLowerCase());
    let poolRe: RegExp | null = null;
    try {
      poolRe = new RegExp(String(s.poolPattern), 'i');
    } catch {
      poolRe = null;
    }
    const exts = new Set(asStrList(s.downloadExtensions, miningDefaults.downloadExtensions));
    const mimes = new Set(asStrList(s.downloadMimes, miningDefaults.downloadMimes));
    const mines = new BoundedMap<string, Mine>(20_000);
    const downloads: Download[] = [];
    const inbound = new BoundedMap<string, CappedSet<string>>(100_000);
    const servers = new Set(asStrList(s.servers, []));
    const allowDl = asStrList(s.allowDownloadDomains, miningDefaults.allowDownloadDomains).map((d) => d.toLowerCase());

    // names repeat (DNS, SNI and Host of the same sites): remember the answer for recent ones
    const poolMemo = new Map<string, string | null>();
    const isPool = (name: string): string | undefined => {
      const hit = poolMemo.get(name);
      if (hit !== undefined) return hit ?? undefined;
      const n = name.toLowerCase().replace(/\.$/, '');
      let r: string | null = null;
      for (const d of pools)
        if (n === d || n.endsWith('.' + d)) {
          r = d;
          break;
        }
      if (r === null && poolRe && poolRe.test(n)) r = n;
      if (poolMemo.size >= 10_000) poolMemo.clear();
      poolMemo.set(name, r);
      return r ?? undefined;
    };
    const mine = (src: string, dst: string, ts: number): Mine => {
      const m = mines.getOrCreate(`${src}>${dst}`, () => ({ src, dst, first: ts, last: ts, how: new Set(), logins: [], agents: [], methods: [], names: [], ev: new EvidenceSample(2, 2, 4) }));
      if (ts < m.first) m.first = ts;
      if (ts > m.last) m.last = ts;
      return m;
    };

    return {
      id: ID,
      datasets: ['stratum', 'dns', 'tls', 'http', 'payload', 'conn'],
      observe(e: SpoorEvent): void {
        const ds = e['event.dataset'];
        if (ds === 'conn') {
          // inbound answered service connections make the responder a server (most records stop here)
          const hist = e['conn.history'];
          if (typeof hist !== 'string' || hist.indexOf('h') < 0 || hist.indexOf('d') < 0) return;
        }
        const src = str(e, 'source.ip');
        const dst = str(e, 'destination.ip');
        const ts = e['@timestamp'];
        if (!src || !dst || typeof ts !== 'number') return;
        if (ds === 'conn') {
          const known = inbound.get(dst);
          if (known) known.add(src);
          else if (ctx.homeNet.isInternal(dst)) inbound.getOrCreate(dst, () => new CappedSet(16)).add(src);
          return;
        }
        if (ds === 'stratum') {
          const m = mine(src, dst, ts);
          m.how.add('stratum');
          const login = str(e, 'stratum.login');
          const agent = str(e, 'stratum.agent');
          const method = str(e, 'stratum.method');
          if (login && m.logins.length < 5 && !m.logins.includes(clip(login, 120))) m.logins.push(clip(login, 120));
          if (agent && m.agents.length < 5 && !m.agents.includes(clip(agent, 80))) m.agents.push(clip(agent, 80));
          if (method && m.methods.length < 8 && !m.methods.includes(method)) m.methods.push(method);
          m.ev.addEvent(e);
          if (m.ev.count === 1 || login) m.ev.key(refOf(e));
          return;
        }
        if (ds === 'payload') {
          const p = str(e, 'payload.orig') ?? '';
          // Monero P2P (Levin protocol signature 0x0101010101012101): a Monero node, weaker than stratum
          if (p.startsWith('\\x01!\\x01\\x01\\x01\\x01\\x01\\x01') || p.startsWith('\x01!\x01\x01\x01\x01\x01\x01')) {
            // one finding per host: P2P talks to many peers
            const m = mine(src, 'Monero P2P peers', ts);
            m.how.add('monero-p2p');
            if (m.names.length < 5 && !m.names.includes(`${dst}:${num(e, 'destination.port') ?? ''}`)) m.names.push(`${dst}:${num(e, 'destination.port') ?? ''}`);
            m.ev.addEvent(e);
            return;
          }
          if (/"method"\s*:\s*"(?:mining\.(?:subscribe|authorize|submit)|login|eth_submitLogin|eth_getWork)"/.test(p)) {
            const m = mine(src, dst, ts);
            m.how.add('stratum-json');
            const a = /"agent"\s*:\s*"([^"]{1,80})"/.exec(p);
            if (a && m.agents.length < 5 && !m.agents.includes(a[1])) m.agents.push(a[1]);
            const l = /"(?:login|params)"\s*:\s*\[?\s*"([^"]{1,120})"/.exec(p);
            if (l && m.logins.length < 5 && !m.logins.includes(l[1])) m.logins.push(l[1]);
            m.ev.addEvent(e);
          }
          return;
        }
        if (ds === 'dns' || ds === 'tls' || ds === 'http') {
          const name = ds === 'dns' ? str(e, 'dns.question.name') : ds === 'tls' ? str(e, 'tls.client.server_name') : str(e, 'url.domain')?.replace(/:\d+$/, '');
          if (name) {
            const p = isPool(name);
            if (p) {
              // for DNS the pool is the name, not the resolver
              const m = mine(src, ds === 'dns' ? name.toLowerCase() : dst, ts);
              m.how.add(`${ds}-pool-name`);
              if (m.names.length < 5 && !m.names.includes(name.toLowerCase())) m.names.push(name.toLowerCase());
              m.ev.addEvent(e);
            }
          }
          if (ds !== 'http') return;
          const method = (str(e, 'http.request.method') ?? '').toUpperCase();
          if (method !== 'GET' && method !== 'POST') return;
          const status = num(e, 'http.response.status_code') ?? 0;
          if (status < 200 || status >= 300) return;
          if (!ctx.homeNet.isInternal(src)) return;
          const uri = str(e, 'url.original') ?? '';
          const path = uriPath(uri);
          const ext = /\.([a-z0-9]{1,5})$/i.exec(path)?.[1]?.toLowerCase();
          const mime = (str(e, 'http.response.mime_type') ?? header(e, 'response', 'content-type') ?? '').toLowerCase().split(';')[0].trim();
          const body = str(e, 'http.response.body.content') ?? '';
          const magic = body.startsWith('MZ') ? 'PE (MZ)' : body.startsWith('\x7fELF') ? 'ELF' : body.startsWith('PK\x03\x04') ? 'ZIP' : body.startsWith('Rar!') ? 'RAR' : body.startsWith('7z\xbc\xaf') ? '7z' : undefined;
          if (!(ext && exts.has(ext)) && !mimes.has(mime) && !magic) return;
          if (downloads.length < 5000)
            downloads.push({ src, dst, ts, uri: clip(uri, 200), host: str(e, 'url.domain'), ua: str(e, 'user_agent.original') ?? header(e, 'request', 'user-agent'), mime: mime || undefined, bytes: num(e, 'http.response.body.bytes'), status, ref: refOf(e), magic });
        }
      },
      finish(): Finding[] {
        const out: Finding[] = [];
        for (const m of mines.map.values()) {
          const stratum = m.how.has('stratum') || m.how.has('stratum-json');
          if (m.how.size === 1 && m.how.has('monero-p2p')) {
            out.push({
              id: '',
              detector: ID,
              attack: ['T1496'],
              severity: 'medium',
              outcome: 'succeeded',
              confidence: 0.5,
              first: m.first,
              last: m.last,
              src: m.src,
              host: m.src,
              summary: {
                en: `${m.src} runs a Monero node (Levin P2P with ${m.names.join(', ')}); often part of a Monero miner.`,
                zh: `${m.src} 运行门罗币（Monero）节点，与 ${m.names.join('、')} 进行 P2P 通信，疑似挖矿程序。`,
              },
              evidence: m.ev.refs(),
              facts: { indicators: [...m.how], peers: m.names, tool: 'Monero P2P' },
            });
            continue;
          }
          out.push({
            id: '',
            detector: ID,
            attack: ['T1496'],
            severity: stratum ? 'high' : 'medium',
            outcome: 'compromised',
            confidence: stratum ? 0.9 : 0.7,
            first: m.first,
            last: m.last,
            src: m.src,
            dst: m.dst,
            host: m.src,
            summary: {
              en: `${m.src} is mining crypto-currency: ${[...m.how].join(', ')} with ${m.dst}${m.names.length ? ` (${m.names.join(', ')})` : ''}${m.logins.length ? `, login ${m.logins[0]}` : ''}${m.agents.length ? `, miner ${m.agents[0]}` : ''}.`,
              zh: `${m.src} 存在挖矿行为：与矿池 ${m.dst}${m.names.length ? `（${m.names.join('、')}）` : ''} 通信${stratum ? '（Stratum 协议）' : ''}${m.logins.length ? `，钱包/账户 ${m.logins[0]}` : ''}${m.agents.length ? `，挖矿程序 ${m.agents[0]}` : ''}。判断该主机已被植入挖矿木马。`,
            },
            evidence: m.ev.refs(),
            facts: { indicators: [...m.how], pool: m.dst, poolNames: m.names, logins: m.logins, agents: m.agents, methods: m.methods, tool: m.agents[0] },
          });
        }
        const minIn = asNum(s.serverMinInbound, 3);
        const bySrc = new Map<string, Download[]>();
        for (const d of downloads) {
          if (d.src === d.dst || d.src.startsWith('127.') || d.src === '::1') continue;
          const hostName = (d.host ?? '').toLowerCase().replace(/:\d+$/, '');
          if (hostName && allowDl.some((a) => hostName === a || hostName.endsWith('.' + a))) continue;
          const isServer = servers.has(d.src) || (inbound.get(d.src)?.size ?? 0) >= minIn;
          const rawIp = !!d.host && /^\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?$/.test(d.host);
          const toolUa = !!d.ua && (TOOL_UA.test(d.ua) || randomTokenUa(d.ua));
          const exe = EXE_EXT.test(d.uri.split('?')[0]) || d.magic === 'PE (MZ)' || d.magic === 'ELF' || /dosexec|msdownload|executable|elf|portable-executable/.test(d.mime ?? '');
          // a server fetching tools; or executables from a bare IP / by a command-line tool
          if (!isServer && !(exe && (rawIp || toolUa))) continue;
          const l = bySrc.get(d.src) ?? [];
          l.push(d);
          bySrc.set(d.src, l);
        }
        for (const [src, list] of bySrc) {
          const isServer = servers.has(src) || (inbound.get(src)?.size ?? 0) >= minIn;
          const ev = new EvidenceSample(3, 3, 0);
          for (const d of list) ev.add(d.ref);
          const files = list.slice(0, 10).map((d) => `${d.host ?? d.dst}${d.uri}`);
          const first = Math.min(...list.map((d) => d.ts));
          const last = Math.max(...list.map((d) => d.ts));
          out.push({
            id: '',
            detector: ID,
            attack: ['T1105'],
            severity: isServer ? 'high' : 'medium',
            outcome: 'succeeded',
            confidence: isServer ? 0.75 : 0.55,
            first,
            last,
            src,
            dst: list[0].dst,
            host: src,
            summary: {
              en: `${isServer ? 'Server' : 'Host'} ${src} downloaded ${list.length} executable/archive file(s) over HTTP: ${files.slice(0, 3).join(', ')}${list[0].ua ? ` (User-Agent ${clip(list[0].ua, 60)})` : ''}.`,
              zh: `${isServer ? '服务器' : '主机'} ${src} 通过 HTTP 下载了 ${list.length} 个可执行文件/压缩包：${files.slice(0, 3).join('、')}。疑似攻击者下载工具。`,
            },
            evidence: ev.refs(),
            facts: { files, count: list.length, server: isServer, userAgents: [...new Set(list.map((d) => d.ua).filter(Boolean))].slice(0, 5), mimes: [...new Set(list.map((d) => d.mime ?? d.magic).filter(Boolean))], bytes: list.reduce((a, d) => a + (d.bytes ?? 0), 0) },
          });
        }
        return out;
      },
    };
  },
};
