// GET /events (dockerd's system router): history from `since`, then live
// events, one JSON object per line, each flushed as it happens. An `until` in
// the past ends the reply after history; without `until` it lasts until the
// client goes away.
import { BerthError } from '../../errors/index.js';
import { encodeEvent, EVENT_FILTER_KEYS, parseTimestamp, type EventBus, type EventQuery } from '../../events/index.js';
import type { Router } from '../router.js';
import { parseFilters } from '../request.js';

function timeParam(query: URLSearchParams, key: string): number | undefined {
  const raw = query.get(key);
  if (raw === null || raw === '') return undefined;
  try {
    return parseTimestamp(raw);
  } catch (err) {
    throw new BerthError('invalid_argument', `invalid value for ${key}: ${raw}`, { cause: err });
  }
}

export function eventRoutes(router: Router, events: EventBus): void {
  router.get('/events', async ({ res, query, signal }) => {
    const q: EventQuery = { filters: parseFilters(query.get('filters'), EVENT_FILTER_KEYS), signal };
    const since = timeParam(query, 'since');
    if (since !== undefined) q.since = since;
    const until = timeParam(query, 'until');
    if (until !== undefined) q.until = until;
    if (since !== undefined && until !== undefined && since > until) throw new BerthError('invalid_argument', '`since` time must be before `until` time');
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders();
    for await (const ev of events.stream(q)) {
      if (res.destroyed) break;
      res.write(encodeEvent(ev));
    }
    if (!res.destroyed) res.end();
  });
}
