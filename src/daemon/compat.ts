// berth's Engine API coverage, operation by operation, and the clients it is
// verified with. docs/compatibility.md is rendered from this
// (scripts/gen-compat.mjs), and compat.test.ts checks the table against the
// swagger (every operation, no extras) and against the routes buildRouter
// registers, so neither the table nor the doc can drift from the code.
import { API_VERSION, MIN_API_VERSION } from './apiversion.js';

export type Support = 'full' | 'partial' | 'none';

export interface EndpointStatus {
  status: Support;
  /** for `partial`: what is missing; otherwise a short remark */
  note?: string;
}

type Table = Record<string, EndpointStatus>;

const SWARM_ONLY: EndpointStatus = { status: 'none', note: 'swarm mode is not implemented' };
const PLUGINS: EndpointStatus = { status: 'none', note: 'managed plugins are not implemented' };

/**
 * Keyed by swagger tag, then `"METHOD /path/template"` as the swagger spells
 * it, both in the order the swagger first uses them (the test holds the
 * order, so the doc reads like the spec).
 */
export const ENDPOINTS_BY_TAG: Readonly<Record<string, Table>> = {
  Container: {
    'GET /containers/json': { status: 'full' },
    'POST /containers/create': {
      status: 'partial',
      note: 'mount types bind, volume and tmpfs only; json-file (and none) log drivers only (others refused by name); `Links` refused by name on the default bridge (accepted on user-defined networks, where names resolve anyway)',
    },
    'GET /containers/{id}/json': { status: 'full' },
    'GET /containers/{id}/top': { status: 'full' },
    'GET /containers/{id}/logs': { status: 'full' },
    'GET /containers/{id}/changes': { status: 'full' },
    'GET /containers/{id}/export': { status: 'full' },
    'GET /containers/{id}/stats': { status: 'full' },
    'POST /containers/{id}/resize': { status: 'full' },
    'POST /containers/{id}/start': { status: 'full', note: '`detachKeys` is ignored (it only matters to attach)' },
    'POST /containers/{id}/stop': { status: 'full' },
    'POST /containers/{id}/restart': { status: 'full' },
    'POST /containers/{id}/kill': { status: 'full' },
    'POST /containers/{id}/update': {
      status: 'partial',
      note: 'memory, CPU, cpuset, pids limits and restart policy only (no blkio, devices, ulimits)',
    },
    'POST /containers/{id}/rename': { status: 'full' },
    'POST /containers/{id}/pause': { status: 'full' },
    'POST /containers/{id}/unpause': { status: 'full' },
    'POST /containers/{id}/attach': { status: 'partial', note: 'detach keys (`detachKeys`, ctrl-p ctrl-q) are not handled by the daemon' },
    'GET /containers/{id}/attach/ws': { status: 'none', note: 'no websocket attach' },
    'POST /containers/{id}/wait': { status: 'full' },
    'DELETE /containers/{id}': { status: 'partial', note: '`link=true` is refused (no legacy links)' },
    'HEAD /containers/{id}/archive': { status: 'full' },
    'GET /containers/{id}/archive': { status: 'full' },
    'PUT /containers/{id}/archive': { status: 'full' },
    'POST /containers/prune': { status: 'full' },
  },
  Image: {
    'GET /images/json': { status: 'partial', note: '`manifests` and `digests` are ignored' },
    'POST /build': {
      status: 'partial',
      note:
        'classic builder only: BuildKit (`version=2`) is refused, `RUN --mount` is unsupported; ' +
        '`remote`, `squash`, `outputs` and resource limits (`memory`, `cpushares`, `shmsize`...) are refused by name; `cachefrom` is ignored',
    },
    'POST /build/prune': { status: 'partial', note: '`keep-storage`, `reserved-space`, `max-used-space`, `min-free-space` are ignored' },
    'POST /images/create': { status: 'partial', note: 'pull and `fromSrc=-` import; importing from a URL is refused' },
    'GET /images/{name}/json': { status: 'partial', note: '`manifests` and `platform` are ignored' },
    'GET /images/{name}/history': { status: 'partial', note: '`platform` is ignored' },
    'POST /images/{name}/push': { status: 'partial', note: '`platform` is ignored' },
    'POST /images/{name}/tag': { status: 'full' },
    'DELETE /images/{name}': { status: 'partial', note: '`platforms` is ignored' },
    'GET /images/search': { status: 'none', note: 'no registry search' },
    'POST /images/prune': { status: 'full' },
    'POST /commit': { status: 'full' },
    'GET /images/{name}/get': { status: 'partial', note: '`platform` is ignored' },
    'GET /images/get': { status: 'partial', note: '`platform` is ignored' },
    'POST /images/load': { status: 'partial', note: '`platform` is ignored' },
  },
  System: {
    'POST /auth': { status: 'full' },
    'GET /info': { status: 'full', note: 'swarm is always inactive' },
    'GET /version': { status: 'full' },
    'GET /_ping': { status: 'full', note: 'Builder-Version: 1 (classic), Swarm: inactive' },
    'HEAD /_ping': { status: 'full' },
    'GET /events': { status: 'full' },
    'GET /system/df': { status: 'partial', note: 'container sizes and build cache are always reported empty' },
  },
  Exec: {
    'POST /containers/{id}/exec': { status: 'full' },
    'POST /exec/{id}/start': { status: 'full' },
    'POST /exec/{id}/resize': { status: 'full' },
    'GET /exec/{id}/json': { status: 'full' },
  },
  Volume: {
    'GET /volumes': { status: 'full' },
    'POST /volumes/create': { status: 'partial', note: 'local driver only, without driver options' },
    'GET /volumes/{name}': { status: 'full' },
    'PUT /volumes/{name}': { status: 'none', note: 'swarm cluster volumes only' },
    'DELETE /volumes/{name}': { status: 'full' },
    'POST /volumes/prune': { status: 'full' },
  },
  Network: {
    'GET /networks': { status: 'full' },
    'GET /networks/{id}': { status: 'partial', note: '`verbose` (swarm service details) is ignored' },
    'DELETE /networks/{id}': { status: 'full' },
    'POST /networks/create': {
      status: 'partial',
      note: 'local scope, IPv4 only, one subnet per network; no IPv6, auxiliary addresses, ingress or config-only networks',
    },
    'POST /networks/{id}/connect': { status: 'full' },
    'POST /networks/{id}/disconnect': { status: 'full' },
    'POST /networks/prune': { status: 'full' },
  },
  Plugin: {
    'GET /plugins': PLUGINS,
    'GET /plugins/privileges': PLUGINS,
    'POST /plugins/pull': PLUGINS,
    'GET /plugins/{name}/json': PLUGINS,
    'DELETE /plugins/{name}': PLUGINS,
    'POST /plugins/{name}/enable': PLUGINS,
    'POST /plugins/{name}/disable': PLUGINS,
    'POST /plugins/{name}/upgrade': PLUGINS,
    'POST /plugins/create': PLUGINS,
    'POST /plugins/{name}/push': PLUGINS,
    'POST /plugins/{name}/set': PLUGINS,
  },
  Node: {
    'GET /nodes': SWARM_ONLY,
    'GET /nodes/{id}': SWARM_ONLY,
    'DELETE /nodes/{id}': SWARM_ONLY,
    'POST /nodes/{id}/update': SWARM_ONLY,
  },
  Swarm: {
    'GET /swarm': SWARM_ONLY,
    'POST /swarm/init': SWARM_ONLY,
    'POST /swarm/join': SWARM_ONLY,
    'POST /swarm/leave': SWARM_ONLY,
    'POST /swarm/update': SWARM_ONLY,
    'GET /swarm/unlockkey': SWARM_ONLY,
    'POST /swarm/unlock': SWARM_ONLY,
  },
  Service: {
    'GET /services': SWARM_ONLY,
    'POST /services/create': SWARM_ONLY,
    'GET /services/{id}': SWARM_ONLY,
    'DELETE /services/{id}': SWARM_ONLY,
    'POST /services/{id}/update': SWARM_ONLY,
    'GET /services/{id}/logs': SWARM_ONLY,
  },
  Task: {
    'GET /tasks': SWARM_ONLY,
    'GET /tasks/{id}': SWARM_ONLY,
    'GET /tasks/{id}/logs': SWARM_ONLY,
  },
  Secret: {
    'GET /secrets': SWARM_ONLY,
    'POST /secrets/create': SWARM_ONLY,
    'GET /secrets/{id}': SWARM_ONLY,
    'DELETE /secrets/{id}': SWARM_ONLY,
    'POST /secrets/{id}/update': SWARM_ONLY,
  },
  Config: {
    'GET /configs': SWARM_ONLY,
    'POST /configs/create': SWARM_ONLY,
    'GET /configs/{id}': SWARM_ONLY,
    'DELETE /configs/{id}': SWARM_ONLY,
    'POST /configs/{id}/update': SWARM_ONLY,
  },
  Distribution: {
    'GET /distribution/{name}/json': { status: 'none', note: 'no registry manifest lookup endpoint' },
  },
  Session: {
    'POST /session': { status: 'none', note: 'BuildKit sessions (gRPC over hijacked HTTP) are not implemented' },
  },
};

