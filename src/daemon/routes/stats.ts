// GET /containers/{id}/stats, as dockerd's ContainerStats: stream=true sends a
// sample per second (precpu from the previous one) until the client leaves or
// the container is removed, zeroed samples while it is stopped; stream=false
// primes with one sample and answers with the next; one-shot answers at once.
import { setTimeout as sleep } from 'node:timers/promises';
import { BerthError, isCode } from '../../errors/index.js';
import type { ContainerService, StatsTarget } from '../../container/types.js';
import { readStats, toDockerStats, type ReadOptions, type StatsSample } from '../../stats/index.js';
import type { Router } from '../router.js';
import { boolValue, writeJson } from '../request.js';

export interface StatsRouteOptions {
  /** between samples (dockerd collects every second) */
  intervalMs?: number;
  read?: ReadOptions;
}

/** dockerd's httputils.BoolValueOrDefault: the default only when the parameter is absent. */
const boolOr = (query: URLSearchParams, key: string, fallback: boolean) => (query.has(key) ? boolValue(query, key) : fallback);

/** Resolves after ms, or false at once when the client went away (the timer is cleared either way). */
async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

export function statsRoutes(router: Router, containers: Pick<ContainerService, 'statsTarget'>, opts: StatsRouteOptions = {}): void {
  const intervalMs = opts.intervalMs ?? 1000;
  router.get('/containers/{id}/stats', async ({ res, params, query, signal }) => {
    if (!containers.statsTarget) throw new BerthError('not_implemented', 'stats is not supported');
    const targetOf = containers.statsTarget.bind(containers);
    const id = params.id as string;
    const stream = boolOr(query, 'stream', true);
    const oneShot = boolOr(query, 'one-shot', false);
    if (stream && oneShot) throw new BerthError('invalid_argument', 'cannot have stream=true and one-shot=true');
    const sample = (target: StatsTarget): Promise<StatsSample> => readStats(target, opts.read);

    let target = await targetOf(id); // a missing container is a 404 before anything is sent
    if (!stream) {
      // A stopped container answers at once with zeroed stats (readStats gives those), as does one-shot.
      if (!target.running || oneShot) {
        writeJson(res, 200, toDockerStats(await sample(target), undefined, target));
        return;
      }
      const first = await sample(target);
      if (!(await pause(intervalMs, signal))) return;
      target = await targetOf(id);
      writeJson(res, 200, toDockerStats(await sample(target), first, target));
      return;
    }

    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders();
    let previous: StatsSample | undefined;
    for (;;) {
      const current = await sample(target);
      if (signal.aborted || res.destroyed) return;
      res.write(JSON.stringify(toDockerStats(current, previous, target)) + '\n');
      previous = current;
      if (!(await pause(intervalMs, signal))) return;
      try {
        target = await targetOf(id);
      } catch (err) {
        if (isCode(err, 'not_found')) break; // removed: dockerd closes the subscription and the stream ends
        throw err;
      }
    }
    res.end();
  });
}
