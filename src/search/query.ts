/**
 * The pivot a responder does by hand, as a small query language compiled to SQL
 * over the case store's `events` table.
 *
 *   src=80.66.1.15 and dport=445 and time>=2024-06-04T03:00
 *   ip=80.66.1.0/24 and not proto=udp
 *   (code=4625 or code=4624) and user=administrator
 *   http and uri~.jsp
 *
 * Terms are `field OP value`; OP is = != < <= > >= ~ (contains, case-insensitive);
 * `=` accepts * wildcards, and CIDR networks for address fields. Terms combine with
 * and / or / not and parentheses; a bare word is a dataset name (`http`, `smb`, `evtx`).
 * Times without a zone are read in the case's time zone.
 */
import { ipToBigInt, parseCidr } from '../core/homenet.js';

export class QueryError extends Error {}

interface FieldDef {
  /** SQL expression(s); several → any of them matches (ip, port). */
  sql: string[];
  kind: 'ip' | 'int' | 'text' | 'time';
}

const json = (f: string) => `json_extract_string(data, '$."${f}"')`;

export const FIELDS: Record<string, FieldDef> = {
  src: { sql: ['src_ip'], kind: 'ip' },
  dst: { sql: ['dst_ip'], kind: 'ip' },
  ip: { sql: ['src_ip', 'dst_ip'], kind: 'ip' },
  sport: { sql: ['src_port'], kind: 'int' },
  dport: { sql: ['dst_port'], kind: 'int' },
  port: { sql: ['src_port', 'dst_port'], kind: 'int' },
  proto: { sql: ['transport'], kind: 'text' },
  transport: { sql: ['transport'], kind: 'text' },
  service: { sql: ['protocol'], kind: 'text' },
  user: { sql: ['user_name'], kind: 'text' },
  domain: { sql: ['user_domain'], kind: 'text' },
  host: { sql: ['host'], kind: 'text' },
  code: { sql: ['code'], kind: 'text' },
  event: { sql: ['code'], kind: 'text' },
  action: { sql: ['action'], kind: 'text' },
  outcome: { sql: ['outcome'], kind: 'text' },
  provider: { sql: ['provider'], kind: 'text' },
  dataset: { sql: ['dataset'], kind: 'text' },
  kind: { sql: ['dataset'], kind: 'text' },
  uid: { sql: ['uid'], kind: 'text' },
  evidence: { sql: ['evidence'], kind: 'text' },
  record: { sql: ['record'], kind: 'int' },
  frame: { sql: ['frame'], kind: 'int' },
  time: { sql: ['ts'], kind: 'time' },
  channel: { sql: [json('winlog.channel')], kind: 'text' },
  uri: { sql: [json('url.original')], kind: 'text' },
  method: { sql: [json('http.request.method')], kind: 'text' },
  status: { sql: [json('http.response.status_code'), json('smb.status'), json('ntlm.status')], kind: 'text' },
  ua: { sql: [json('user_agent.original')], kind: 'text' },
  query: { sql: [json('dns.question.name')], kind: 'text' },
  sni: { sql: [json('tls.client.server_name')], kind: 'text' },
  ja3: { sql: [json('tls.client.ja3')], kind: 'text' },
  state: { sql: [json('conn.state')], kind: 'text' },
  share: { sql: [json('smb.tree')], kind: 'text' },
  file: { sql: [json('file.name'), json('file.path')], kind: 'text' },
  text: { sql: ['data'], kind: 'text' },
};

export const DATASET_WORDS = new Set(['evtx', 'conn', 'http', 'dns', 'tls', 'smb', 'ntlm', 'kerberos', 'rdp', 'ssh', 'stratum', 'dcerpc', 'payload', 'weird']);

type Tok = { t: 'word' | 'op' | 'lp' | 'rp' | 'and' | 'or' | 'not'; v: string; pos: number };

