/**
 * net.bruteforce — password guessing seen on the wire (T1110): many short RDP
 * connections (with their mstshash cookie users), NTLM/SMB logon failures with
 * their NT status, SSH authentication failures, HTTP login floods; followed by a
 * success where the protocol shows one.
 */
import type { EvidenceRef, SpoorEvent } from '../../core/event.js';
import type { Detector, DetectorContext, DetectorModule, Finding, FindingOutcome, Severity } from '../../core/finding.js';
import { settingsFor } from '../../core/finding.js';
import { asNum, asStrList, BoundedMap, CappedSet, clip, EvidenceSample, num, refOf, str, uriPath } from './util.js';

const ID = 'net.bruteforce';

export const bruteforceDefaults = {
  /** Episode ends after this long without an attempt from the source. */
  idleMs: 6 * 3600_000,
  /** Short RDP connections (< rdpShortMs) from one source. */
  rdpAttempts: 10,
  rdpShortMs: 60_000,
  /** Distinct RDP cookie accounts from one source (initconf rdp-bruteforce: 3). */
  rdpAccounts: 3,
  /** An RDP session at least this long (or rdpSessionBytes answered) after the attempts is a likely success. */
  rdpSessionMs: 5 * 60_000,
  rdpSessionBytes: 200_000,
  /** Cookie names attackers try first (initconf "hot accounts"). */
  /** From an internal source, a hot account alone is reported only against this many hosts (an admin retrying one server is normal). */
  rdpHotInternalHosts: 2,
  rdpHotAccounts: ['a', 'admin', 'administrator', 'test', 'user', 'hello', 'guest', 'root', 'support', 'scanner', 'nmap', 'hello123', 'backup'],
  /** NTLM / SMB session-setup logon failures from one source. */
  smbFailures: 10,
  /** SSH authentication failures from one source (Zeek's default is 30 in 30 min; its btest uses 10). */
  sshFailures: 20,
  /** Short SSH connections when the analyzer cannot tell the auth outcome. */
  sshAttempts: 30,
  sshShortMs: 30_000,
  /** HTTP login requests (POST to a login-like path, or 401 answers) from one source. */
  httpAttempts: 20,
  loginPathPattern: '(login|logon|signin|sign-in|sign_in|auth(?:enticate|orize)?\\b|wp-login\\.php|xmlrpc\\.php|j_security_check|j_spring_security_check|session|token)',
  maxEpisodes: 50_000,
};

const SMB_FAIL = new Set(['0xc000006d', '0xc000006a', '0xc0000064', '0xc0000234', '0xc0000072', '0xc000006f', '0xc0000070', '0xc0000071', '0xc0000193']);
const SMB_STATUS_NAME: Record<string, string> = {
  '0xc000006d': 'STATUS_LOGON_FAILURE',
  '0xc000006a': 'STATUS_WRONG_PASSWORD',
  '0xc0000064': 'STATUS_NO_SUCH_USER',
  '0xc0000234': 'STATUS_ACCOUNT_LOCKED_OUT',
  '0xc0000072': 'STATUS_ACCOUNT_DISABLED',
  '0xc000006f': 'STATUS_INVALID_LOGON_HOURS',
  '0xc0000070': 'STATUS_INVALID_WORKSTATION',
  '0xc0000071': 'STATUS_PASSWORD_EXPIRED',
  '0xc0000193': 'STATUS_ACCOUNT_EXPIRED',
};

type Svc = 'rdp' | 'smb' | 'ssh' | 'http';

interface Success {
  dst: string;
  user?: string;
  ts: number;
  ref: EvidenceRef;
  confirmed: boolean;
  how: string;
}

interface Episode {
  src: string;
  svc: Svc;
  first: number;
  last: number;
  attempts: number;
  failures: number;
  smbStatusFailures: number;
  dsts: CappedSet<string>;
  users: CappedSet<string>;
  statuses: Record<string, number>;
  httpStatus: Record<string, number>;
  httpCandidates: { status: number; dst: string; ts: number; ref: EvidenceRef; uri: string }[];
  hot: string[];
  successes: Success[];
  ev: EvidenceSample;
}

