/**
 * report.html in a real browser: Debian's headless Chromium, driven over the
 * DevTools protocol on a pipe (no npm dependency). Checks: no console errors,
 * no exceptions, no network requests (only the file itself), the pictures
 * are laid out; writes a screenshot of the attack-chain graph for a person to
 * look at. Also prints the report to PDF through `htmlToPdf`. Skips when
 * Chromium is absent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CHROMIUM_FLAGS, findChromium, htmlToPdf } from '../../src/cli/commands/report.js';
import { renderHtml } from '../../src/render/index.js';
import { buildCase1, buildCase2, buildHostile } from './fixtures.js';

void buildCase2;

const chromium = findChromium();
const skip = chromium ? false : 'Chromium not installed (Debian package "chromium")';

interface Cdp {
  send(method: string, params?: Record<string, unknown>, sessionId?: string): Promise<Record<string, unknown>>;
  events: { method: string; params: Record<string, unknown>; sessionId?: string }[];
  waitFor(method: string, timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

async function launch(profile: string): Promise<Cdp> {
  const child = spawn(chromium!, [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`, '--remote-debugging-pipe', 'about:blank'], { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] });
  const input = child.stdio[3] as NodeJS.WritableStream;
  const output = child.stdio[4] as NodeJS.ReadableStream;
  let id = 0;
  const pending = new Map<number, { ok: (v: Record<string, unknown>) => void; fail: (e: Error) => void }>();
  const events: Cdp['events'] = [];
  const waiters: { method: string; ok: () => void }[] = [];
  let buf = '';
  output.on('data', (chunk: Buffer) => {
    buf += chunk.toString('utf8');
    let z: number;
    while ((z = buf.indexOf('\0')) >= 0) {
      const msg = JSON.parse(buf.slice(0, z));
      buf = buf.slice(z + 1);
      if (msg.id !== undefined) {
        const p = pending.get(msg.id);
        pending.delete(msg.id);
        if (msg.error) p?.fail(new Error(`${msg.error.message}`));
        else p?.ok(msg.result ?? {});
      } else {
        events.push(msg);
        for (const w of waiters.splice(0)) (w.method === msg.method ? w.ok : () => waiters.push(w))();
      }
    }
  });
  const cdpSend: Cdp['send'] = (method, params = {}, sessionId) => {
    const msg = { id: ++id, method, params, ...(sessionId ? { sessionId } : {}) };
    return new Promise((ok, fail) => {
      pending.set(msg.id, { ok, fail });
      input.write(JSON.stringify(msg) + '\0');
    });
  };
  return {
    events,
    send: cdpSend,
    waitFor(method, timeoutMs) {
      if (events.some((e) => e.method === method)) return Promise.resolve();
      return new Promise((ok, fail) => {
        const timer = setTimeout(() => fail(new Error(`timeout waiting for ${method}`)), timeoutMs);
        waiters.push({ method, ok: () => (clearTimeout(timer), ok()) });
      });
    },
    async close() {
      try {
        await Promise.race([cdpSend('Browser.close'), new Promise((r) => setTimeout(r, 2000))]);
      } catch {
        /* already gone */
      }
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

