// COPY/ADD sources, buildkit's rules: the path is cleaned and rooted at the
// source root ('../x' stays inside), the part before the first wildcard
// segment is resolved with symlinks kept inside the root, the rest is matched
// with Go's filepath.Match against the tree below it (not following symlinks
// while walking), and each match's final symlink is followed inside the root.
import { lstatSync, readdirSync, type Stats } from 'node:fs';
import { posix } from 'node:path';
import { BerthError } from '../../errors/index.js';
import { resolveInRootfs } from '../../container/index.js';
import { byteOrder, cleanPath, compileIgnore, goMatch, hasWildcards, type IgnoreMatcher } from './match.js';
import type { ResolveSourcesOptions, SourceMatch } from './types.js';

/** Go's byte order of names (filepath.Walk and the docker CLI sort this way). */
export { byteOrder };

export function sortedNames(dir: string): string[] {
  return readdirSync(dir).sort(byteOrder);
}

const lstatOrNull = (p: string): Stats | undefined => lstatSync(p, { throwIfNoEntry: false });

function sourceNotFound(cleaned: string): BerthError {
  return new BerthError('not_found', `failed to compute cache key: failed to calculate checksum of ref: ${JSON.stringify(cleaned)}: not found`);
}

/** A root path inside `root`, symlinks resolved in it (a dangling final link resolves to where it points). */
function resolveIn(root: string, rel: string): string {
  return resolveInRootfs({ rootfs: root, mounts: [], running: false }, `/${rel}`, { followLast: true });
}

/** Relative paths under `dir` with exactly `depth` segments (symlinks are entries, never descended into). */
function entriesAtDepth(dir: string, depth: number, prefix = ''): string[] {
  const out: string[] = [];
  let names: string[];
  try {
    names = sortedNames(dir);
  } catch {
    return out; // not a directory, or gone
  }
  for (const name of names) {
    const rel = prefix === '' ? name : `${prefix}/${name}`;
    if (depth === 1) out.push(rel);
    else if (lstatOrNull(`${dir}/${name}`)?.isDirectory()) out.push(...entriesAtDepth(`${dir}/${name}`, depth - 1, rel));
  }
  return out;
}

/**
 * The entries COPY/ADD sources name under root. `opts.scoped` (a stage's rootfs)
 * changes nothing here: the context's own symlinks are resolved inside the
 * context too, as buildkit does for both.
 */
export async function resolveSources(root: string, patterns: string[], opts: ResolveSourcesOptions = {}): Promise<SourceMatch[]> {
  const excludes = opts.excludes && opts.excludes.length > 0 ? opts.excludes : undefined;
  const ignore: IgnoreMatcher | undefined = excludes ? compileIgnore(excludes) : undefined;
  const out: SourceMatch[] = [];
  for (const pattern of patterns) {
    const cleaned = cleanPath(posix.join('/', pattern));
    const parts = cleaned.split('/').filter((p) => p !== '');
    const firstWild = parts.findIndex(hasWildcards);
    if (firstWild < 0) {
      const relPath = parts.join('/');
      const hostPath = resolveIn(root, relPath);
      const st = lstatOrNull(hostPath);
      if (!st) throw sourceNotFound(cleaned);
      if (ignore?.excluded(relPath)) continue;
      out.push({ pattern, hostPath, relPath, isDir: st.isDirectory(), wildcard: false, ...(excludes ? { excludes } : {}) });
      continue;
    }
    const base = parts.slice(0, firstWild).join('/');
    const rest = parts.slice(firstWild);
    const baseHost = resolveIn(root, base);
    const restPattern = rest.join('/');
    let found = 0;
    for (const rel of entriesAtDepth(baseHost, rest.length)) {
      if (!goMatch(restPattern, rel)) continue;
      found++;
      const relPath = base === '' ? rel : `${base}/${rel}`;
      if (ignore?.excluded(relPath)) continue;
      const hostPath = resolveIn(root, relPath);
      const st = lstatOrNull(hostPath);
      if (!st) continue; // a dangling symlink matched by name has nothing to copy
      out.push({ pattern, hostPath, relPath, isDir: st.isDirectory(), wildcard: true, ...(excludes ? { excludes } : {}) });
    }
    if (found === 0) {
      goMatch(restPattern, ''); // a malformed pattern is a syntax error, not "not found"
      throw sourceNotFound(cleaned);
    }
  }
  return out;
}

/** One entry of a match's tree, for copying and checksumming. */
export interface TreeEntry {
  /** path relative to the match ('' for the match itself) */
  rel: string;
  host: string;
  st: Stats;
}

/**
 * The match and (for a directory) everything below it, parents before children,
 * names in byte order, symlinks not followed; the match's excludes applied.
 */
export function* walkMatch(match: SourceMatch): Generator<TreeEntry> {
  const st = lstatOrNull(match.hostPath);
  if (!st) return;
  yield { rel: '', host: match.hostPath, st };
  if (!st.isDirectory()) return;
  const ignore = match.excludes && match.excludes.length > 0 ? compileIgnore(match.excludes) : undefined;
  yield* walkDir(match, ignore, match.hostPath, '');
}

function* walkDir(match: SourceMatch, ignore: IgnoreMatcher | undefined, dir: string, rel: string): Generator<TreeEntry> {
  for (const name of sortedNames(dir)) {
    const childRel = rel === '' ? name : `${rel}/${name}`;
    const host = `${dir}/${name}`;
    const st = lstatOrNull(host);
    if (!st) continue;
    if (ignore && excludedEntry(ignore, match.relPath, childRel)) {
      // an excluded directory is still entered when an exception may re-include something below it
      if (!st.isDirectory() || !(ignore.mayReinclude(childRel) || ignore.mayReinclude(joinRel(match.relPath, childRel)))) continue;
      yield* walkDir(match, ignore, host, childRel);
      continue;
    }
    yield { rel: childRel, host, st };
    if (st.isDirectory()) yield* walkDir(match, ignore, host, childRel);
  }
}

const joinRel = (a: string, b: string) => (a === '' ? b : b === '' ? a : `${a}/${b}`);

function excludedEntry(ignore: IgnoreMatcher, matchRel: string, childRel: string): boolean {
  return ignore.excluded(childRel) || ignore.excluded(joinRel(matchRel, childRel));
}
