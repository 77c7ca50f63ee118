// Compose's merge rules (spec "Merge and override", and extends): mappings merge
// by key, most sequences append without duplicates, ports and volumes merge by
// their unique key, shell commands are replaced; `!reset` removes, `!override` replaces.
import { isMap, Override, Reset, type RawMap } from './raw.js';

const REPLACED = new Set(['command', 'entrypoint', 'healthcheck.test']);
const APPENDED_WITH_DUPLICATES = new Set(['dns', 'dns_search', 'env_file', 'tmpfs']);

const portKey = (p: unknown) => (isMap(p) ? `${p.host_ip ?? ''}|${p.target}|${p.published ?? ''}|${p.protocol ?? 'tcp'}` : JSON.stringify(p));
const targetKey = (v: unknown) => (isMap(v) ? String(v.target) : JSON.stringify(v));
const KEYED: Record<string, (v: unknown) => string> = { ports: portKey, volumes: targetKey, secrets: targetKey, configs: targetKey };

/** Merge `over` onto `base` (both plain values); `path` is the service-relative key path. */
export function mergeValue(base: unknown, over: unknown, path: string): unknown {
  if (over instanceof Reset) return undefined;
  if (over instanceof Override) return stripMarkers(over.value);
  if (base === undefined || base === null) return stripMarkers(over);
  if (isMap(base) && isMap(over)) {
    const out: RawMap = { ...base };
    for (const [k, v] of Object.entries(over)) {
      const merged = mergeValue(base[k], v, path ? `${path}.${k}` : k);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    }
    return out;
  }
  if (Array.isArray(base) && Array.isArray(over)) {
    if (REPLACED.has(path)) return stripMarkers(over);
    if (APPENDED_WITH_DUPLICATES.has(path)) return [...base, ...over];
    const keyOf = KEYED[path] ?? ((v: unknown) => JSON.stringify(v));
    const byKey = new Map<string, unknown>();
    for (const item of [...base, ...(stripMarkers(over) as unknown[])]) byKey.set(keyOf(item), item);
    return [...byKey.values()];
  }
  return stripMarkers(over);
}

/** Apply markers left in a value that had nothing under it. */
export function stripMarkers(v: unknown): unknown {
  if (v instanceof Override) return stripMarkers(v.value);
  if (Array.isArray(v)) return v.filter((x) => !(x instanceof Reset)).map(stripMarkers);
  if (isMap(v)) {
    const out: RawMap = {};
    for (const [k, x] of Object.entries(v)) if (!(x instanceof Reset)) out[k] = stripMarkers(x);
    return out;
  }
  return v;
}

/** Merge whole files: services by service (with the service rules), everything else as mappings. */
export function mergeModels(base: RawMap, over: RawMap): RawMap {
  const out: RawMap = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (key === 'services' && isMap(value)) {
      const services: RawMap = { ...(isMap(base.services) ? base.services : {}) };
      for (const [name, svc] of Object.entries(value)) {
        const merged = mergeValue(services[name], svc, '');
        if (merged === undefined) delete services[name];
        else services[name] = merged;
      }
      out.services = services;
    } else {
      const merged = mergeValue(base[key], value, `(${key})`);
      if (merged === undefined) delete out[key];
      else out[key] = merged;
    }
  }
  return out;
}
