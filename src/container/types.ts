// CONTRACT: containers, as the daemon's API layer needs them. Request and
// response shapes are the Docker Engine API's (ContainerCreateRequest,
// ContainerSummary, ContainerInspectResponse, ContainerWaitResponse), so
// handlers only serialise them. Implemented in src/container/service.ts.

/** Docker's ContainerConfig + HostConfig as POST /containers/create sends them (the parts berth reads). */
export interface CreateRequest {
  Hostname?: string;
  Domainname?: string;
  User?: string;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  ExposedPorts?: Record<string, object> | null;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  Env?: string[] | null;
  Cmd?: string[] | null;
  Healthcheck?: HealthConfig | null;
  ArgsEscaped?: boolean;
  Image: string;
  Volumes?: Record<string, object> | null;
  WorkingDir?: string;
  Entrypoint?: string[] | null;
  NetworkDisabled?: boolean;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  StopTimeout?: number;
  Shell?: string[] | null;
  HostConfig?: HostConfig;
  NetworkingConfig?: unknown;
}

export interface HealthConfig {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  Retries?: number;
  StartPeriod?: number;
  StartInterval?: number;
}

export interface RestartPolicy {
  Name?: '' | 'no' | 'always' | 'unless-stopped' | 'on-failure';
  MaximumRetryCount?: number;
}

export interface MountSpec {
  Target: string;
  Source?: string;
  Type: 'bind' | 'volume' | 'tmpfs' | 'image' | 'npipe' | 'cluster';
  ReadOnly?: boolean;
  BindOptions?: { Propagation?: string; NonRecursive?: boolean; CreateMountpoint?: boolean };
  VolumeOptions?: { NoCopy?: boolean; Labels?: Record<string, string> };
  TmpfsOptions?: { SizeBytes?: number; Mode?: number };
}

export interface HostConfig {
  Binds?: string[] | null;
  Mounts?: MountSpec[] | null;
  Tmpfs?: Record<string, string> | null;
  NetworkMode?: string;
  PortBindings?: Record<string, { HostIp?: string; HostPort?: string }[] | null> | null;
  RestartPolicy?: RestartPolicy;
  AutoRemove?: boolean;
  CapAdd?: string[] | null;
  CapDrop?: string[] | null;
  Dns?: string[] | null;
  DnsSearch?: string[] | null;
  ExtraHosts?: string[] | null;
  GroupAdd?: string[] | null;
  Init?: boolean | null;
  Privileged?: boolean;
  ReadonlyRootfs?: boolean;
  SecurityOpt?: string[] | null;
  ShmSize?: number;
  Sysctls?: Record<string, string> | null;
  LogConfig?: { Type?: string; Config?: Record<string, string> };
  // resources
  Memory?: number;
  MemorySwap?: number;
  MemoryReservation?: number;
  NanoCpus?: number;
  CpuShares?: number;
  CpuPeriod?: number;
  CpuQuota?: number;
  CpusetCpus?: string;
  CpusetMems?: string;
  PidsLimit?: number | null;
  Ulimits?: { Name: string; Soft: number; Hard: number }[] | null;
  OomKillDisable?: boolean | null;
  OomScoreAdj?: number;
}

export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

/** Docker's ContainerSummary (GET /containers/json). */
export interface ContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  ImageID: string;
  Command: string;
  Created: number;
  Ports: unknown[];
  SizeRw?: number;
  SizeRootFs?: number;
  Labels: Record<string, string>;
  State: ContainerStatus;
  Status: string; // "Up 2 minutes", "Exited (0) 3 seconds ago", "Created"
  HostConfig: { NetworkMode: string };
  NetworkSettings: { Networks: Record<string, unknown> };
  Mounts: unknown[];
}

export interface WaitResult {
  StatusCode: number;
  Error?: { Message: string } | null;
}

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

export interface LogEntry {
  stream: 'stdout' | 'stderr';
  /** RFC 3339 with nanoseconds, as docker's json-file */
  time: string;
  /** one line, including its trailing newline when it had one */
  line: Buffer;
}

export interface LogsOptions {
  follow?: boolean;
  stdout?: boolean;
  stderr?: boolean;
  /** unix seconds (may be fractional) */
  since?: number;
  until?: number;
  /** number of lines from the end; undefined = all */
  tail?: number;
  /**
   * With follow: a container that has not started yet is followed through its
   * next run (attach before start, as `docker run` does), not ended at once.
   */
  waitStart?: boolean;
  /** for attach: read the output even when the log driver keeps none for `docker logs` (driver "none") */
  attach?: boolean;
  signal?: AbortSignal;
}

