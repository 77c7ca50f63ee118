// POST /build and /build/prune: parse docker's query, hand the body (the
// context tar) to the builder, stream its messages back.
import type { IncomingMessage } from 'node:http';
import { BerthError, messageOf } from '../../errors/index.js';
import type { BuildCachePruneReport, BuildMessage, BuildRequest } from '../../build/types.js';
import type { Router } from '../router.js';
import { boolValue, parseFilters, writeJson } from '../request.js';
import { ProgressWriter } from '../stream.js';

/** What the routes need of the builder (src/build's Builder). */
export interface BuildService {
  build(req: BuildRequest, context: IncomingMessage, emit: (m: BuildMessage) => void, signal: AbortSignal): Promise<string>;
  prune(opts: { all?: boolean; filters?: Record<string, string[]> }): Promise<BuildCachePruneReport>;
}

function jsonObject(raw: string | null, name: string): Record<string, string | null> {
  if (!raw) return {};
  try {
    const v = JSON.parse(raw) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, string | null>;
  } catch {
    // fall through
  }
  throw new BerthError('invalid_argument', `invalid ${name}: ${raw}`);
}

/** X-Registry-Config: base64 (URL-safe or not) JSON of server → credentials; unreadable means none, as dockerd. */
function registryConfig(header: string | string[] | undefined): BuildRequest['registryAuth'] {
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  if (!value) return undefined;
  try {
    return JSON.parse(Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8')) as BuildRequest['registryAuth'];
  } catch {
    return undefined;
  }
}

export function buildRoutes(router: Router, builder: BuildService): void {
  router.post('/build', async ({ req, res, query, signal }) => {
    if (query.get('version') === '2') throw new BerthError('invalid_argument', 'BuildKit (version=2) is not supported by this daemon: use the classic builder API');
    // Options whose silent omission would change the result are refused by name (dockerd's
    // CLI sends the resource ones as 0 when unset: only values that ask for something count).
    if (query.get('remote')) throw new BerthError('invalid_argument', 'remote build contexts (remote=) are not supported: send the context as the request body');
    if (boolValue(query, 'squash')) throw new BerthError('invalid_argument', 'squash is not supported');
    if (query.get('outputs') && query.get('outputs') !== '[]') throw new BerthError('invalid_argument', 'outputs are not supported by the classic builder');
    for (const limit of ['memory', 'memswap', 'cpushares', 'cpuquota', 'cpuperiod', 'shmsize', 'cpusetcpus', 'cpusetmems']) {
      const v = query.get(limit);
      if (v && v !== '0' && v !== '-1') throw new BerthError('invalid_argument', `build resource limits (${limit}) are not supported`);
    }
    const request: BuildRequest = {
      tags: query.getAll('t').filter(Boolean),
      dockerfile: query.get('dockerfile') || 'Dockerfile',
      buildArgs: jsonObject(query.get('buildargs'), 'build args'),
      ...(query.get('target') ? { target: query.get('target') as string } : {}),
      noCache: boolValue(query, 'nocache'),
      pull: boolValue(query, 'pull'),
      labels: jsonObject(query.get('labels'), 'labels') as Record<string, string>,
      ...(query.get('platform') ? { platform: query.get('platform') as string } : {}),
      quiet: boolValue(query, 'q'),
      rm: query.has('rm') ? boolValue(query, 'rm') : true,
      forceRm: boolValue(query, 'forcerm'),
      ...(query.get('networkmode') && query.get('networkmode') !== 'default' ? { networkMode: query.get('networkmode') as string } : {}),
      ...(query.getAll('extrahosts').some(Boolean) ? { extraHosts: query.getAll('extrahosts').flatMap((h) => h.split(',')).filter(Boolean) } : {}),
      stepRecords: boolValue(query, 'berthprogress'),
      registryAuth: registryConfig(req.headers['x-registry-config']),
    };
    const out = new ProgressWriter(res);
    try {
      await builder.build(request, req, (m) => out.write(m as Parameters<ProgressWriter['write']>[0]), signal);
      out.end();
    } catch (err) {
      if (!out.started) throw err;
      // dockerd puts a failed RUN's exit code in errorDetail.code
      const exitCode = (err as { exitCode?: number } | undefined)?.exitCode ?? (err as { cause?: { exitCode?: number } } | undefined)?.cause?.exitCode;
      const message = messageOf(err);
      if (!res.destroyed && !res.writableEnded) res.end(JSON.stringify({ errorDetail: { ...(exitCode !== undefined ? { code: exitCode } : {}), message }, error: message }) + '\n');
    }
  });

  router.post('/build/prune', async ({ res, query }) => {
    const report = await builder.prune({ all: boolValue(query, 'all'), filters: parseFilters(query.get('filters'), ['until', 'type', 'id', 'description', 'inuse', 'shared', 'private']) });
    writeJson(res, 200, report);
  });
}
