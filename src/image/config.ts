// The OCI / Docker image configuration and the pure functions over it.
import { createHash } from 'node:crypto';
import { invalidArgument } from '../errors/index.js';
import type { Digest } from '../util/index.js';
import { isDigest } from '../util/index.js';
import type { ImageConfigBody } from './types.js';

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

export interface ImageConfig {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  variant?: string;
  'os.version'?: string;
  config?: ImageConfigBody;
  rootfs: { type: string; diff_ids: Digest[] };
  history?: HistoryEntry[];
  // docker-specific fields kept when present
  docker_version?: string;
  comment?: string;
  container?: string;
  container_config?: ImageConfigBody;
}

/** Parse and validate an image config blob. */
export function parseImageConfig(bytes: Uint8Array): ImageConfig {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw invalidArgument(`malformed image config: ${(err as Error).message}`);
  }
  const c = v as Partial<ImageConfig> | null;
  if (!c || typeof c !== 'object') throw invalidArgument('malformed image config: not an object');
  if (!c.rootfs || c.rootfs.type !== 'layers' || !Array.isArray(c.rootfs.diff_ids))
    throw invalidArgument('malformed image config: rootfs.diff_ids missing');
  for (const d of c.rootfs.diff_ids) if (typeof d !== 'string' || !isDigest(d)) throw invalidArgument(`malformed image config: bad diff_id ${JSON.stringify(d)}`);
  if (typeof c.architecture !== 'string' || typeof c.os !== 'string') throw invalidArgument('malformed image config: architecture/os missing');
  return c as ImageConfig;
}

/** Chain IDs as the OCI spec defines them: each layer's identity including its parents. */
export function chainIds(diffIds: readonly Digest[]): Digest[] {
  const out: Digest[] = [];
  for (const d of diffIds) {
    const prev = out[out.length - 1];
    out.push(prev ? (`sha256:${createHash('sha256').update(`${prev} ${d}`).digest('hex')}` as Digest) : d);
  }
  return out;
}

export function platformOf(c: Pick<ImageConfig, 'os' | 'architecture' | 'variant'>): string {
  return [c.os, c.architecture, c.variant].filter(Boolean).join('/');
}

/** Unix seconds of an RFC 3339 time, 0 when absent or unparsable. */
export function unixSeconds(iso: string | undefined): number {
  if (!iso) return 0;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : 0;
}

function splitWords(s: string): string[] {
  return s.trim().split(/\s+/).filter(Boolean);
}

function jsonOrShell(rest: string): string[] {
  const t = rest.trim();
  if (t.startsWith('[')) {
    try {
      const v: unknown = JSON.parse(t);
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
    } catch {
      /* not JSON: shell form below */
    }
  }
  return ['/bin/sh', '-c', t];
}

function keyValues(rest: string): [string, string][] {
  const t = rest.trim();
  if (!t.includes('=')) {
    const [k, ...v] = t.split(/\s+/);
    return k ? [[k, v.join(' ')]] : [];
  }
  const out: [string, string][] = [];
  const re = /([^\s=]+)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/g;
  for (const m of t.matchAll(re)) {
    let v = m[2] ?? '';
    if (v.startsWith('"')) v = JSON.parse(v) as string;
    else if (v.startsWith("'")) v = v.slice(1, -1);
    out.push([m[1] as string, v]);
  }
  return out;
}

/**
 * Apply `docker import --change` / `docker commit --change` instructions
 * (the Dockerfile subset dockerd accepts there) to a config.
 */