export const bruteforceDetector: DetectorModule = {
  id: ID,
  title: { en: 'Brute force on the wire', zh: '网络暴力破解' },
  attack: ['T1110', 'T1110.001', 'T1110.003'],
  defaults: bruteforceDefaults,
  create(ctx: DetectorContext): Detector {
    const s = settingsFor(ctx, ID, bruteforceDefaults);
    const hot = new Set(asStrList(s.rdpHotAccounts, bruteforceDefaults.rdpHotAccounts).map((x) => x.toLowerCase()));
    let loginRe: RegExp;
    try {
      loginRe = new RegExp(String(s.loginPathPattern), 'i');
    } catch {
      loginRe = new RegExp(bruteforceDefaults.loginPathPattern, 'i');
    }
    const findings: Finding[] = [];
    const episodes = new BoundedMap<string, Episode>(asNum(s.maxEpisodes, 50_000), (_k, ep) => close(ep));
    const idle = asNum(s.idleMs, 1_800_000);

    const get = (src: string, svc: Svc, ts: number, sub = ''): Episode => {
      const key = sub ? `${src}|${svc}|${sub}` : `${src}|${svc}`;
      let ep = episodes.get(key);
      if (ep && ts - ep.last > idle) {
        episodes.delete(key);
        close(ep);
        ep = undefined;
      }
      return episodes.getOrCreate(key, () => ({
        src,
        svc,
        first: ts,
        last: ts,
        attempts: 0,
        failures: 0,
        smbStatusFailures: 0,
        dsts: new CappedSet(1024),
        users: new CappedSet(1024),
        statuses: {},
        httpStatus: {},
        httpCandidates: [],
        hot: [],
        successes: [],
        ev: new EvidenceSample(3, 3, 6),
      }));
    };
    const touch = (ep: Episode, ts: number) => {
      if (ts < ep.first) ep.first = ts;
      if (ts > ep.last) ep.last = ts;
    };

    function close(ep: Episode): void {
      const f = evaluate(ep);
      if (f) findings.push(f);
    }

    function evaluate(ep: Episode): Finding | null {
      let triggered = false;
      let hotOnly = false;
      const reasons: string[] = [];
      const fails = Math.max(ep.failures, ep.smbStatusFailures);
      // successes only count when they follow guessing
      let successes = ep.successes;
      if (ep.svc === 'rdp') {
        if (ep.attempts >= asNum(s.rdpAttempts, 10)) reasons.push(`short-connections>=${s.rdpAttempts}`);
        if (ep.users.size >= asNum(s.rdpAccounts, 3)) reasons.push(`accounts>=${s.rdpAccounts}`);
        // one hot cookie is a guess only when it came with a short attempt: a cookie seen only in a long
        // session (an interactive logon, e.g. the intruder coming back) is no guessing, and "0 attempts" says nothing
        // An administrator on the inside who mistypes and retries against one server is no guessing either:
        // a hot account alone counts from outside the home networks, or against several hosts.
        if (reasons.length === 0 && ep.hot.length > 0 && ep.attempts > 0 && (!ctx.homeNet.isInternal(ep.src) || ep.dsts.size >= asNum(s.rdpHotInternalHosts, 2))) {
          reasons.push('hot-account');
          hotOnly = true;
        }
        // an interactive session after the guessing: a likely success
        successes = successes.filter((x) => x.ts >= ep.first);
      } else if (ep.svc === 'smb') {
        if (fails >= asNum(s.smbFailures, 10)) reasons.push(`logon-failures>=${s.smbFailures}`);
      } else if (ep.svc === 'ssh') {
        if (ep.failures >= asNum(s.sshFailures, 20)) reasons.push(`auth-failures>=${s.sshFailures}`);
        if (ep.attempts >= asNum(s.sshAttempts, 30)) reasons.push(`short-connections>=${s.sshAttempts}`);
      } else if (ep.svc === 'http') {
        if (ep.attempts >= asNum(s.httpAttempts, 20)) reasons.push(`login-requests>=${s.httpAttempts}`);
        if (reasons.length) {
          // the dominant answer is the failure answer; a different 2xx/3xx answer is a likely success
          let dom = '';
          let domN = -1;
          for (const [k, v] of Object.entries(ep.httpStatus)) if (v > domN) ((dom = k), (domN = v));
          const odd = ep.httpCandidates.filter((c) => String(c.status) !== dom && c.status >= 200 && c.status < 400);
          successes = odd.slice(0, 5).map((c) => ({ dst: c.dst, ts: c.ts, ref: c.ref, confirmed: false, how: `HTTP ${c.status} on ${c.uri} differs from the ${domN} × ${dom} answers` }));
        }
      }
      triggered = reasons.length > 0;
      if (!triggered) return null;
      const confirmed = successes.find((x) => x.confirmed);
      const anySuccess = confirmed ?? successes[0];
      const inbound = !ctx.homeNet.isInternal(ep.src);
      let outcome: FindingOutcome = 'attempt';
      let severity: Severity = hotOnly ? 'low' : 'medium';
      let confidence = hotOnly ? 0.4 : 0.7;
      if (confirmed) {
        outcome = 'compromised';
        severity = 'critical';
        confidence = 0.9;
      } else if (anySuccess) {
        outcome = 'succeeded';
        severity = 'high';
        confidence = 0.65;
      } else if ((ep.svc === 'smb' || ep.svc === 'ssh') && fails > 0) {
        outcome = 'failed';
      }
      const spray = ep.users.size >= 5 && ep.users.size * 2 >= Math.max(fails, ep.attempts);
      const attack = ['T1110', spray ? 'T1110.003' : 'T1110.001'];
      const svcName = { rdp: 'RDP', smb: 'SMB/NTLM', ssh: 'SSH', http: 'HTTP login' }[ep.svc];
      const svcZh = { rdp: 'RDP', smb: 'SMB/NTLM', ssh: 'SSH', http: 'HTTP 登录' }[ep.svc];
      const dsts = ep.dsts.values(20);
      const users = ep.users.values(20);
      const byFail = ep.svc === 'smb' || (ep.svc === 'ssh' && ep.failures > 0);
      // RDP guessing recognised by its cookie accounts alone: count the accounts, never "0 attempts"
      const byAccounts = !byFail && ep.attempts === 0 && ep.users.size > 0;
      const tried = byFail ? `${fails} failed logons` : byAccounts ? `${ep.users.size} accounts tried` : `${ep.attempts} attempts`;
      const triedZh = byFail ? `${fails} 次登录失败` : byAccounts ? `尝试 ${ep.users.size} 个账户` : `${ep.attempts} 次尝试`;
      const userPart = users.length ? ` accounts: ${users.slice(0, 5).join(', ')}${users.length > 5 ? '…' : ''}.` : '';
      const userZh = users.length ? `尝试账户：${users.slice(0, 5).join('、')}${users.length > 5 ? '等' : ''}。` : '';
      let sucEn = '';
      let sucZh = '';
      if (anySuccess) {
        sucEn = confirmed
          ? ` Then a logon to ${anySuccess.dst}${anySuccess.user ? ` as ${anySuccess.user}` : ''} succeeded (${anySuccess.how}).`
          : ` Then a likely success: ${anySuccess.how}.`;
        sucZh = confirmed
          ? `随后${anySuccess.user ? `账户 ${anySuccess.user} ` : ''}登录 ${anySuccess.dst} 成功（${anySuccess.how}），暴力破解成功。`
          : `随后疑似破解成功：${anySuccess.how}。`;
      }
      for (const x of successes.slice(0, 3)) ep.ev.key(x.ref);
      return {
        id: '',
        detector: ID,
        attack,
        severity,
        outcome,
        confidence,
        first: ep.first,
        last: Math.max(ep.last, anySuccess?.ts ?? 0),
        src: ep.src,
        dst: anySuccess?.dst ?? (dsts.length === 1 ? dsts[0] : undefined),
        host: anySuccess?.dst ?? (dsts.length === 1 ? dsts[0] : undefined),
        user: anySuccess?.user ?? (users.length === 1 ? users[0] : undefined),
        summary: {
          en: `${hotOnly ? 'Possible ' : ''}${svcName} password guessing from ${ep.src}${inbound ? ' (outside)' : ''} against ${dsts.length === 1 ? dsts[0] : `${ep.dsts.size} hosts`}: ${tried}.${userPart}${sucEn}`,
          zh: `${ep.src}${inbound ? '（外部地址）' : ''}对${dsts.length === 1 ? ` ${dsts[0]} ` : ` ${ep.dsts.size} 台主机`}进行 ${svcZh} ${hotOnly ? '疑似' : ''}暴力破解：${triedZh}。${userZh}${sucZh}`,
        },
        evidence: ep.ev.refs(),
        facts: {
          service: ep.svc,
          reasons,
          attempts: ep.attempts,
          failures: fails,
          targets: dsts,
          targetCount: ep.dsts.size,
          users,
          userCount: ep.users.size,
          ntStatus: Object.keys(ep.statuses).length ? ep.statuses : undefined,
          hotAccounts: ep.hot.length ? ep.hot : undefined,
          spraying: spray,
          success: anySuccess ? { dst: anySuccess.dst, user: anySuccess.user, confirmed: anySuccess.confirmed, how: anySuccess.how, ref: anySuccess.ref } : undefined,
        },
      };
    }

    return {
      id: ID,
      datasets: ['conn', 'rdp', 'ntlm', 'smb', 'ssh', 'http'],
      observe(e: SpoorEvent): void {
        const ds = e['event.dataset'];
        if (ds === 'conn') {
          const p0 = e['destination.port'];
          if (p0 !== 3389 && p0 !== 22 && e['network.protocol'] !== 'rdp' && e['network.protocol'] !== 'ssh') return;
        }
        const src = str(e, 'source.ip');
        const dst = str(e, 'destination.ip');
        const ts = e['@timestamp'];
        if (!src || !dst || typeof ts !== 'number') return;
        if (ds === 'conn') {
          const port = num(e, 'destination.port');
          const proto = str(e, 'network.protocol') ?? '';
          const dur = num(e, 'event.duration') ?? 0;
          // a guess needs a session: unanswered or payload-less attempts are scanning (net.scan)
          const hist = str(e, 'conn.history') ?? '';
          if (!/h/i.test(hist) || (num(e, 'source.bytes') ?? 0) === 0) return;
          if (port === 3389 || proto === 'rdp') {
            const ep = get(src, 'rdp', ts);
            touch(ep, ts);
            ep.dsts.add(dst);
            const rb = num(e, 'destination.bytes') ?? 0;
            if (ep.attempts > 0 && (dur >= asNum(s.rdpSessionMs, 300_000) || rb >= asNum(s.rdpSessionBytes, 200_000))) {
              if (ep.successes.length < 5)
                ep.successes.push({ dst, ts, ref: refOf(e), confirmed: false, how: `an RDP session of ${Math.round(dur / 1000)} s / ${rb} bytes after the guessing` });
            } else if (dur < asNum(s.rdpShortMs, 60_000)) {
              ep.attempts++;
              ep.ev.addEvent(e);
            }
          } else if (port === 22 || proto === 'ssh') {
            if (dur < asNum(s.sshShortMs, 30_000)) {
              const ep = get(src, 'ssh', ts);
              touch(ep, ts);
              ep.dsts.add(dst);
              ep.attempts++;
              ep.ev.addEvent(e);
            }
          }
          return;
        }
        if (ds === 'rdp') {
          const cookie = str(e, 'rdp.cookie');
          if (!cookie) return;
          const ep = get(src, 'rdp', ts);
          touch(ep, ts);
          ep.dsts.add(dst);
          const user = clip(cookie.replace(/^Cookie:\s*mstshash=/i, '').trim(), 64);
          if (user) {
            ep.users.add(user);
            if (hot.has(user.toLowerCase()) && ep.hot.length < 10 && !ep.hot.includes(user)) {
              ep.hot.push(user);
              ep.ev.key(refOf(e));
            }
          }
          return;
        }
        if (ds === 'ntlm') {
          const outcome = str(e, 'event.outcome');
          const user = str(e, 'user.name');
          const dom = str(e, 'user.domain');
          const who = user ? clip(dom ? `${dom}\\${user}` : user, 96) : undefined;
          const ntst = (str(e, 'ntlm.status') ?? '').toLowerCase();
          // only logon failures are guesses (e.g. 0xC0000022 ACCESS_DENIED on a channel bind is not)
          if (outcome === 'failure' && (!ntst || SMB_FAIL.has(ntst))) {
            const ep = get(src, 'smb', ts);
            touch(ep, ts);
            ep.dsts.add(dst);
            ep.failures++;
            if (who) ep.users.add(who);
            const st = (str(e, 'ntlm.status') ?? '').toLowerCase();
            if (st) ep.statuses[SMB_STATUS_NAME[st] ?? st] = (ep.statuses[SMB_STATUS_NAME[st] ?? st] ?? 0) + 1;
            ep.ev.addEvent(e);
          } else if (outcome === 'success') {
            const ep = episodes.get(`${src}|smb`);
            if (ep && ts - ep.last <= idle && ep.successes.length < 5) {
              touch(ep, ts);
              ep.successes.push({ dst, user: who, ts, ref: refOf(e), confirmed: true, how: 'NTLM authentication accepted' });
            }
          }
          return;
        }
        if (ds === 'smb') {
          const action = str(e, 'event.action');
          if (action !== 'session-setup') return;
          const st = (str(e, 'smb.status') ?? '').toLowerCase();
          if (SMB_FAIL.has(st)) {
            const ep = get(src, 'smb', ts);
            touch(ep, ts);
            ep.dsts.add(dst);
            ep.smbStatusFailures++;
            ep.statuses[SMB_STATUS_NAME[st] ?? st] = (ep.statuses[SMB_STATUS_NAME[st] ?? st] ?? 0) + 1;
            if (ep.failures === 0) ep.ev.addEvent(e);
          } else if (st === '0x00000000') {
            const ep = episodes.get(`${src}|smb`);
            if (ep && ts - ep.last <= idle && ep.successes.length < 5 && !ep.successes.some((x) => x.dst === dst)) {
              touch(ep, ts);
              ep.successes.push({ dst, user: str(e, 'user.name'), ts, ref: refOf(e), confirmed: true, how: 'SMB session setup STATUS_SUCCESS' });
            }
          }
          return;
        }
        if (ds === 'ssh') {
          const ok = e['ssh.auth_success'];
          if (ok === false) {
            const ep = get(src, 'ssh', ts);
            touch(ep, ts);
            ep.dsts.add(dst);
            ep.failures += Math.max(1, num(e, 'ssh.auth_attempts') ?? 1);
            ep.ev.addEvent(e);
          } else if (ok === true) {
            const ep = episodes.get(`${src}|ssh`);
            if (ep && ts - ep.last <= idle && ep.successes.length < 5) {
              touch(ep, ts);
              ep.successes.push({ dst, ts, ref: refOf(e), confirmed: true, how: 'SSH authentication succeeded' });
            }
          }
          return;
        }
        if (ds === 'http') {
          const method = (str(e, 'http.request.method') ?? '').toUpperCase();
          const uri = str(e, 'url.original') ?? '';
          const status = num(e, 'http.response.status_code') ?? 0;
          const path = uriPath(uri);
          const isLogin = (method === 'POST' && loginRe.test(path)) || status === 401;
          if (!isLogin) return;
          // one series per client, server and login path (or per server for 401 answers)
          const ep = get(src, 'http', ts, status === 401 && !(method === 'POST' && loginRe.test(path)) ? `${dst}|401` : `${dst}|${path.slice(0, 200).toLowerCase()}`);
          touch(ep, ts);
          ep.dsts.add(dst);
          ep.attempts++;
          ep.httpStatus[String(status)] = (ep.httpStatus[String(status)] ?? 0) + 1;
          if (ep.httpCandidates.length < 2000) ep.httpCandidates.push({ status, dst, ts, ref: refOf(e), uri: path.slice(0, 120) });
          ep.ev.addEvent(e);
          const auth = e['http.request.headers'] as Record<string, unknown> | undefined;
          const user = typeof auth?.authorization === 'string' ? basicUser(auth.authorization) : undefined;
          if (user) ep.users.add(user);
        }
      },
      finish(): Finding[] {
        for (const ep of episodes.map.values()) close(ep);
        episodes.map.clear();
        return findings.splice(0);
      },
    };
  },
};

function basicUser(h: string): string | undefined {
  const m = /^basic\s+([A-Za-z0-9+/=]+)/i.exec(h);
  if (!m) return undefined;
  const t = Buffer.from(m[1], 'base64').toString('latin1');
  const c = t.indexOf(':');
  return c > 0 ? t.slice(0, c).slice(0, 64) : undefined;
}
