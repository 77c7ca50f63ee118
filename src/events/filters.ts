// docker's daemon/events/filter.go: every given key must match; values of one key are alternatives.
import { BerthError } from '../errors/index.js';
import type { EventFilters, EventMessage } from './types.js';

export const EVENT_FILTER_KEYS = ['config', 'container', 'daemon', 'event', 'image', 'label', 'network', 'node', 'plugin', 'scope', 'secret', 'service', 'type', 'volume'] as const;

/** Refuse keys docker refuses, so a typo is an error rather than an empty stream. */
export function validateEventFilters(filters: EventFilters): void {
  for (const key of Object.keys(filters)) {
    if (!(EVENT_FILTER_KEYS as readonly string[]).includes(key)) throw new BerthError('invalid_argument', `invalid filter '${key}'`);
  }
}

const has = (f: EventFilters, key: string) => (f[key]?.length ?? 0) > 0;
/** true when the key is absent or one of its values equals `value` */
const exact = (f: EventFilters, key: string, value: string) => !has(f, key) || (f[key] as string[]).includes(value);
/** true when the key is absent or one of its values is a prefix of `value` (docker's FuzzyMatch) */
const fuzzy = (f: EventFilters, key: string, value: string) => !has(f, key) || (f[key] as string[]).some((p) => value.startsWith(p));

const stripTag = (image: string) => {
  const at = image.indexOf('@');
  if (at >= 0) return image.slice(0, at);
  const colon = image.lastIndexOf(':');
  return colon > image.lastIndexOf('/') ? image.slice(0, colon) : image;
};

function matchName(f: EventFilters, key: string, ev: EventMessage): boolean {
  return fuzzy(f, key, ev.Actor.ID) || fuzzy(f, key, ev.Actor.Attributes.name ?? '');
}

function matchImage(f: EventFilters, ev: EventMessage): boolean {
  if (!has(f, 'image')) return true;
  const id = ev.Type === 'image' ? ev.Actor.ID : (ev.Actor.Attributes.image ?? '');
  const name = ev.Type === 'image' ? (ev.Actor.Attributes.name ?? '') : '';
  return [id, name, stripTag(id), stripTag(name)].some((v) => v !== '' && exact(f, 'image', v));
}

function matchLabels(f: EventFilters, attrs: Record<string, string>): boolean {
  if (!has(f, 'label')) return true;
  // every label filter must hold (docker's MatchKVList)
  return (f.label as string[]).every((kv) => {
    const eq = kv.indexOf('=');
    if (eq < 0) return kv in attrs;
    return attrs[kv.slice(0, eq)] === kv.slice(eq + 1);
  });
}

/** Whether `ev` passes `filters`, by docker's rules. */
export function matchEvent(filters: EventFilters, ev: EventMessage): boolean {
  const action = ev.Action.includes(':') ? ev.Action.slice(0, ev.Action.indexOf(':')) : ev.Action;
  return (
    (exact(filters, 'event', ev.Action) || exact(filters, 'event', action)) &&
    exact(filters, 'type', ev.Type) &&
    exact(filters, 'scope', ev.scope) &&
    matchName(filters, 'container', ev) &&
    matchImage(filters, ev) &&
    matchLabels(filters, ev.Actor.Attributes) &&
    // kinds berth does not emit yet: a filter on them selects only their events
    ['volume', 'network', 'plugin', 'node', 'service', 'secret', 'config', 'daemon'].every((k) => !has(filters, k) || (ev.Type === k && matchName(filters, k, ev)))
  );
}