export function applyChanges(cfg: ImageConfigBody, changes: readonly string[]): ImageConfigBody {
  const out: ImageConfigBody = { ...cfg };
  for (const raw of changes) {
    for (const line of raw.split('\n')) {
      const m = /^\s*(\w+)\s+([\s\S]*)$/.exec(line);
      if (!line.trim()) continue;
      if (!m) throw invalidArgument(`dockerfile parse error: unknown instruction: ${line.trim()}`);
      const [, word = '', rest = ''] = m;
      switch (word.toUpperCase()) {
        case 'CMD':
          out.Cmd = jsonOrShell(rest);
          break;
        case 'ENTRYPOINT':
          out.Entrypoint = jsonOrShell(rest);
          break;
        case 'ENV': {
          const env = [...(out.Env ?? [])];
          for (const [k, v] of keyValues(rest)) {
            const i = env.findIndex((e) => e.split('=')[0] === k);
            if (i >= 0) env[i] = `${k}=${v}`;
            else env.push(`${k}=${v}`);
          }
          out.Env = env;
          break;
        }
        case 'LABEL':
          out.Labels = { ...(out.Labels ?? {}), ...Object.fromEntries(keyValues(rest)) };
          break;
        case 'EXPOSE': {
          const ports = { ...(out.ExposedPorts ?? {}) };
          for (const p of splitWords(rest)) ports[p.includes('/') ? p : `${p}/tcp`] = {};
          out.ExposedPorts = ports;
          break;
        }
        case 'VOLUME': {
          const vols = { ...(out.Volumes ?? {}) };
          for (const v of rest.trim().startsWith('[') ? jsonOrShell(rest) : splitWords(rest)) vols[v] = {};
          out.Volumes = vols;
          break;
        }
        case 'WORKDIR':
          out.WorkingDir = rest.trim();
          break;
        case 'USER':
          out.User = rest.trim();
          break;
        case 'STOPSIGNAL':
          out.StopSignal = rest.trim();
          break;
        case 'ONBUILD':
          out.OnBuild = [...(out.OnBuild ?? []), rest.trim()];
          break;
        default:
          throw invalidArgument(`${word.toUpperCase()} is not a valid change command`);
      }
    }
  }
  return out;
}

/**
 * dockerd's commit merge: the config asked for (the request body with the
 * changes applied) over the container's, field by field as daemon/commit.go
 * merges them (env and ports and volumes and labels are unions; Cmd comes from
 * the container only when neither Entrypoint nor Cmd was given).
 */
export function mergeCommitConfig(user: ImageConfigBody, container: ImageConfigBody): ImageConfigBody {
  const out: ImageConfigBody = { ...user };
  if (!out.User) out.User = container.User ?? '';
  const ports = { ...(container.ExposedPorts ?? {}), ...(out.ExposedPorts ?? {}) };
  if (Object.keys(ports).length) out.ExposedPorts = ports;
  else if (out.ExposedPorts === undefined && container.ExposedPorts !== undefined) out.ExposedPorts = container.ExposedPorts;
  if (!out.Env?.length) out.Env = container.Env ?? null;
  else {
    const keys = new Set(out.Env.map((e) => e.split('=')[0]));
    out.Env = [...out.Env, ...(container.Env ?? []).filter((e) => !keys.has(e.split('=')[0]))];
  }
  out.Labels = { ...(container.Labels ?? {}), ...(out.Labels ?? {}) };
  if (!out.Entrypoint?.length) {
    if (!out.Cmd?.length) {
      out.Cmd = container.Cmd ?? null;
      if (container.ArgsEscaped !== undefined) out.ArgsEscaped = container.ArgsEscaped;
    }
    if (out.Entrypoint === undefined || out.Entrypoint === null) out.Entrypoint = container.Entrypoint ?? null;
  }
  if (container.Healthcheck && !out.Healthcheck) out.Healthcheck = container.Healthcheck;
  if (!out.WorkingDir) out.WorkingDir = container.WorkingDir ?? '';
  const volumes = { ...(out.Volumes ?? {}), ...(container.Volumes ?? {}) };
  out.Volumes = Object.keys(volumes).length ? volumes : (out.Volumes ?? container.Volumes ?? null);
  if (!out.StopSignal && container.StopSignal) out.StopSignal = container.StopSignal;
  if (container.OnBuild?.length && !out.OnBuild) out.OnBuild = container.OnBuild;
  if (container.Shell?.length && !out.Shell) out.Shell = container.Shell;
  return out;
}
