// Turns the services' own events into docker's EventMessages on the bus.
import type { ContainerEvent, ContainerRecord } from '../container/index.js';
import type { ImageEvent } from '../image/index.js';
import type { EventBus } from './bus.js';

export interface EventSources {
  containers: {
    onEvent(fn: (e: ContainerEvent) => void): () => void;
    records: { get(id: string): ContainerRecord | undefined };
  };
  images?: { onEvent(fn: (e: ImageEvent) => void): () => void };
}

/** Subscribe the bus to the services; returns the unsubscribe. */
export function feedEvents(bus: EventBus, sources: EventSources): () => void {
  // A container's attributes outlive its record: destroy is emitted after the record is gone.
  const known = new Map<string, Record<string, string>>();
  const attributesOf = (id: string): Record<string, string> => {
    const rec = sources.containers.records.get(id);
    if (!rec) return { ...(known.get(id) ?? {}) };
    const attrs: Record<string, string> = { ...(rec.config.Labels ?? {}), image: rec.image, name: rec.name.replace(/^\//, '') };
    known.set(id, attrs);
    return { ...attrs };
  };
  const offContainers = sources.containers.onEvent((e) => {
    const Attributes = attributesOf(e.id);
    if (e.action === 'die' && e.exitCode !== undefined) Attributes.exitCode = String(e.exitCode);
    if (e.action === 'kill' && e.signal !== undefined) Attributes.signal = e.signal;
    if (e.action === 'rename' && e.oldName !== undefined) Attributes.oldName = `/${e.oldName}`;
    bus.publish({ Type: 'container', Action: e.action, Actor: { ID: e.id, Attributes } });
    if (e.action === 'destroy') known.delete(e.id);
  });
  const offImages = sources.images?.onEvent((e) => bus.publish({ Type: 'image', Action: e.action, Actor: { ID: e.id, Attributes: { name: e.name } } }));
  return () => {
    offContainers();
    offImages?.();
  };
}
