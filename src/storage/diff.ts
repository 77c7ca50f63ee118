// An overlayfs diff (upper) directory -> an OCI layer tar: 0/0 character
// devices become .wh.NAME whiteouts, trusted.overlay.opaque=y becomes
// .wh..wh..opq, xattrs go into PAX records, hardlinks are found by inode.
// Entries are sorted by name so the same tree gives the same bytes.
import { lstat, readdir, readlink } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Readable } from 'node:stream';
import { sys } from '../native/index.js';
import { encodeHeader, END_OF_ARCHIVE, fileEntryBody, type TarHeader } from '../util/tar.js';


function xattrsOf(path: string): { xattrs: Map<string, Buffer> | null; opaque: boolean } {
  let xattrs: Map<string, Buffer> | null = null;
  let opaque = false;
  for (const name of sys.llistxattr(path)) {
    if (name.startsWith('trusted.overlay.')) {
      if (name === 'trusted.overlay.opaque') opaque = sys.lgetxattr(path, name)?.toString() === 'y';
      continue; // overlay's bookkeeping is not layer content
    }
    const value = sys.lgetxattr(path, name);
    if (value !== null) (xattrs ??= new Map()).set(name, value);
  }
  return { xattrs, opaque };
}

const devMajor = (rdev: number) => Math.floor(rdev / 256) & 0xfff;
const devMinor = (rdev: number) => (rdev & 0xff) | ((rdev >>> 12) & 0xfff00);

async function* entries(root: string, rel: string, seen: Map<string, string>): AsyncGenerator<Buffer> {
  const names = (await readdir(rel === '' ? root : `${root}/${rel}`)).sort();
  for (const name of names) {
    const path = rel === '' ? name : `${rel}/${name}`;
    const abs = `${root}/${path}`;
    const st = await lstat(abs);
    const base: TarHeader = {
      name: path,
      type: 'file',
      mode: st.mode & 0o7777,
      uid: st.uid,
      gid: st.gid,
      size: 0,
      mtime: Math.floor(st.mtimeMs / 1000),
      linkname: '',
      devmajor: 0,
      devminor: 0,
      xattrs: null,
    };
    if (st.isCharacterDevice() && st.rdev === 0) {
      yield encodeHeader({ ...base, name: rel === '' ? `.wh.${name}` : `${rel}/.wh.${name}`, mode: 0o644 });
      continue;
    }
    const { xattrs, opaque } = xattrsOf(abs);
    base.xattrs = xattrs;
    if (st.isDirectory()) {
      yield encodeHeader({ ...base, name: `${path}/`, type: 'directory' });
      if (opaque) yield encodeHeader({ ...base, name: `${path}/.wh..wh..opq`, mode: 0o644, xattrs: null });
      yield* entries(root, path, seen);
    } else if (st.isSymbolicLink()) {
      yield encodeHeader({ ...base, type: 'symlink', linkname: await readlink(abs) });
    } else if (st.isCharacterDevice() || st.isBlockDevice()) {
      yield encodeHeader({ ...base, type: st.isCharacterDevice() ? 'char' : 'block', devmajor: devMajor(st.rdev), devminor: devMinor(st.rdev) });
    } else if (st.isFIFO()) {
      yield encodeHeader({ ...base, type: 'fifo' });
    } else if (st.isFile()) {
      if (st.nlink > 1) {
        const key = `${st.dev}:${st.ino}`;
        const first = seen.get(key);
        if (first !== undefined) {
          yield encodeHeader({ ...base, type: 'link', linkname: first });
          continue;
        }
        seen.set(key, path);
      }
      yield encodeHeader({ ...base, size: st.size });
      yield* fileEntryBody(abs, st.size, 'throw');
    } // sockets are not layer content
  }
}

/** A layer tar (uncompressed) of an overlay diff directory. */
export function layerTarFromDir(dir: string): Readable {
  const root = resolve(dir);
  async function* all(): AsyncGenerator<Buffer> {
    yield* entries(root, '', new Map());
    yield END_OF_ARCHIVE;
  }
  return Readable.from(all(), { objectMode: false, highWaterMark: 1 << 20 });
}
