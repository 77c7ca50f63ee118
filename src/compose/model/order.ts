// Dependency order between services (depends_on), dependencies first.
import type { Project, Service } from '../types.js';
import { ComposeModelError } from './errors.js';

/** The first cycle found among the services' depends_on, as a path a -> b -> a, or undefined. */
export function findCycle(services: Pick<Service, 'name' | 'depends_on'>[]): string[] | undefined {
  const byName = new Map(services.map((s) => [s.name, s]));
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string): string[] | undefined => {
    const s = state.get(name);
    if (s === 'done') return undefined;
    if (s === 'visiting') return [...stack.slice(stack.indexOf(name)), name];
    const svc = byName.get(name);
    if (!svc) return undefined;
    state.set(name, 'visiting');
    stack.push(name);
    for (const dep of Object.keys(svc.depends_on).sort()) {
      const cycle = visit(dep);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(name, 'done');
    return undefined;
  };
  for (const svc of services) {
    const cycle = visit(svc.name);
    if (cycle) return cycle;
  }
  return undefined;
}

/**
 * Topological order of `services` (default: all active services) and everything they
 * depend on, dependencies first; ties keep file order. Disabled services named
 * explicitly (or depended on by a named one) are included, as `up SERVICE` enables them.
 */
export function dependencyOrder(project: Project, services?: string[]): string[] {
  const all = new Map([...project.disabledServices, ...project.services].map((s) => [s.name, s]));
  const fileOrder = [...project.services, ...project.disabledServices].map((s) => s.name);
  const wanted = services ?? project.services.map((s) => s.name);
  const cycle = findCycle([...all.values()]);
  if (cycle) throw new ComposeModelError([{ path: 'services', message: `dependency cycle detected: ${cycle.join(' -> ')}` }]);
  const order: string[] = [];
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    const svc = all.get(name);
    if (!svc) throw new ComposeModelError([{ path: 'services', message: `no such service: ${name}` }]);
    seen.add(name);
    const deps = Object.keys(svc.depends_on).filter((d) => all.has(d));
    deps.sort((a, b) => fileOrder.indexOf(a) - fileOrder.indexOf(b));
    for (const dep of deps) visit(dep);
    order.push(name);
  };
  for (const name of [...wanted].sort((a, b) => fileOrder.indexOf(a) - fileOrder.indexOf(b))) visit(name);
  return order;
}
