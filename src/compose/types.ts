// The Compose contract: the normalized project model (what `config` prints,
// what the engine runs) and the engine's view of the Docker Engine API.
// Model: src/compose/model (files → Project). Engine: src/compose/engine
// (Project → containers, networks, volumes through the API).

/** A validation or loading error, with the path in the file model (services.web.ports[0]). */
export interface ComposeIssue {
  path: string;
  message: string;
}

export interface LoadOptions {
  /** -f files in order (later ones merge over earlier); default: compose.yaml / compose.yml / docker-compose.yml / docker-compose.yaml in cwd */
  files?: string[];
  /** -p; else COMPOSE_PROJECT_NAME; else the top-level `name`; else the first file's directory name (normalized) */
  projectName?: string;
  /** --profile (plus COMPOSE_PROFILES) */
  profiles?: string[];
  /** --env-file; default <project dir>/.env when it exists */
  envFiles?: string[];
  /** the process environment for interpolation (wins over .env) */
  env?: Record<string, string | undefined>;
  cwd?: string;
}

export interface PortMapping {
  target: number;
  published?: string; // "8080" or a range "8000-8010"; undefined = random
  host_ip?: string;
  protocol: 'tcp' | 'udp' | 'sctp';
}

export interface ServiceVolume {
  type: 'volume' | 'bind' | 'tmpfs';
  /** volume name (project-scoped key of top-level volumes) or absolute host path for bind; undefined for anonymous/tmpfs */
  source?: string;
  target: string;
  read_only: boolean;
  /** bind.create_host_path (default true for short syntax) */
  create_host_path?: boolean;
  tmpfs_size?: number;
}

export interface ServiceNetwork {
  aliases: string[];
  ipv4_address?: string;
}

export interface DependsOn {
  condition: 'service_started' | 'service_healthy' | 'service_completed_successfully';
  required: boolean;
  restart: boolean;
}

export interface Healthcheck {
  test?: string[]; // ["CMD", ...], ["CMD-SHELL", "..."], ["NONE"]
  interval_ns?: number;
  timeout_ns?: number;
  start_period_ns?: number;
  retries?: number;
  disable?: boolean;
}

export interface BuildSpec {
  /** absolute path of the context directory */
  context: string;
  dockerfile: string; // relative to context, default "Dockerfile"
  args: Record<string, string | null>;
  target?: string;
  labels: Record<string, string>;
  no_cache?: boolean;
  pull?: boolean;
}

export interface Service {
  name: string;
  image?: string;
  build?: BuildSpec;
  command?: string[] | null; // null = image default; shell strings are split like compose (shlex)
  entrypoint?: string[] | null;
  environment: Record<string, string | null>; // env_file merged in, then environment; null = unset in the CLI env
  ports: PortMapping[];
  expose: string[];
  volumes: ServiceVolume[];
  /** network key → options (default: { default: {aliases: []} }) */
  networks: Record<string, ServiceNetwork>;
  network_mode?: string;
  depends_on: Record<string, DependsOn>;
  healthcheck?: Healthcheck;
  restart?: string; // no | always | on-failure[:N] | unless-stopped
  /** deploy.replicas or scale; default 1 */
  replicas: number;
  resources: { memory_bytes?: number; nano_cpus?: number; pids?: number };
  labels: Record<string, string>;
  user?: string;
  working_dir?: string;
  init?: boolean;
  stop_signal?: string;
  stop_grace_period_s?: number;
  profiles: string[];
  hostname?: string;
  tty?: boolean;
  stdin_open?: boolean;
  privileged?: boolean;
  cap_add: string[];
  cap_drop: string[];
  extra_hosts: string[];
  dns: string[];
  read_only?: boolean;
  tmpfs: string[];
  container_name?: string;
  pull_policy?: 'always' | 'never' | 'missing' | 'build';
}

export interface NetworkSpec {
  /** the engine's name: PROJECT_KEY unless `name` or external */
  name: string;
  external: boolean;
  driver?: string;
  internal?: boolean;
  labels: Record<string, string>;
  ipam?: { subnet?: string; gateway?: string }[];
}

export interface VolumeSpec {
  name: string;
  external: boolean;
  driver?: string;
  labels: Record<string, string>;
}

export interface Project {
  name: string;
  /** the directory relative paths are resolved against (the first file's) */
  workingDir: string;
  /** the files loaded, absolute */
  files: string[];
  /** active services only (profiles applied), in file order */
  services: Service[];
  /** services left out by profiles, so `up SERVICE` of one can enable it */
  disabledServices: Service[];
  networks: Record<string, NetworkSpec>;
  volumes: Record<string, VolumeSpec>;
  /** non-fatal notes (e.g. obsolete `version`) */
  warnings: string[];
}

/** What the engine needs of the Docker Engine API (src/cli's ApiClient provides it). */
export interface EngineApi {
  /** A JSON request; non-2xx rejects with an error whose message is dockerd's and `status` the HTTP status. */
  json<T>(method: string, path: string, options?: { query?: Record<string, string | number | boolean | readonly string[] | undefined>; body?: string; headers?: Record<string, string> }): Promise<T>;
  /** A streaming request (logs, build, pull, attach output): the raw response body. */
  stream(method: string, path: string, options?: { query?: Record<string, string | number | boolean | readonly string[] | undefined>; body?: string | Uint8Array | import('node:stream').Readable; headers?: Record<string, string> }): Promise<import('node:stream').Readable>;
}

/** Compose's labels on everything it makes. */
export const LABELS = {
  project: 'com.docker.compose.project',
  service: 'com.docker.compose.service',
  number: 'com.docker.compose.container-number',
  oneoff: 'com.docker.compose.oneoff',
  configHash: 'com.docker.compose.config-hash',
  workingDir: 'com.docker.compose.project.working_dir',
  configFiles: 'com.docker.compose.project.config_files',
  version: 'com.docker.compose.version',
  network: 'com.docker.compose.network',
  volume: 'com.docker.compose.volume',
  dependsOn: 'com.docker.compose.depends_on',
  image: 'com.docker.compose.image',
} as const;
