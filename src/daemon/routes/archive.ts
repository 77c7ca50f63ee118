// docker cp (HEAD/GET/PUT /containers/{id}/archive), docker export and
// docker commit: parse the request, run the domain function on the
// container's mounted root (src/container/archive.ts), shape the reply.
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BerthError } from '../../errors/index.js';
import { archivePath, exportRootfs, extractArchive, statPath, type ContainerPathStat } from '../../container/archive.js';
import type { ContainerService, CreateRequest, RootfsView } from '../../container/types.js';
import { applyChanges, mergeCommitConfig } from '../../image/index.js';
import type { ImageConfigBody, ImageService } from '../../image/types.js';
import { parseReference } from '../../reference/index.js';
import type { Router } from '../router.js';
import { boolValue, writeJson } from '../request.js';

export interface ArchiveRouteDeps {
  containers: Pick<ContainerService, 'withRootfs' | 'commitSource' | 'pause' | 'unpause' | 'inspect'>;
  images: Pick<ImageService, 'commit'>;
}

const STAT_HEADER = 'X-Docker-Container-Path-Stat';
const MAX_CONFIG_BODY = 1 << 20;

const statHeader = (stat: ContainerPathStat) => Buffer.from(JSON.stringify(stat)).toString('base64');

function pathParam(query: URLSearchParams): string {
  const path = query.get('path');
  if (!path) throw new BerthError('invalid_argument', 'Path cannot be empty');
  return path;
}

/** A tar reply; once the status is sent a failure can only cut the connection. */
async function sendTar(res: ServerResponse, signal: AbortSignal, tar: Readable, headers: Record<string, string> = {}): Promise<void> {
  res.writeHead(200, { 'Content-Type': 'application/x-tar', ...headers });
  try {
    await pipeline(tar, res, { signal });
  } catch {
    res.destroy();
  }
}

/** The commit body: a ContainerConfig, or nothing (the Go client sends `null` or no body). */
async function readConfigBody(body: AsyncIterable<Buffer | string>): Promise<ImageConfigBody> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += b.length;
    if (size > MAX_CONFIG_BODY) throw new BerthError('invalid_argument', 'request body too large');
    chunks.push(b);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '' || text === 'null') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new BerthError('invalid_argument', `invalid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new BerthError('invalid_argument', 'invalid JSON: the container config must be an object');
  return parsed as ImageConfigBody;
}

/** The image-config fields of a container's config (no HostConfig or networking). */
function imageConfigOf(c: CreateRequest): ImageConfigBody {
  const { HostConfig: _host, NetworkingConfig: _net, Shell, ...rest } = c;
  return { ...rest, ...(Shell ? { Shell } : {}) };
}

export function archiveRoutes(router: Router, deps: ArchiveRouteDeps): void {
  const { containers, images } = deps;
  const withRootfs = <T>(id: string, fn: (view: RootfsView) => Promise<T>): Promise<T> => {
    if (!containers.withRootfs) throw new BerthError('not_implemented', 'copying files is not supported');
    return containers.withRootfs(id, fn);
  };

  router.head('/containers/{id}/archive', async ({ res, params, query }) => {
    const id = params.id as string;
    const path = pathParam(query);
    const stat = await withRootfs(id, (view) => statPath(view, path, { container: id }));
    res.writeHead(200, { [STAT_HEADER]: statHeader(stat), 'Content-Type': 'application/json' }).end();
  });

  router.get('/containers/{id}/archive', async ({ res, params, query, signal }) => {
    const id = params.id as string;
    const path = pathParam(query);
    await withRootfs(id, async (view) => {
      const { stat, tar } = await archivePath(view, path, { container: id });
      await sendTar(res, signal, tar, { [STAT_HEADER]: statHeader(stat) });
    });
  });

  router.add('PUT', '/containers/{id}/archive', async ({ req, res, params, query }) => {
    const id = params.id as string;
    const path = pathParam(query);
    const info = (await containers.inspect(id)) as { Config?: { User?: string }; HostConfig?: { ReadonlyRootfs?: boolean } };
    await withRootfs(id, (view) =>
      extractArchive(view, path, req, {
        container: id,
        noOverwriteDirNonDir: boolValue(query, 'noOverwriteDirNonDir'),
        copyUIDGID: boolValue(query, 'copyUIDGID'),
        user: info.Config?.User ?? '',
        readonlyRootfs: info.HostConfig?.ReadonlyRootfs === true,
      }),
    );
    res.writeHead(200).end();
  });

  router.get('/containers/{id}/export', async ({ res, params, signal }) => {
    await withRootfs(params.id as string, (view) => sendTar(res, signal, exportRootfs(view)));
  });

  router.post('/commit', async ({ req, res, query }) => {
    const commit = images.commit?.bind(images);
    if (!containers.commitSource || !commit) throw new BerthError('not_implemented', 'commit is not supported');
    const name = query.get('container');
    if (!name) throw new BerthError('invalid_argument', 'No container name or ID supplied');
    const repo = query.get('repo');
    const tag = query.get('tag');
    const tags = [];
    if (repo) {
      const ref = parseReference(tag ? `${repo}:${tag}` : repo);
      if (ref.digest) throw new BerthError('invalid_argument', 'cannot commit to a digest reference');
      tags.push(ref);
    }
    const body = await readConfigBody(req);
    const config = applyChanges(body, query.getAll('changes'));
    // dockerd: pause defaults to true (API >= 1.13) when the parameter is absent
    const pause = query.get('pause') === null || query.get('pause') === '' ? true : boolValue(query, 'pause');
    const source = await containers.commitSource(name);
    let paused = false;
    if (pause && source.running && !source.paused && containers.pause) {
      await containers.pause(name);
      paused = true;
    }
    let id: string;
    try {
      id = await commit({
        parent: source.imageId,
        upperDir: source.upperDir,
        config: mergeCommitConfig(config, imageConfigOf(source.config)),
        history: { created_by: (source.config.Cmd ?? []).join(' '), comment: query.get('comment') ?? '' },
        author: query.get('author') ?? '',
        container: source.id,
        tags,
      });
    } finally {
      if (paused) await containers.unpause?.(name);
    }
    // only once the container runs again: a client may act on it as soon as it has the reply
    writeJson(res, 201, { Id: id });
  });
}
