/**
 * Evidence intake: walk the given paths, recognise each file's format from its
 * content (never its name), and open it read-only, hashing while it is read.
 */
import { createReadStream } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { createGunzip, gunzipSync } from 'node:zlib';
import { resolve, join } from 'node:path';
import type { EvidenceReader } from '../readers/types.js';

export interface Candidate {
  path: string;
  size: number;
}

export interface Unreadable {
  path: string;
  reason: string;
}

/** Walk files and folders (recursively, sorted for a stable evidence order). Missing paths are reported, not fatal. */
export async function walkPaths(paths: string[]): Promise<{ files: Candidate[]; problems: Unreadable[] }> {
  const files: Candidate[] = [];
  const problems: Unreadable[] = [];
  const seen = new Set<string>();
  async function visit(p: string): Promise<void> {
    let st;
    try {
      st = await stat(p);
    } catch (err) {
      problems.push({ path: p, reason: errReason(err) });
      return;
    }
    if (st.isDirectory()) {
      let entries: string[];
      try {
        entries = (await readdir(p)).sort();
      } catch (err) {
        problems.push({ path: p, reason: errReason(err) });
        return;
      }
      for (const e of entries) await visit(join(p, e));
    } else if (st.isFile()) {
      const abs = resolve(p);
      if (seen.has(abs)) return;
      seen.add(abs);
      files.push({ path: p, size: st.size });
    }
  }
  for (const p of paths) await visit(p);
  return { files, problems };
}

export function errReason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ENOENT') return 'no such file or folder';
  if (e?.code === 'EACCES' || e?.code === 'EPERM') return 'permission denied';
  if (e?.code === 'EISDIR') return 'is a folder';
  return e?.message ?? String(err);
}

export const HEAD_BYTES = 4096;

export interface Recognised {
  reader: EvidenceReader;
  gzip: boolean;
}

const GZIP_MAGIC = (b: Buffer) => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;

/** Read the first bytes of a file (decompressing gzip) and find the reader that claims it. */
export async function recognise(path: string, readers: readonly EvidenceReader[]): Promise<Recognised | { reason: string }> {
  let head: Buffer;
  try {
    const fh = await open(path, 'r');
    try {
      const buf = Buffer.alloc(64 * 1024);
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      head = buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch (err) {
    return { reason: errReason(err) };
  }
  if (head.length === 0) return { reason: 'empty file' };
  let gzip = false;
  if (GZIP_MAGIC(head)) {
    gzip = true;
    try {
      head = gunzipPrefix(head);
    } catch {
      return { reason: 'gzip data could not be decompressed' };
    }
  }
  const probe = head.subarray(0, HEAD_BYTES);
  for (const r of readers) {
    try {
      if (r.sniff(probe)) return { reader: r, gzip };
    } catch {
      /* a sniffer must not decide the fate of the file by throwing */
    }
  }
  return { reason: gzip ? 'unrecognised format inside gzip' : 'unrecognised format' };
}

/** Decompress as much of a gzip prefix as possible (the prefix is usually truncated mid-stream). */
function gunzipPrefix(buf: Buffer): Buffer {
  try {
    return gunzipSync(buf, { finishFlush: 2 /* Z_SYNC_FLUSH */ });
  } catch (err) {
    const e = err as { code?: string };
    if (e.code === 'Z_BUF_ERROR') return gunzipSync(buf, { finishFlush: 2 });
    throw err;
  }
}

export interface OpenedEvidence {
  /** Decompressed bytes, streamed. */
  stream: AsyncIterable<Buffer>;
  /** Resolves after the stream is consumed: SHA-256 and size of the raw file bytes. */
  digest: Promise<{ sha256: string; size: number }>;
}

/**
 * Open an evidence file read-only; the raw bytes are hashed as they are read
 * (one pass), and decompressed when gzip. If the consumer stops early, the rest
 * of the file is still hashed so the digest always covers the whole file.
 */
export function openEvidence(path: string, gzip: boolean): OpenedEvidence {
  const hash = createHash('sha256');
  let size = 0;
  let resolveDigest!: (v: { sha256: string; size: number }) => void;
  let rejectDigest!: (e: unknown) => void;
  const digest = new Promise<{ sha256: string; size: number }>((res, rej) => {
    resolveDigest = res;
    rejectDigest = rej;
  });
  digest.catch(() => undefined);
  const raw = createReadStream(path, { flags: 'r', highWaterMark: 1 << 20 });

  async function* rawChunks(): AsyncGenerator<Buffer> {
    for await (const chunk of raw) {
      const b = chunk as Buffer;
      hash.update(b);
      size += b.length;
      yield b;
    }
  }

  async function* stream(): AsyncGenerator<Buffer> {
    let finished = false;
    try {
      if (!gzip) {
        yield* rawChunks();
      } else {
        const gunzip = createGunzip();
        const src = rawChunks();
        // Pump raw chunks into gunzip; surface decompression errors as the end of data.
        const pump = (async () => {
          for await (const c of src) {
            if (gunzip.destroyed) break;
            if (!gunzip.write(c)) await new Promise((r) => { gunzip.once('drain', r); gunzip.once('close', r); });
          }
          if (!gunzip.destroyed) gunzip.end();
        })();
        pump.catch((e) => gunzip.destroy(e));
        try {
          for await (const c of gunzip) yield c as Buffer;
        } catch (err) {
          const e = new Error(`gzip stream damaged: ${(err as Error).message}`);
          (e as Error & { gzipDamage: boolean }).gzipDamage = true;
          throw e;
        } finally {
          if (!gunzip.readableEnded) {
            gunzip.destroy();
            raw.destroy();
          }
          await pump.catch(() => undefined);
        }
      }
      finished = true;
    } finally {
      if (!finished) {
        // The consumer stopped early (or the data was damaged): hash the whole file again,
        // so the digest always covers every byte.
        Promise.all([sha256File(path), stat(path)]).then(([sha256, st]) => resolveDigest({ sha256, size: st.size }), rejectDigest);
      } else {
        resolveDigest({ sha256: hash.digest('hex'), size });
      }
    }
  }
  return { stream: stream(), digest };
}

/** SHA-256 of a whole file (for files that were skipped but still belong in the custody list). */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const c of createReadStream(path, { flags: 'r' })) hash.update(c as Buffer);
  return hash.digest('hex');
}
