/**
 * net.webshell — web shells in use (T1505.003): a script file written by an
 * exploit (Spring4Shell access-log valve) or uploaded (multipart filename), then
 * requested; requests to script files carrying command-like parameters
 * (cmd=, pwd=…); responses that look like command output; and cheap shapes of
 * known web-shell clients (China Chopper/AntSword eval bodies, Behinder/Godzilla
 * encrypted POSTs to one script).
 */
import type { EvidenceRef, SpoorEvent } from '../../core/event.js';
import type { Detector, DetectorContext, DetectorModule, Finding, FindingOutcome, Severity } from '../../core/finding.js';
import { settingsFor } from '../../core/finding.js';
import { asNum, asStrList, BoundedMap, clip, deepDecode, EvidenceSample, header, num, parseParams, refOf, str, uriPath, uriQuery } from './util.js';
import { COMMAND_OUTPUT_RE, spring4ShellTarget } from './webexploit.js';

const ID = 'net.webshell';

export const webshellDefaults = {
  scriptExtensions: ['jsp', 'jspx', 'php', 'php5', 'phtml', 'asp', 'aspx', 'ashx', 'asmx', 'cer', 'cfm', 'war'],
  commandParams: ['cmd', 'command', 'exec', 'execute', 'shell', 'run', 'c', 'code', 'x', 'z0', 'ant', 'act', 'action', 'e'],
  /** Requests to one script with an encrypted-looking body before it counts as a web-shell client shape. */
  encryptedPostMin: 3,
  maxScripts: 20_000,
};

const CMD_VALUE_RE =
  /^(?:whoami(?:\s|$|\/)|id(?:\s|$)|ipconfig|ifconfig|hostname(?:\s|$)|uname(?:\s|$)|ls(?:\s|$)|dir(?:\s|$)|pwd$|net\s+(?:user|localgroup|view|group)|netstat|tasklist|ps\b|systeminfo|cat\s|type\s|echo\s|cmd(?:\.exe)?\s*\/c|powershell|wget|curl|certutil|bash|sh\s+-c|\/bin\/|nslookup|ping|query\s+user|quser|wmic|reg\s+query|arp\s+-a|route\s+print|cd\s)/i;