function tokenize(q: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < q.length) {
    const c = q[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '(') {
      out.push({ t: 'lp', v: c, pos: i++ });
      continue;
    }
    if (c === ')') {
      out.push({ t: 'rp', v: c, pos: i++ });
      continue;
    }
    const two = q.slice(i, i + 2);
    if (two === '!=' || two === '>=' || two === '<=') {
      out.push({ t: 'op', v: two, pos: i });
      i += 2;
      continue;
    }
    if (c === '=' || c === '<' || c === '>' || c === '~') {
      out.push({ t: 'op', v: c, pos: i++ });
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      let s = '';
      while (j < q.length && q[j] !== c) {
        if (q[j] === '\\' && j + 1 < q.length) j++;
        s += q[j++];
      }
      if (j >= q.length) throw new QueryError(`unterminated quote at position ${i + 1}`);
      out.push({ t: 'word', v: s, pos: i });
      i = j + 1;
      continue;
    }
    let j = i;
    // IPv6 addresses contain ':' — allowed in words; operators end a word.
    while (j < q.length && !/[\s()=!<>~]/.test(q[j])) j++;
    const w = q.slice(i, j);
    const lw = w.toLowerCase();
    if (lw === 'and' || lw === '&&') out.push({ t: 'and', v: w, pos: i });
    else if (lw === 'or' || lw === '||') out.push({ t: 'or', v: w, pos: i });
    else if (lw === 'not') out.push({ t: 'not', v: w, pos: i });
    else out.push({ t: 'word', v: w, pos: i });
    i = j;
  }
  return out;
}

export interface CompileOptions {
  /** IANA zone for times written without an offset. */
  tz: string;
}

/** Compile a query to a SQL boolean expression over `events` (values are inlined as escaped literals). */
export function compileQuery(q: string, opts: CompileOptions): string {
  const toks = tokenize(q);
  if (toks.length === 0) return 'TRUE';
  let p = 0;
  const peek = () => toks[p];
  const expect = (t: Tok['t']) => {
    const k = toks[p];
    if (!k || k.t !== t) throw new QueryError(`expected ${t === 'rp' ? "')'" : t} at position ${k ? k.pos + 1 : q.length + 1}`);
    p++;
    return k;
  };
  const parseOr = (): string => {
    let left = parseAnd();
    while (peek()?.t === 'or') {
      p++;
      left = `(${left} OR ${parseAnd()})`;
    }
    return left;
  };
  const parseAnd = (): string => {
    let left = parseNot();
    for (;;) {
      const k = peek();
      if (k?.t === 'and') {
        p++;
        left = `(${left} AND ${parseNot()})`;
      } else if (k && (k.t === 'word' || k.t === 'not' || k.t === 'lp')) {
        left = `(${left} AND ${parseNot()})`; // implicit and
      } else return left;
    }
  };
  const parseNot = (): string => {
    if (peek()?.t === 'not') {
      p++;
      return `(NOT coalesce(${parseNot()}, FALSE))`;
    }
    return parseAtom();
  };
  const parseAtom = (): string => {
    const k = peek();
    if (!k) throw new QueryError('query ends too early');
    if (k.t === 'lp') {
      p++;
      const e = parseOr();
      expect('rp');
      return e;
    }
    const field = expect('word');
    const op = peek();
    if (!op || op.t !== 'op') {
      const w = field.v.toLowerCase();
      if (DATASET_WORDS.has(w)) return `(dataset = ${lit(w)})`;
      throw new QueryError(`expected an operator after ${JSON.stringify(field.v)} (fields: ${Object.keys(FIELDS).join(', ')})`);
    }
    p++;
    const val = expect('word');
    return term(field.v.toLowerCase(), op.v, val.v, opts);
  };
  const sql = parseOr();
  if (p < toks.length) throw new QueryError(`unexpected ${JSON.stringify(toks[p].v)} at position ${toks[p].pos + 1}`);
  return sql;
}

