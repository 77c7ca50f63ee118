// Helpers for docker's container operations that read the host: the writable
// layer's changes (docker diff), `ps` output limited to a container's pids
// (docker top), and the size of a directory tree (prune's SpaceReclaimed).
import { execFile } from 'node:child_process';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError, invalidArgument } from '../errors/index.js';
import type { FilesystemChange, TopResult } from './types.js';

/**
 * Paths dockerd keeps in the container's init layer (mount points the runtime
 * needs). We have no init layer: runc creates them in the upper dir, so they
 * count as part of the image, as they do for docker.
 */
const INIT_PATHS = new Set([
  '/dev', '/dev/pts', '/dev/shm', '/dev/console', '/dev/mqueue',
  '/etc/hostname', '/etc/hosts', '/etc/resolv.conf', '/etc/mtab',
  '/proc', '/sys', '/.dockerenv',
]);

async function existsIn(lowers: readonly string[], path: string): Promise<boolean> {
  for (const lower of lowers) {
    if (await lstat(join(lower, path)).then(() => true, () => false)) return true;
  }
  return false;
}

/**
 * docker's overlay changes: walk `upper` in lexical order; a 0/0 character
 * device is a whiteout (deleted), a path found in a lower dir is modified,
 * anything else added. A directory that exists below is reported as modified
 * when something under it changed or its mode differs; the parent of an
 * added or deleted path is always reported.
 */
export async function overlayChanges(upper: string, lowers: readonly string[]): Promise<FilesystemChange[]> {
  const out: FilesystemChange[] = [];
  const walk = async (rel: string): Promise<boolean> => {
    const names = (await readdir(join(upper, rel)).catch(() => [] as string[])).sort();
    let changed = false;
    for (const name of names) {
      const path = `${rel === '/' ? '' : rel}/${name}`;
      const st = await lstat(join(upper, path));
      if (st.isCharacterDevice() && st.rdev === 0) {
        out.push({ Path: path, Kind: 2 });
        changed = true;
        continue;
      }
      const below = await existsIn(lowers, path);
      if (INIT_PATHS.has(path) && (st.isDirectory() || st.size === 0)) {
        if (st.isDirectory()) changed = (await walkChild(path, true)) || changed;
        continue;
      }
      if (st.isDirectory() && below) {
        changed = (await walkChild(path, true)) || changed;
        continue;
      }
      out.push({ Path: path, Kind: below ? 0 : 1 });
      changed = true;
      if (st.isDirectory()) await walkChild(path, false);
    }
    return changed;
  };
  /** Walks a directory; one that exists below is listed (modified) only if something in it changed or its mode differs. */
  const walkChild = async (path: string, existsBelow: boolean): Promise<boolean> => {
    if (!existsBelow) return walk(path);
    const at = out.length;
    const inner = await walk(path);
    const modeDiffers = await modeDiffersBelow(upper, lowers, path);
    if (inner || modeDiffers) out.splice(at, 0, { Path: path, Kind: 0 });
    return inner || modeDiffers;
  };
  await walk('/');
  return out;
}

async function modeDiffersBelow(upper: string, lowers: readonly string[], path: string): Promise<boolean> {
  const mine = await lstat(join(upper, path));
  for (const lower of lowers) {
    const theirs = await lstat(join(lower, path)).catch(() => undefined);
    if (theirs) return theirs.mode !== mine.mode;
  }
  return false;
}

/** Bytes in the files of a tree (without following links); 0 when it does not exist. */
export async function treeSize(dir: string): Promise<number> {
  let total = 0;
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += await treeSize(p);
    else total += (await lstat(p).catch(() => undefined))?.size ?? 0;
  }
  return total;
}

/** dockerd's validatePSArgs: a `-o` field list may not use `=` with a column name (the header would go). */
export function validatePsArgs(psArgs: string): void {
  const group = /\s*-o\s+([^\s]+)/.exec(psArgs)?.[1] ?? /^o\s*([^\s]+)/.exec(psArgs)?.[1];
  if (!group) return;
  for (const field of group.split(',')) {
    if (field.includes('=') && !field.endsWith('=')) throw invalidArgument('ps_args: cannot use -o with column headers removed');
  }
}

function runPs(args: string[]): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('ps', args, { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => resolve({ ok: !err, stdout, stderr }));
  });
}

/** dockerd's ContainerTop: `ps ARGS -q PIDS` (or plain `ps ARGS` when ps refuses -q with them), rows of the container's pids. */
export async function topOf(pids: readonly number[], psArgs: string): Promise<TopResult> {
  const args = psArgs.split(' ');
  let res = await runPs([...args, '-q', pids.join(',')]);
  if (!res.ok) {
    res = await runPs(args);
    if (!res.ok) throw new BerthError('internal', `ps: ${res.stderr.split('\n')[0] || 'ps failed'}`);
  }
  return parsePsOutput(res.stdout, pids);
}

/** dockerd's parsePSOutput: titles from the header, rows whose PID is the container's (and thread rows after them). */
export function parsePsOutput(output: string, pids: readonly number[]): TopResult {
  const lines = output.split('\n');
  const titles = (lines[0] ?? '').trim().split(/\s+/).filter(Boolean);
  const pidIndex = titles.indexOf('PID');
  if (pidIndex < 0) throw new BerthError('internal', "Couldn't find PID field in ps output");
  const wanted = new Set(pids);
  const processes: string[][] = [];
  const row = (fields: string[]) => [...fields.slice(0, titles.length - 1), fields.slice(titles.length - 1).join(' ')];
  let previousWanted = false;
  for (const line of lines.slice(1)) {
    if (line.length === 0) continue;
    const fields = line.trim().split(/\s+/);
    const pidField = fields[pidIndex] ?? '';
    if (pidField === '-') {
      if (previousWanted) processes.push(row(fields));
      continue;
    }
    const pid = Number(pidField);
    if (!/^\d+$/.test(pidField)) throw new BerthError('internal', `Unexpected pid '${pidField}'`);
    previousWanted = wanted.has(pid);
    if (previousWanted) processes.push(row(fields));
  }
  return { Titles: titles, Processes: processes };
}