export interface ContainerService {
  /** 'not_found' for an unknown image, 'conflict' for a name in use, 'invalid_argument' for bad config. */
  create(req: CreateRequest, opts?: { name?: string; platform?: string }): Promise<{ Id: string; Warnings: string[] }>;
  /** 'not_modified' when already running. Exec failures: 'not_found' (127) / 'forbidden' (126) with docker's message. */
  start(idOrName: string): Promise<void>;
  /** Stop signal, then SIGKILL after the timeout (seconds; container's StopTimeout, else 10). 'not_modified' when not running. */
  stop(idOrName: string, opts?: { signal?: string; timeout?: number }): Promise<void>;
  restart(idOrName: string, opts?: { signal?: string; timeout?: number }): Promise<void>;
  /** 'conflict' when not running. */
  kill(idOrName: string, signal?: string): Promise<void>;
  /** 'conflict' for a running container without force. */
  remove(idOrName: string, opts?: { force?: boolean; volumes?: boolean }): Promise<void>;
  wait(idOrName: string, condition?: WaitCondition, signal?: AbortSignal): Promise<WaitResult>;
  list(opts?: { all?: boolean; limit?: number; size?: boolean; filters?: Record<string, string[]> }): Promise<ContainerSummary[]>;
  /** Docker's ContainerInspectResponse. */
  inspect(idOrName: string, opts?: { size?: boolean }): Promise<Record<string, unknown>>;
  logs(idOrName: string, opts?: LogsOptions): AsyncIterable<LogEntry>;
  // The operations below are optional so scripted services may leave them out (the routes answer 501).
  /** runc pause; 'conflict' when not running or already paused. */
  pause?(idOrName: string): Promise<void>;
  /** runc resume; 'conflict' when not paused. */
  unpause?(idOrName: string): Promise<void>;
  /** 'conflict' when the name is taken, 'invalid_argument' for a bad or unchanged name. */
  rename?(idOrName: string, newName: string): Promise<void>;
  /** Host `ps` (default -ef) limited to the container's processes; 'conflict' when not running. */
  top?(idOrName: string, psArgs?: string): Promise<TopResult>;
  /** Changes of the container's writable layer against its image, in walk order. */
  changes?(idOrName: string): Promise<FilesystemChange[]>;
  /** Remove stopped containers (filters: until, label, label!). */
  prune?(filters?: Record<string, string[]>): Promise<PruneReport>;
  /** Where a container's resource usage lives (GET /containers/{id}/stats). */
  statsTarget?(idOrName: string): Promise<StatsTarget>;
  /**
   * Run fn with the container's root filesystem mounted (the live overlay when
   * running, a temporary mount otherwise) plus its volume and bind mounts, for
   * docker cp and export. The mount is released when fn settles.
   */
  withRootfs?<T>(idOrName: string, fn: (view: RootfsView) => Promise<T>): Promise<T>;
  /** What docker commit needs: the writable layer (overlay upper dir) and the container's config. */
  commitSource?(idOrName: string): Promise<CommitSource>;
  /** POST /containers/{id}/update: new resource limits and restart policy, applied live with runc update. */
  update?(idOrName: string, update: UpdateRequest): Promise<{ Warnings: string[] }>;
  /** Resize a container's TTY; 'conflict' when not running. */
  resize?(idOrName: string, height: number, width: number): Promise<void>;
  /**
   * A writable stream to the container's stdin (OpenStdin containers); ending it
   * closes the container's stdin when StdinOnce is set, as docker attach does.
   * Before the container starts it waits for the start (docker run attaches first).
   */
  attachStdin?(idOrName: string, signal?: AbortSignal): Promise<import('node:stream').Writable>;
  /** docker network connect: joins now when running, else at the next start. */
  connect?(idOrName: string, network: string, config?: { Aliases?: string[] | null; IPAMConfig?: { IPv4Address?: string } | null; MacAddress?: string }): Promise<void>;
  /** docker network disconnect */
  disconnect?(idOrName: string, network: string, force?: boolean): Promise<void>;
  /** Does any container (running or not) use this image ID? (rmi refuses those without -f) */
  imageInUse(imageId: string): boolean;
  /** Daemon start: re-adopt running containers, record exits that happened while down, resume restart policies. */
  restore(): Promise<void>;
  /** Daemon stop: containers keep running (conmon holds them). */
  close(): Promise<void>;
}

/** GET /containers/{id}/top */
export interface TopResult {
  Titles: string[];
  Processes: string[][];
}

/** GET /containers/{id}/changes: Kind 0 modified, 1 added, 2 deleted. */
export interface FilesystemChange {
  Path: string;
  Kind: 0 | 1 | 2;
}

/** POST /containers/prune */
export interface PruneReport {
  ContainersDeleted: string[];
  SpaceReclaimed: number;
}

export interface StatsTarget {
  id: string;
  /** with the leading slash, as docker's stats "name" */
  name: string;
  running: boolean;
  /** the container's init pid (0 when not running): /proc/<pid>/net/dev gives its network counters */
  pid: number;
  /** the cgroup path runc was given (cgroupfs), e.g. /berth/<id>: under each v1 controller mount, or under the v2 root */
  cgroupsPath: string;
}

export interface RootfsView {
  /** host path of the container's "/" (merged overlay) */
  rootfs: string;
  /** volume, bind and tmpfs mounts, so paths under them resolve to their host source */
  mounts: { destination: string; source: string; readOnly: boolean; type: 'bind' | 'volume' | 'tmpfs' }[];
  running: boolean;
}

export interface CommitSource {
  id: string;
  name: string;
  /** the image the container was created from */
  imageId: string;
  /** the container's effective config (image config merged with create options), docker's ContainerConfig */
  config: CreateRequest;
  /** the overlay upper dir: the container's changes, to become the new layer */
  upperDir: string;
  running: boolean;
  paused: boolean;
}

/** Docker's ContainerUpdateRequest (resources + RestartPolicy). */
export interface UpdateRequest {
  Memory?: number;
  MemorySwap?: number;
  MemoryReservation?: number;
  NanoCpus?: number;
  CpuShares?: number;
  CpuPeriod?: number;
  CpuQuota?: number;
  CpusetCpus?: string;
  CpusetMems?: string;
  PidsLimit?: number | null;
  BlkioWeight?: number;
  RestartPolicy?: RestartPolicy;
}
