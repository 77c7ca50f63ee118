// Events: docker's EventMessage stream (GET /events), fed by the container and image services.
export type * from './types.js';
export { EventBus, encodeEvent, HISTORY, type EventQuery } from './bus.js';
export { matchEvent, validateEventFilters, EVENT_FILTER_KEYS } from './filters.js';
export { parseTimestamp, parseGoDuration } from './time.js';
export { feedEvents, type EventSources } from './feed.js';
