// Small builders for the context tests: tars crafted entry by entry (to say
// exactly what a hostile client could send) and compressed with real tools.
import { spawnSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { encodeHeader, END_OF_ARCHIVE, padding, type TarHeader } from '../../storage/index.js';

export interface TestEntry {
  name: string;
  type?: TarHeader['type'];
  mode?: number;
  content?: string | Buffer;
  linkname?: string;
  uid?: number;
  gid?: number;
  mtime?: number;
}

export function makeTar(entries: TestEntry[], opts: { end?: boolean } = {}): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const body = e.content === undefined ? Buffer.alloc(0) : Buffer.from(e.content);
    const type = e.type ?? 'file';
    parts.push(
      encodeHeader({
        name: e.name,
        type,
        mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644),
        uid: e.uid ?? 0,
        gid: e.gid ?? 0,
        size: type === 'file' ? body.length : 0,
        mtime: e.mtime ?? 1_600_000_000,
        linkname: e.linkname ?? '',
        devmajor: 0,
        devminor: 0,
        xattrs: null,
      }),
    );
    if (type === 'file' && body.length > 0) parts.push(body, Buffer.alloc(padding(body.length)));
  }
  if (opts.end !== false) parts.push(END_OF_ARCHIVE);
  return Buffer.concat(parts);
}

export function compress(data: Buffer, how: 'gzip' | 'bzip2' | 'xz' | 'zstd'): Buffer {
  if (how === 'gzip') return gzipSync(data);
  const r = spawnSync(how, ['-c'], { input: data, maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${how} failed: ${r.stderr.toString()}`);
  return r.stdout;
}