/** Every swagger operation, `"METHOD /path/template"` → berth's status. */
export const ENDPOINT_STATUS: Readonly<Record<string, EndpointStatus>> = Object.assign({}, ...Object.values(ENDPOINTS_BY_TAG)) as Record<
  string,
  EndpointStatus
>;

/** Routes berth serves that the swagger does not list (compat.test.ts requires each registered route be here or above). */
export const EXTRA_ROUTES: Readonly<Record<string, string>> = {
  'HEAD /containers/{id}/json': 'inspect without a body: answers whether the container exists',
};

export interface VerifiedClient {
  client: string;
  version: string;
  /** what the suite drives through it */
  what: string;
  /** the test files that run it against a real berth daemon */
  tests: string[];
}

export const CLIENTS_VERIFIED: readonly VerifiedClient[] = [
  {
    client: 'docker CLI',
    version: '28.2',
    what: 'run (--rm, -d, -i), create, start, stop, kill, exec, logs, cp, commit, export, build, pull, push, login, images, networks, volumes, events, stats, system df, prune',
    tests: [
      'test/containers.test.ts', 'test/container-ops.test.ts', 'test/interactive.test.ts', 'test/exec.test.ts', 'test/cp.test.ts',
      'test/images.test.ts', 'test/pull.test.ts', 'test/push.test.ts', 'test/build.test.ts', 'test/network.test.ts', 'test/volumes.test.ts',
      'test/events.test.ts', 'test/stats.test.ts', 'test/health.test.ts',
    ],
  },
  {
    client: 'docker-compose',
    version: '1.29.2',
    what: 'a three-service app: up, scale, recreate, logs, exec, run, down',
    tests: ['test/compose.test.ts'],
  },
  {
    client: 'docker-py',
    version: '5.0.3',
    what: 'containers, logs, exec (stream, demux), archives, stats, images, build, push and pull, networks, volumes, events, df, prunes, attach socket',
    tests: ['test/docker-py.test.ts', 'test/clients/test_docker_py.py'],
  },
  {
    client: 'dockerode',
    version: '5.0.1',
    what: 'ping, version, pull and build followed with modem.followProgress, create/start/wait, demultiplexed logs, list filters, hijacked attach with stdin, hijacked exec, remove',
    tests: ['test/dockerode.test.ts'],
  },
  {
    client: 'testcontainers (Node)',
    version: '11.14.0',
    what: 'GenericContainer with an exposed port, log-line and listening-port wait strategies, copied files, exec, a Network with aliases, a DockerComposeEnvironment (docker compose through bin/docker-compose), reaper off',
    tests: ['test/testcontainers.test.ts'],
  },
];

