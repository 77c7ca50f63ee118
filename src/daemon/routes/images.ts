// Image endpoints: parse the request, call one ImageService method, shape the reply.
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BerthError, isCode, messageOf } from '../../errors/index.js';
import type { ImageService } from '../../image/types.js';
import type { AuthConfig } from '../../registry/types.js';
import type { Router } from '../router.js';
import { boolValue, decodeRegistryAuth, parseFilters, writeJson } from '../request.js';
import { streamProgress } from '../stream.js';
import { shapeInspect, shapeSummary } from './shape.js';

const LIST_FILTERS = ['dangling', 'label', 'label!', 'before', 'since', 'reference', 'until'] as const;
const PRUNE_FILTERS = ['dangling', 'label', 'label!', 'until'] as const;

/** `name` without a trailing ":tag" (a colon after the last slash; a registry port is before it). */
function withoutTag(name: string): string {
  const colon = name.lastIndexOf(':');
  return colon > name.lastIndexOf('/') ? name.slice(0, colon) : name;
}

/**
 * The reference POST /images/create?fromImage=&tag= asks for, as dockerd
 * combines them: a digest in fromImage wins, else `tag` (a tag or a digest)
 * replaces any tag in fromImage. A trailing ":" (old `pull -a`) is dropped.
 */
export function pullReference(fromImage: string, tag: string | null): string {
  const image = fromImage.replace(/:$/, '');
  if (image.includes('@') || !tag) return image;
  if (/^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-fA-F0-9]{32,}$/.test(tag)) return `${withoutTag(image)}@${tag}`;
  return `${withoutTag(image)}:${tag}`;
}

export function imageRoutes(router: Router, images: ImageService): void {
  router.get('/images/json', async ({ res, query, apiVersion }) => {
    const list = await images.list({
      all: boolValue(query, 'all'),
      filters: parseFilters(query.get('filters'), LIST_FILTERS),
      sharedSize: boolValue(query, 'shared-size'),
    });
    writeJson(res, 200, list.map((s) => shapeSummary(s, apiVersion)));
  });

  router.post('/images/create', async ({ req, res, query, signal }) => {
    const fromImage = query.get('fromImage');
    const fromSrc = query.get('fromSrc');
    const platform = query.get('platform') || undefined;
    if (fromImage) {
      let auth: AuthConfig | undefined;
      try {
        auth = decodeRegistryAuth(req.headers['x-registry-auth']);
      } catch {
        // dockerd: "For a pull it is not an error if no auth was given. Ignore invalid AuthConfig."
        auth = undefined;
      }
      const ref = pullReference(fromImage, query.get('tag'));
      await streamProgress(res, (onProgress) =>
        images.pull(ref, { platform, auth, onProgress, signal }).catch((err: unknown) => {
          throw dockerdPullError(err, fromImage);
        }),
      );
      return;
    }
    if (fromSrc === '-') {
      await streamProgress(res, async (onProgress) => {
        const id = await images.import(req, {
          repo: query.get('repo') || undefined,
          tag: query.get('tag') || undefined,
          message: query.get('message') || undefined,
          changes: query.getAll('changes'),
          platform,
          onProgress,
        });
        onProgress({ status: id }); // dockerd's last import line: the new image ID
      });
      return;
    }
    if (fromSrc) throw new BerthError('not_implemented', 'importing an image from a URL is not supported; use fromSrc=-');
    throw new BerthError('invalid_argument', 'either fromImage or fromSrc is required');
  });

  router.post('/images/{name:.*}/push', async ({ req, res, params, query, signal }) => {
    const push = images.push?.bind(images);
    if (!push) throw new BerthError('not_implemented', 'this daemon cannot push images');
    // dockerd ignores an undecodable header for pushes too: the registry then asks for credentials.
    let auth: AuthConfig | undefined;
    try {
      auth = decodeRegistryAuth(req.headers['x-registry-auth']);
    } catch {
      auth = undefined;
    }
    const tag = query.get('tag') || undefined;
    await streamProgress(res, (onProgress) =>
      push(params.name as string, { ...(tag ? { tag } : {}), ...(auth ? { auth } : {}), onProgress, signal }).catch((err: unknown) => {
        throw withoutLoginPrompt(err);
      }),
    );
  });

  router.get('/images/get', async ({ res, query, signal }) => {
    await sendTar(res, signal, await images.save(query.getAll('names')));
  });

  router.post('/images/load', async ({ req, res, query }) => {
    const quiet = boolValue(query, 'quiet');
    await streamProgress(res, (onProgress) => images.load(req, { onProgress, quiet }));
  });

  router.post('/images/prune', async ({ res, query }) => {
    writeJson(res, 200, await images.prune({ filters: parseFilters(query.get('filters'), PRUNE_FILTERS) }));
  });

  router.get('/images/{name:.*}/json', async ({ res, params, apiVersion }) => {
    writeJson(res, 200, shapeInspect(await images.inspect(params.name as string), apiVersion));
  });

  router.get('/images/{name:.*}/history', async ({ res, params }) => {
    writeJson(res, 200, await images.history(params.name as string));
  });

  router.get('/images/{name:.*}/get', async ({ res, params, signal }) => {
    await sendTar(res, signal, await images.save([params.name as string]));
  });

  router.post('/images/{name:.*}/tag', async ({ res, params, query }) => {
    const repo = query.get('repo');
    if (!repo) throw new BerthError('invalid_argument', 'repository name must have at least one component');
    await images.tag(params.name as string, repo, query.get('tag') || undefined);
    res.writeHead(201).end();
  });

  router.delete('/images/{name:.*}', async ({ res, params, query }) => {
    const removed = await images.remove(params.name as string, {
      force: boolValue(query, 'force'),
      noprune: boolValue(query, 'noprune'),
    });
    writeJson(res, 200, removed);
  });
}

/** Stream a tar reply; a failure mid-stream can only cut the connection (the status is long sent). */
async function sendTar(res: ServerResponse, signal: AbortSignal, tar: Readable): Promise<void> {
  res.writeHead(200, { 'Content-Type': 'application/x-tar' });
  try {
    await pipeline(tar, res, { signal });
  } catch {
    res.destroy();
  }
}

/**
 * A registry's refusal as dockerd reports it for a pull: DENIED is a 404 "pull access
 * denied", UNAUTHORIZED a 500 with the registry's words. Never a 401: the docker CLI
 * takes a 401 from the daemon as its cue to prompt for a login.
 */
function dockerdPullError(err: unknown, repo: string): unknown {
  if (isCode(err, 'forbidden')) {
    return new BerthError('not_found', `pull access denied for ${repo}, repository does not exist or may require 'docker login': ${messageOf(err)}`, { cause: err });
  }
  return withoutLoginPrompt(err);
}

/** A registry's UNAUTHORIZED as dockerd passes it on for pulls and pushes: a 500 with its words. */
function withoutLoginPrompt(err: unknown): unknown {
  return isCode(err, 'unauthorized') ? new BerthError('internal', messageOf(err), { cause: err }) : err;
}
