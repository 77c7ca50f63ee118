// Service ordering for the engine: the selected services plus their
// dependencies (transitively), dependencies first, file order otherwise.
import { createHash } from 'node:crypto';
import { BerthError } from '../../errors/index.js';
import type { Project, Service } from '../types.js';

export function startOrder(project: Project, selected?: readonly string[], withDeps = true): Service[] {
  const byName = new Map([...project.services, ...project.disabledServices].map((s) => [s.name, s]));
  const roots = selected?.length ? [...selected] : project.services.map((s) => s.name);
  const out: Service[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, from?: string): void => {
    const service = byName.get(name);
    if (!service) throw new BerthError('not_found', from ? `service "${from}" depends on undefined service "${name}"` : `no such service: ${name}`);
    const seen = state.get(name);
    if (seen === 'done') return;
    if (seen === 'visiting') throw new BerthError('invalid_argument', `dependency cycle detected at service "${name}"`);
    state.set(name, 'visiting');
    if (withDeps) for (const dep of Object.keys(service.depends_on)) visit(dep, name);
    state.set(name, 'done');
    out.push(service);
  };
  // File order for ties: visit the roots in the order the project lists them.
  const fileOrder = [...byName.keys()];
  for (const name of [...roots].sort((a, b) => fileOrder.indexOf(a) - fileOrder.indexOf(b))) visit(name);
  return out;
}

/** Stand-in for the model's serviceConfigHash when none is injected: a digest of the service as loaded, replicas aside. */
export function fallbackConfigHash(service: Service): string {
  const { replicas: _replicas, ...rest } = service;
  return createHash('sha256').update(JSON.stringify(rest)).digest('hex');
}