/** `"METHOD /path"` → its two parts. */
export function splitKey(key: string): { method: string; path: string } {
  const space = key.indexOf(' ');
  return { method: key.slice(0, space), path: key.slice(space + 1) };
}

export interface SwaggerOperation {
  method: string;
  path: string;
  /** the operation's first tag */
  tag: string;
}

const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'head', 'options', 'patch']);

/**
 * The operations under a swagger 2.0 document's top-level `paths:`, in order.
 * Not a YAML parser: it relies on the layout the Engine API swagger uses
 * (`  /path:` at two spaces, `    get:` at four, `      tags: ["X"]` or a
 * `      tags:` list of `        - "X"` under it), which is all we need.
 */
export function scanSwaggerOperations(yaml: string): SwaggerOperation[] {
  const ops: SwaggerOperation[] = [];
  let inPaths = false;
  let path: string | undefined;
  let current: SwaggerOperation | undefined;
  let tagList = false;
  for (const line of yaml.split(/\r?\n/)) {
    if (/^\S/.test(line) && !line.startsWith('#')) {
      inPaths = /^paths:\s*$/.test(line);
      path = undefined;
      current = undefined;
      continue;
    }
    if (!inPaths) continue;
    let m: RegExpExecArray | null;
    if ((m = /^ {2}(["']?\/\S*?["']?):\s*$/.exec(line))) {
      path = unquote(m[1] as string);
      current = undefined;
    } else if ((m = /^ {4}([a-z]+):\s*$/.exec(line)) && path !== undefined) {
      current = HTTP_METHODS.has(m[1] as string) ? { method: (m[1] as string).toUpperCase(), path, tag: '' } : undefined;
      tagList = false;
      if (current) ops.push(current);
    } else if (current && (m = /^ {6}tags:\s*(.*)$/.exec(line))) {
      const inline = /^\[(.*)\]\s*$/.exec(m[1] as string);
      tagList = !inline;
      if (inline) current.tag = unquote((inline[1] as string).split(',')[0]?.trim() ?? '');
    } else if (current && tagList && (m = /^ {8}-\s*(.+?)\s*$/.exec(line))) {
      if (!current.tag) current.tag = unquote(m[1] as string);
    } else if (/^ {0,7}\S/.test(line)) {
      tagList = false;
    }
  }
  return ops;
}

function unquote(s: string): string {
  return /^(["']).*\1$/.test(s) ? s.slice(1, -1) : s;
}

const STATUS_LABEL: Record<Support, string> = { full: 'full', partial: 'partial', none: 'none' };

/** Markdown table cells: pipes would split the cell. */
const cell = (s: string) => s.replace(/\|/g, '\\|');

/** The whole of docs/compatibility.md. */
export function renderCompatibility(): string {
  const counts: Record<Support, number> = { full: 0, partial: 0, none: 0 };
  for (const s of Object.values(ENDPOINT_STATUS)) counts[s.status]++;
  const total = Object.keys(ENDPOINT_STATUS).length;
  const out: string[] = [
    '# Docker Engine API compatibility',
    '',
    '<!-- Generated from src/daemon/compat.ts by `node scripts/gen-compat.mjs` (after `npx tsc`). Do not edit by hand:',
    '     src/daemon/compat.test.ts fails when this file differs from the table, when the table misses or invents a',
    '     swagger operation, or when it disagrees with the routes the daemon registers. -->',
    '',
    `berth serves the Docker Engine API v${API_VERSION} (a \`/vX.Y\` prefix from ${MIN_API_VERSION} to ${API_VERSION} is accepted) on its unix socket.`,
    'Each operation of the API\'s swagger is listed below with berth\'s status:',
    '',
    '- **full**: implemented as dockerd documents it;',
    '- **partial**: implemented, with the gaps given in the notes;',
    '- **none**: not served; the daemon answers `404 page not found`, as dockerd does for an unknown route.',
    '',
    `**Summary:** ${total} operations: ${counts.full} full, ${counts.partial} partial, ${counts.none} none.`,
    '',
  ];
  for (const [tag, table] of Object.entries(ENDPOINTS_BY_TAG)) {
    out.push(`## ${tag}`, '', '| Endpoint | Status | Notes |', '| --- | --- | --- |');
    for (const [key, s] of Object.entries(table)) out.push(`| \`${key}\` | ${STATUS_LABEL[s.status]} | ${cell(s.note ?? '')} |`);
    out.push('');
  }
  out.push('## Routes beyond the swagger', '', '| Endpoint | Notes |', '| --- | --- |');
  for (const [key, note] of Object.entries(EXTRA_ROUTES)) out.push(`| \`${key}\` | ${cell(note)} |`);
  out.push('', '## Clients verified', '', 'Each is driven against a real berth daemon by the tests named.', '');
  out.push('| Client | Version | What is exercised | Tests |', '| --- | --- | --- | --- |');
  for (const c of CLIENTS_VERIFIED) {
    out.push(`| ${cell(c.client)} | ${cell(c.version)} | ${cell(c.what)} | ${c.tests.map((t) => `\`${t}\``).join(', ')} |`);
  }
  out.push('');
  return out.join('\n');
}