const EVAL_BODY_RE = /@?eval\s*\(|base64_decode\s*\(\s*\$_(?:POST|REQUEST)|@ini_set\s*\(\s*["']display_errors|Runtime\.getRuntime\(\)\.exec\(|System\.Diagnostics\.Process|ProcessBuilder\(|Response\.Write\(.*Eval/i;

interface Script {
  dst: string;
  path: string;
  first: number;
  last: number;
  /** First request to the script itself (first is also moved by the write that named it). */
  reqFirst: number;
  requests: number;
  srcs: Set<string>;
  written?: { by: string; how: string; ts: number; ref: EvidenceRef; refused?: boolean };
  cmds: string[];
  outputs: string[];
  statuses: Record<string, number>;
  encryptedPosts: number;
  evalBodies: number;
  ev: EvidenceSample;
}

/** Cobalt Strike default-profile requests (the beacon's task-output POST and its cookie-metadata GET). */
function C2_PROFILE(method: string, path: string, uri: string, cookie: string | undefined): boolean {
  if (method === 'POST' && /^\/submit\.php$/i.test(path) && /[?&]id=\d+(?:&|$)/.test(uri)) return true;
  if (method === 'GET' && cookie && /^[A-Za-z0-9+/]{40,}={0,2}$/.test(cookie.trim())) return true;
  return false;
}

function isScript(path: string, exts: Set<string>): boolean {
  const dot = path.lastIndexOf('.');
  if (dot < 0) return false;
  return exts.has(path.slice(dot + 1).toLowerCase());
}

function looksEncrypted(body: string): boolean {
  if (body.length < 64) return false;
  // raw binary or one long base64 blob (Behinder, Godzilla)
  let nonPrint = 0;
  for (let i = 0; i < Math.min(body.length, 512); i++) {
    const c = body.charCodeAt(i);
    if (c < 9 || (c > 13 && c < 32) || c > 126) nonPrint++;
  }
  if (nonPrint > 32) return true;
  const eq = body.indexOf('=');
  const blob = eq > 0 && eq < 40 ? body.slice(eq + 1) : body;
  return /^[A-Za-z0-9+/%]{64,}={0,2}(?:&|$)/.test(blob.slice(0, 4096));
}

export const webshellDetector: DetectorModule = {
  id: ID,
  title: { en: 'Web shell', zh: 'WebShell 后门' },
  attack: ['T1505.003'],
  defaults: webshellDefaults,
  create(ctx: DetectorContext): Detector {
    const s = settingsFor(ctx, ID, webshellDefaults);
    const exts = new Set(asStrList(s.scriptExtensions, webshellDefaults.scriptExtensions).map((x) => x.toLowerCase()));
    const cmdParams = new Set(asStrList(s.commandParams, webshellDefaults.commandParams).map((x) => x.toLowerCase()));
    const scripts = new BoundedMap<string, Script>(asNum(s.maxScripts, 20_000));
    const get = (dst: string, path: string, ts: number): Script =>
      scripts.getOrCreate(`${dst}|${path.toLowerCase()}`, () => ({
        dst,
        path,
        first: ts,
        last: ts,
        reqFirst: Infinity,
        requests: 0,
        srcs: new Set(),
        cmds: [],
        outputs: [],
        statuses: {},
        encryptedPosts: 0,
        evalBodies: 0,
        ev: new EvidenceSample(3, 3, 5),
      }));

    return {
      id: ID,
      datasets: ['http'],
      observe(e: SpoorEvent): void {
        const ts = e['@timestamp'];
        const src = str(e, 'source.ip');
        const dst = str(e, 'destination.ip');
        if (typeof ts !== 'number' || !src || !dst) return;
        const uri = str(e, 'url.original') ?? '';
        const method = (str(e, 'http.request.method') ?? '').toUpperCase();
        const body = str(e, 'http.request.body.content') ?? '';
        const path = uriPath(uri);

        // 1. files that a request makes the server write
        if (body || uri.includes('?')) {
          if (/classloader/i.test(deepDecode(uri)) || /classloader/i.test(body.slice(0, 65_536))) {
            const params = parseParams(uriQuery(uri));
            for (const [k, v] of parseParams(body.slice(0, 65_536))) params.set(k, v);
            const target = spring4ShellTarget(params);
            if (target) {
              const sc = get(dst, target, ts);
              // the write that the server accepted (< 400) is the one that made the file; a refused one is kept only until then
              const st = num(e, 'http.response.status_code') ?? 0;
              const accepted = st < 400;
              if (!sc.written || (accepted && sc.written.refused))
                sc.written = { by: src, how: 'Spring4Shell (CVE-2022-22965) AccessLogValve', ts, ref: refOf(e), refused: !accepted || undefined };
            }
          }
        }
        if (method === 'POST' || method === 'PUT') {
          const ct = header(e, 'request', 'content-type') ?? str(e, 'http.request.mime_type') ?? '';
          if (/multipart\/form-data/i.test(ct) || method === 'PUT') {
            const names = new Set<string>();
            const re = /filename\s*=\s*"?([^"\r\n;]+)"?/gi;
            let m: RegExpExecArray | null;
            let n = 0;
            while ((m = re.exec(body.slice(0, 65_536))) && n++ < 20) names.add(m[1].replace(/^.*[\\/]/, ''));
            if (method === 'PUT' && isScript(path, exts)) names.add(path.replace(/^.*\//, ''));
            for (const name of names) {
              if (!isScript(name, exts)) continue;
              // uploaded files land somewhere under the site; remember by file name
              const sc = get(dst, `*/${name}`, ts);
              if (!sc.written) sc.written = { by: src, how: method === 'PUT' ? 'HTTP PUT of a script' : `multipart upload of ${name}`, ts, ref: refOf(e) };
            }
          }
        }

        // 2. requests to script files
        if (!isScript(path, exts)) return;
        // An internal host calling out to an outside script is its own traffic (a C2 check-in or an upload), not a web
        // shell on the estate: Cobalt Strike's default profile POSTs task output to /submit.php?id=<n>, and its
        // http-get check-ins carry base64 metadata in the Cookie. Those are net.c2's; encrypted-looking POSTs outward
        // do not count as a web-shell client shape either.
        const outward = ctx.homeNet.isInternal(src) && !ctx.homeNet.isInternal(dst);
        if (outward && C2_PROFILE(method, path, uri, header(e, 'request', 'cookie'))) return;
        const sc = get(dst, path, ts);
        // an upload remembered by name only
        if (!sc.written) {
          const base = path.replace(/^.*\//, '');
          const up = scripts.get(`${dst}|*/${base.toLowerCase()}`);
          if (up?.written && up.written.ts <= ts) sc.written = up.written;
        }
        sc.requests++;
        if (ts < sc.first) sc.first = ts;
        if (ts < sc.reqFirst) sc.reqFirst = ts;
        if (ts > sc.last) sc.last = ts;
        if (sc.srcs.size < 32) sc.srcs.add(src);
        const status = num(e, 'http.response.status_code') ?? 0;
        sc.statuses[String(status)] = (sc.statuses[String(status)] ?? 0) + 1;
        let interesting = false;
        const params = parseParams(uriQuery(uri));
        if (method === 'POST' && !looksEncrypted(body)) for (const [k, v] of parseParams(body.slice(0, 65_536))) params.set(k, v);
        for (const [k, v] of params) {
          const kl = k.toLowerCase();
          const val = v.trim();
          if ((cmdParams.has(kl) && CMD_VALUE_RE.test(val)) || (kl === 'cmd' && val.length > 0)) {
            if (sc.cmds.length < 10 && !sc.cmds.includes(clip(`${k}=${val}`, 120))) sc.cmds.push(clip(`${k}=${val}`, 120));
            interesting = true;
          }
        }
        if (method === 'POST' && EVAL_BODY_RE.test(body.slice(0, 65_536))) {
          sc.evalBodies++;
          interesting = true;
        }
        if (!outward && method === 'POST' && looksEncrypted(body) && !header(e, 'request', 'referer')) {
          sc.encryptedPosts++;
          interesting = sc.encryptedPosts <= 3;
        }
        const resp = str(e, 'http.response.body.content') ?? '';
        const out = resp ? COMMAND_OUTPUT_RE.exec(resp) : null;
        if (out) {
          if (sc.outputs.length < 3) sc.outputs.push(clip(resp.slice(Math.max(0, out.index - 20), out.index + 120), 160));
          interesting = true;
        }
        sc.ev.addEvent(e);
        if (interesting) sc.ev.key(refOf(e));
      },
      finish(): Finding[] {
        const findings: Finding[] = [];
        for (const sc of scripts.map.values()) {
          if (sc.path.startsWith('*/')) continue;
          if (sc.requests === 0) continue;
          const reasons: string[] = [];
          if (sc.written) reasons.push('written-then-requested');
          if (sc.cmds.length) reasons.push('command-parameters');
          // output alone may be a file read by traversal/LFI (net.web-exploit); it needs a shell-like request too
          const shellLike = sc.cmds.length > 0 || sc.evalBodies > 0 || !!sc.written || sc.encryptedPosts >= asNum(s.encryptedPostMin, 3);
          if (sc.outputs.length && shellLike) reasons.push('command-output');
          if (sc.evalBodies) reasons.push('eval-body');
          if (sc.encryptedPosts >= asNum(s.encryptedPostMin, 3)) reasons.push('encrypted-posts');
          if (reasons.length === 0) continue;
          const ok = Object.keys(sc.statuses).some((k) => Number(k) >= 200 && Number(k) < 300);
          const strong = sc.written || (sc.outputs.length > 0 && shellLike) || (sc.cmds.length > 0 && ok) || sc.evalBodies > 0;
          let outcome: FindingOutcome = 'attempt';
          let confidence = 0.55;
          let severity: Severity = 'high';
          if (strong && ok) {
            outcome = 'compromised';
            severity = 'critical';
            confidence = Math.min(0.97, 0.7 + 0.1 * reasons.length);
          } else if (!ok && Object.keys(sc.statuses).every((k) => Number(k) >= 400)) {
            outcome = 'failed';
            severity = 'medium';
          }
          const srcs = [...sc.srcs];
          const tool = sc.evalBodies ? 'China Chopper/AntSword-style eval body' : sc.encryptedPosts >= 3 ? 'encrypted web-shell client (Behinder/Godzilla-like)' : undefined;
          const writtenEn = sc.written ? ` The file was written by ${sc.written.by} via ${sc.written.how} and then requested.` : '';
          const writtenZh = sc.written ? `该文件由 ${sc.written.by} 通过 ${sc.written.how} 写入，随后被访问。` : '';
          if (sc.written) sc.ev.key(sc.written.ref);
          findings.push({
            id: '',
            detector: ID,
            attack: ['T1505.003'],
            severity,
            outcome,
            confidence,
            first: Math.min(sc.reqFirst, sc.written?.ts ?? Infinity),
            last: sc.last,
            src: srcs[0],
            dst: sc.dst,
            host: sc.dst,
            summary: {
              en: `Web shell ${clip(sc.path, 100)} on ${sc.dst}: ${sc.requests} request(s) from ${srcs.slice(0, 3).join(', ')}${sc.cmds.length ? `, commands like ${sc.cmds.slice(0, 2).join(' | ')}` : ''}${sc.outputs.length ? ', responses carry command output' : ''}.${writtenEn}`,
              zh: `${sc.dst} 上的 WebShell ${clip(sc.path, 100)}：来自 ${srcs.slice(0, 3).join('、')} 的 ${sc.requests} 次访问${sc.cmds.length ? `，执行命令如 ${sc.cmds.slice(0, 2).join(' | ')}` : ''}${sc.outputs.length ? '，响应中含命令执行结果' : ''}。${writtenZh}${outcome === 'compromised' ? '判断服务器已被植入 WebShell 并被控制。' : ''}`,
            },
            evidence: sc.ev.refs(),
            facts: {
              path: sc.path,
              requests: sc.requests,
              clients: srcs,
              reasons,
              commands: sc.cmds,
              outputs: sc.outputs,
              statuses: sc.statuses,
              writtenBy: sc.written ? { src: sc.written.by, how: sc.written.how, ref: sc.written.ref } : undefined,
              tool,
            },
          });
        }
        return findings;
      },
    };
  },
};