function lit(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

function term(name: string, op: string, value: string, opts: CompileOptions): string {
  const def = FIELDS[name];
  if (!def) throw new QueryError(`unknown field ${JSON.stringify(name)} (fields: ${Object.keys(FIELDS).join(', ')})`);
  const parts = def.sql.map((col) => one(col, def.kind, op, value, opts, name));
  const joined = parts.length === 1 ? parts[0] : `(${parts.join(' OR ')})`;
  if (op === '!=') return `(NOT coalesce(${joined}, FALSE))`;
  return joined;
}

function one(col: string, kind: FieldDef['kind'], op: string, value: string, opts: CompileOptions, name: string): string {
  const eqOp = op === '!=' ? '=' : op; // != is negated around the whole (multi-column) term
  if (op === '~') return `(${col} ILIKE ${lit('%' + likeEscape(value) + '%')} ESCAPE '\\')`;
  switch (kind) {
    case 'ip': {
      if (eqOp !== '=') throw new QueryError(`${name} supports = != and ~`);
      if (value.includes('/')) {
        let c;
        try {
          c = parseCidr(value);
        } catch (err) {
          throw new QueryError((err as Error).message);
        }
        if (c.v6) throw new QueryError('IPv6 networks are not supported in search yet; use a single address or ip~prefix');
        const lo = Number(c.net);
        const hi = lo + 2 ** (32 - c.bits) - 1;
        return `(spoor_ip4(${col}) BETWEEN ${lo} AND ${hi})`;
      }
      if (value.includes('*')) return `(${col} LIKE ${lit(likeEscape(value).replace(/\*/g, '%'))} ESCAPE '\\')`;
      if (!ipToBigInt(value)) throw new QueryError(`${JSON.stringify(value)} is not an address or network`);
      return `(${col} = ${lit(value)})`;
    }
    case 'int': {
      if (!/^\d+$/.test(value)) throw new QueryError(`${name} needs a number, not ${JSON.stringify(value)}`);
      return `(${col} ${eqOp} ${value})`;
    }
    case 'time': {
      const ms = parseTime(value, opts.tz);
      return `(${col} ${eqOp === '=' ? '>=' : eqOp} ${ms})${eqOp === '=' ? ` AND (${col} < ${ms + 60_000})` : ''}`;
    }
    case 'text': {
      if (eqOp === '=' && value.includes('*')) return `(${col} ILIKE ${lit(likeEscape(value).replace(/\*/g, '%'))} ESCAPE '\\')`;
      if (eqOp === '=') return `(lower(${col}) = ${lit(value.toLowerCase())})`;
      return `(${col} ${eqOp} ${lit(value)})`;
    }
  }
}

function likeEscape(s: string): string {
  return s.replace(/[\\%_]/g, (c) => '\\' + c);
}

/**
 * Parse `2024-06-04`, `2024-06-04T03:00`, `2024-06-04 03:00:05`, with optional `Z` or `+08:00`.
 * Without an offset the time is read in zone `tz`. Returns ms since epoch.
 */
export function parseTime(v: string, tz: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(v);
  if (!m) throw new QueryError(`bad time ${JSON.stringify(v)}: use 2024-06-04T03:00 (case time zone) or add Z / +08:00`);
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '0', off] = m;
  const wall = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s, +frac.padEnd(3, '0'));
  if (off) {
    if (off === 'Z') return wall;
    const sign = off[0] === '-' ? -1 : 1;
    const digits = off.slice(1).replace(':', '');
    return wall - sign * (+digits.slice(0, 2) * 60 + +digits.slice(2)) * 60_000;
  }
  return zonedWallToUtc(wall, tz);
}

/** Offset of `tz` at instant `ms`, in ms (east positive). */
export function zoneOffsetMs(ms: number, tz: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: tz,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(ms));
  const g = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  const asUtc = Date.UTC(g('year'), g('month') - 1, g('day'), g('hour'), g('minute'), g('second'));
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/** A wall-clock time in `tz` (given as if UTC) → the real instant. */
export function zonedWallToUtc(wallAsUtc: number, tz: string): number {
  let guess = wallAsUtc - zoneOffsetMs(wallAsUtc, tz);
  guess = wallAsUtc - zoneOffsetMs(guess, tz);
  return guess;
}
