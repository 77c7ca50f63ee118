// The CLI's side: the context tar the docker CLI sends (archive.TarWithOptions
// with the .dockerignore patterns and ChownOpts 0:0): relative names in byte
// order, directories before their contents, hard links kept, .dockerignore
// applied, but the Dockerfile and .dockerignore always sent
// (build.TrimBuildFilesFromExcludes appends "!<them>" when they are excluded).
import { lstat, readdir, readlink } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { encodeHeader, END_OF_ARCHIVE, fileEntryBody, type TarHeader } from '../../util/index.js';
import { byteOrder, compileIgnore, cleanPath, readDockerignore, type IgnoreMatcher } from './match.js';

/** The .dockerignore patterns with the build files re-included, as the docker CLI sends them. */
export function excludesForBuild(patterns: string[], dockerfile: string): string[] {
  const out = [...patterns];
  if (compileIgnore(out).excluded('.dockerignore')) out.push('!.dockerignore');
  if (compileIgnore(out).excluded(dockerfile)) out.push(`!${dockerfile}`);
  return out;
}

interface Walk {
  root: string;
  ignore: IgnoreMatcher;
  /** first name of each (dev, ino) with several links */
  seen: Map<string, string>;
}

async function* walk(w: Walk, rel: string): AsyncGenerator<Buffer> {
  const dir = rel === '' ? w.root : `${w.root}/${rel}`;
  const names = (await readdir(dir)).sort(byteOrder);
  for (const name of names) {
    const childRel = rel === '' ? name : `${rel}/${name}`;
    const host = `${w.root}/${childRel}`;
    let st;
    try {
      st = await lstat(host);
    } catch {
      continue; // removed while we walked
    }
    if (w.ignore.excluded(childRel)) {
      // an excluded directory is only entered when an exception may re-include something in it
      if (st.isDirectory() && w.ignore.mayReinclude(childRel)) yield* walk(w, childRel);
      continue;
    }
    const header: TarHeader = {
      name: childRel,
      type: 'file',
      mode: st.mode & 0o7777,
      uid: 0,
      gid: 0,
      size: 0,
      mtime: Math.floor(st.mtimeMs / 1000),
      linkname: '',
      devmajor: 0,
      devminor: 0,
      xattrs: null,
    };
    if (st.isDirectory()) {
      yield encodeHeader({ ...header, name: `${childRel}/`, type: 'directory' });
      yield* walk(w, childRel);
    } else if (st.isSymbolicLink()) {
      yield encodeHeader({ ...header, type: 'symlink', linkname: await readlink(host) });
    } else if (st.isFile()) {
      if (st.nlink > 1) {
        const key = `${st.dev}:${st.ino}`;
        const first = w.seen.get(key);
        if (first !== undefined) {
          yield encodeHeader({ ...header, type: 'link', linkname: first });
          continue;
        }
        w.seen.set(key, childRel);
      }
      yield encodeHeader({ ...header, size: st.size });
      yield* fileEntryBody(host, st.size, 'pad');
    } else if (st.isFIFO()) {
      yield encodeHeader({ ...header, type: 'fifo' });
    } // sockets and devices are left out
  }
}

/** A tar of `dir` as the docker CLI sends it for `docker build dir`. */
export function createContextTar(dir: string, opts: { dockerfile?: string } = {}): Readable {
  const root = resolve(dir);
  async function* all(): AsyncGenerator<Buffer> {
    let dockerfile = opts.dockerfile ?? 'Dockerfile';
    if (isAbsolute(dockerfile)) dockerfile = relative(root, dockerfile);
    dockerfile = cleanPath(dockerfile.replace(/\\/g, '/'));
    const excludes = excludesForBuild(await readDockerignore(root), dockerfile);
    yield* walk({ root, ignore: compileIgnore(excludes), seen: new Map() }, '');
    yield END_OF_ARCHIVE;
  }
  return Readable.from(all(), { objectMode: false, highWaterMark: 1 << 20 });
}