test('report.html renders in headless Chromium with no console errors and no network requests', { skip, timeout: 60_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'spoor-browser-'));
  const cdp = await launch(join(dir, 'profile'));
  try {
    for (const [name, f] of [['case1', buildCase1()], ['hostile', buildHostile()]] as const) {
      const page = join(dir, `${name}.html`);
      await writeFile(page, renderHtml(f));
      const { targetId } = (await cdp.send('Target.createTarget', { url: 'about:blank' })) as { targetId: string };
      const { sessionId } = (await cdp.send('Target.attachToTarget', { targetId, flatten: true })) as { sessionId: string };
      for (const d of ['Runtime.enable', 'Log.enable', 'Network.enable', 'Page.enable']) await cdp.send(d, {}, sessionId);
      cdp.events.length = 0;
      await cdp.send('Page.navigate', { url: pathToFileURL(page).href }, sessionId);
      await cdp.waitFor('Page.loadEventFired', 20_000);
      await new Promise((r) => setTimeout(r, 300));
      const mine = cdp.events.filter((e) => e.sessionId === sessionId);
      const requests = mine.filter((e) => e.method === 'Network.requestWillBeSent').map((e) => String((e.params.request as { url: string }).url));
      assert.deepEqual(requests.filter((u) => !u.startsWith('file:')), [], `${name}: network requests`);
      const errors = mine
        .filter(
          (e) =>
            e.method === 'Runtime.exceptionThrown' ||
            (e.method === 'Runtime.consoleAPICalled' && ['error', 'assert'].includes(String(e.params.type))) ||
            (e.method === 'Log.entryAdded' && (e.params.entry as { level: string }).level === 'error'),
        )
        .map((e) => JSON.stringify(e.params).slice(0, 300));
      assert.deepEqual(errors, [], `${name}: console errors`);
      const probe = (await cdp.send(
        'Runtime.evaluate',
        {
          expression: `JSON.stringify({chain: document.querySelector('#lang-zh svg.chain')?.getBoundingClientRect().width ?? 0,
            timeline: document.querySelector('#lang-zh svg.timeline')?.getBoundingClientRect().width ?? 0,
            scripts: document.scripts.length, title: document.title})`,
          returnByValue: true,
        },
        sessionId,
      )) as { result: { value: string } };
      const p = JSON.parse(probe.result.value);
      assert.ok(p.chain > 200 && p.timeline > 200, `${name}: pictures laid out ${probe.result.value}`);
      assert.equal(p.scripts, 0);
      if (name !== 'hostile') {
        // A screenshot of the chain graph for a person to check.
        const box = (await cdp.send('Runtime.evaluate', { expression: `(() => { const r = document.querySelector('#lang-zh figure').getBoundingClientRect(); return JSON.stringify({x: r.x + scrollX, y: r.y + scrollY, width: r.width, height: r.height}); })()`, returnByValue: true }, sessionId)) as { result: { value: string } };
        const clip = { ...JSON.parse(box.result.value), scale: 1 };
        const shot = (await cdp.send('Page.captureScreenshot', { format: 'png', clip, captureBeyondViewport: true }, sessionId)) as { data: string };
        const out = join(tmpdir(), `spoor-${name}-chain.png`);
        await writeFile(out, Buffer.from(shot.data, 'base64'));
        t.diagnostic(`chain graph screenshot: ${out}`);
        // And it prints: A4 PDF from the same page.
        const pdf = (await cdp.send('Page.printToPDF', { paperWidth: 8.27, paperHeight: 11.69, printBackground: true }, sessionId)) as { data: string };
        const bytes = Buffer.from(pdf.data, 'base64');
        assert.equal(bytes.subarray(0, 5).toString('latin1'), '%PDF-');
        const pages = (bytes.toString('latin1').match(/\/Type\s*\/Page\b/g) ?? []).length;
        assert.ok(pages >= 2, `${name}: PDF pages ${pages}`);
      }
      await cdp.send('Target.closeTarget', { targetId });
    }
  } finally {
    await cdp.close();
    await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 }); // Chromium may still be writing its profile
  }
});

test('spoor report --format pdf path (htmlToPdf, a separate Chromium run; set SPOOR_TEST_PDF=1)', { skip: skip || (process.env.SPOOR_TEST_PDF ? false : 'slow: set SPOOR_TEST_PDF=1 to run'), timeout: 90_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'spoor-pdf-'));
  try {
    const html = join(dir, 'report.html');
    await writeFile(html, renderHtml(buildCase2()));
    await htmlToPdf(html, join(dir, 'report.pdf'), chromium);
    const pdf = await readFile(join(dir, 'report.pdf'));
    assert.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-');
    assert.ok(pdf.length > 10_000);
  } finally {
    await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 }); // Chromium may still be writing its profile
  }
});

test('htmlToPdf explains itself when Chromium is missing', async () => {
  await assert.rejects(htmlToPdf('/nonexistent.html', '/tmp/x.pdf', null), /Chromium.*not found/);
});
