/** Record builders and a tiny detector runner for the network-detector tests. */
import type { SpoorEvent } from '../../../src/core/event.js';
import type { DetectorModule, Finding } from '../../../src/core/finding.js';
import { HomeNet } from '../../../src/core/homenet.js';

let uidN = 0;
let frameN = 0;
export function resetIds(): void {
  uidN = 0;
  frameN = 0;
}

export interface ConnOpts {
  ts: number;
  src: string;
  dst: string;
  sport?: number;
  dport: number;
  state?: string;
  history?: string;
  dur?: number;
  ob?: number;
  rb?: number;
  proto?: string;
  transport?: string;
  ttl?: number;
  win?: number;
  ipid?: number;
  seq?: number;
  uid?: string;
}

export function conn(o: ConnOpts): SpoorEvent {
  const uid = o.uid ?? `C${(++uidN).toString(36)}`;
  const frame = ++frameN;
  const e: SpoorEvent = {
    '@timestamp': o.ts,
    'event.dataset': 'conn',
    ref: { evidence: 'E1', frame, uid },
    'conn.uid': uid,
    'source.ip': o.src,
    'source.port': o.sport ?? 40000 + (uidN % 20000),
    'destination.ip': o.dst,
    'destination.port': o.dport,
    'network.transport': o.transport ?? 'tcp',
    'conn.state': o.state ?? 'SF',
    'conn.history': o.history ?? (o.state === 'S0' ? 'S' : o.state === 'REJ' ? 'Sr' : 'ShADadFf'),
    'event.duration': o.dur ?? 100,
    'source.bytes': o.ob ?? (o.state === 'S0' || o.state === 'REJ' ? 0 : 300),
    'destination.bytes': o.rb ?? (o.state === 'S0' || o.state === 'REJ' ? 0 : 1200),
    'source.ip_bytes': (o.ob ?? 300) + 120,
  };
  if (o.proto) e['network.protocol'] = o.proto;
  if (o.ttl !== undefined) e['conn.orig_ttl'] = o.ttl;
  if (o.win !== undefined) e['conn.orig_window'] = o.win;
  if (o.ipid !== undefined) e['conn.orig_ipid'] = o.ipid;
  if (o.seq !== undefined) e['conn.orig_seq'] = o.seq;
  return e;
}

/** A protocol record of `dataset` on a fresh (or given) connection. */
export function rec(dataset: string, ts: number, src: string, dst: string, dport: number, fields: Record<string, unknown>, uid?: string): SpoorEvent {
  const u = uid ?? `C${(++uidN).toString(36)}`;
  return {
    '@timestamp': ts,
    'event.dataset': dataset,
    ref: { evidence: 'E1', frame: ++frameN, uid: u },
    'conn.uid': u,
    'source.ip': src,
    'source.port': 50000 + (frameN % 10000),
    'destination.ip': dst,
    'destination.port': dport,
    'network.transport': 'tcp',
    ...fields,
  };
}

export interface HttpOpts {
  method?: string;
  uri: string;
  host?: string;
  status?: number;
  body?: string;
  resp?: string;
  headers?: Record<string, string>;
  respHeaders?: Record<string, string>;
  ua?: string;
  mime?: string;
  port?: number;
}

export function http(ts: number, src: string, dst: string, o: HttpOpts): SpoorEvent {
  const hdrs: Record<string, string> = { host: o.host ?? dst, ...(o.ua ? { 'user-agent': o.ua } : {}), ...(o.headers ?? {}) };
  return rec('http', ts, src, dst, o.port ?? 80, {
    'http.request.method': o.method ?? 'GET',
    'url.original': o.uri,
    'url.domain': o.host ?? dst,
    'user_agent.original': o.ua,
    'http.response.status_code': o.status ?? 200,
    'http.request.body.content': o.body,
    'http.request.body.bytes': o.body?.length ?? 0,
    'http.response.body.content': o.resp,
    'http.request.headers': hdrs,
    'http.response.headers': o.respHeaders ?? {},
    'http.response.mime_type': o.mime,
  });
}

export function run(modules: DetectorModule | DetectorModule[], events: SpoorEvent[], homeNets?: string[], settings: Record<string, Record<string, unknown>> = {}): Finding[] {
  const mods = Array.isArray(modules) ? modules : [modules];
  const homeNet = new HomeNet(homeNets);
  const dets = mods.map((m) => m.create({ homeNet, settings: { ...settings, [m.id]: { ...m.defaults, ...(settings[m.id] ?? {}) } } }));
  const sorted = [...events].sort((a, b) => a['@timestamp'] - b['@timestamp']);
  for (const e of sorted) for (const d of dets) if (d.datasets.includes(e['event.dataset'])) d.observe(e);
  const out = dets.flatMap((d) => d.finish());
  out.sort((a, b) => a.first - b.first);
  return out;
}

export const T0 = Date.UTC(2024, 5, 4, 3, 0, 0);
export const MIN = 60_000;
