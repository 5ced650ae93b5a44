/**
 * Messages and progress on stderr. Progress only when stderr is a terminal and
 * not --quiet; `--log-format json` prints one JSON object per message.
 * Terminal output of evidence-derived text is sanitised (no control characters).
 */
export type LogFormat = 'text' | 'json';

export interface Logger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  progress(p: ProgressState): void;
  done(): void;
}

export interface ProgressState {
  filesDone: number;
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
  events: number;
  startedMs: number;
  current?: string;
}

/** Replace control characters (incl. ESC) so evidence text cannot drive the terminal. */
export function terminalSafe(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function fmtBytes(n: number): string {
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(1)} GiB`;
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(0)} KiB`;
  return `${n} B`;
}

export function createLogger(opts: { quiet?: boolean; format?: LogFormat; stream?: NodeJS.WriteStream }): Logger {
  const out = opts.stream ?? process.stderr;
  const json = opts.format === 'json';
  const showProgress = !opts.quiet && !json && Boolean(out.isTTY);
  let progressShown = false;
  let lastDraw = 0;
  const clear = () => {
    if (progressShown) {
      out.write('\r\x1b[2K');
      progressShown = false;
    }
  };
  const emit = (level: string, msg: string, fields?: Record<string, unknown>) => {
    if (json) {
      out.write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }) + '\n');
      return;
    }
    if (opts.quiet && level === 'info') return;
    clear();
    const prefix = level === 'info' ? '' : `${level}: `;
    out.write(terminalSafe(prefix + msg) + '\n');
  };
  return {
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warning', m, f),
    error: (m, f) => emit('error', m, f),
    progress(p) {
      if (!showProgress) return;
      const now = Date.now();
      if (now - lastDraw < 200) return;
      lastDraw = now;
      const secs = Math.max((now - p.startedMs) / 1000, 0.001);
      const rate = p.events / secs;
      const bps = p.bytesDone / secs;
      const eta = bps > 0 && p.bytesTotal > p.bytesDone ? Math.round((p.bytesTotal - p.bytesDone) / bps) : 0;
      const cur = p.current ? ` ${terminalSafe(p.current).slice(-40)}` : '';
      const line = `files ${p.filesDone}/${p.filesTotal}  ${fmtBytes(p.bytesDone)}/${fmtBytes(p.bytesTotal)}  ${Math.round(rate).toLocaleString('en-US')} events/s  ETA ${eta}s${cur}`;
      out.write('\r\x1b[2K' + line.slice(0, (out.columns || 120) - 1));
      progressShown = true;
    },
    done: clear,
  };
}
