// The builder's contract: what POST /build asks for, and the JSON lines it
// streams back. Without `berthprogress=1` the stream is exactly dockerd's legacy
// builder output ("Step 1/3 : FROM busybox", " ---> Using cache", the
// moby.image.id aux), which the docker CLI renders; with it, berth's CLI also
// gets one berth.step record per state change and RUN output tagged by step,
// so it can draw per-step progress with elapsed times.

export interface BuildRequest {
  /** -t, normalised by the caller ("name:tag"); may be empty */
  tags: string[];
  /** path of the Dockerfile inside the context (query `dockerfile`, default "Dockerfile") */
  dockerfile: string;
  /** --build-arg; null = no value (the docker CLI's `K` alone, unset in its environment): the ARG's default applies */
  buildArgs: Record<string, string | null>;
  target?: string;
  noCache: boolean;
  /** --pull: always pull FROM images, even when present */
  pull: boolean;
  labels: Record<string, string>;
  platform?: string;
  /** -q: only the final image ID is streamed */
  quiet: boolean;
  /** remove intermediate containers after a successful build (docker's rm=1, default true) */
  rm: boolean;
  /** remove intermediate containers even after a failed step (forcerm) */
  forceRm: boolean;
  /** networkmode: the network RUN steps join unless RUN --network says otherwise (default: the default bridge) */
  networkMode?: string;
  /** extrahosts: "host:ip" entries added to the RUN containers' /etc/hosts */
  extraHosts?: string[];
  /** berth's CLI asks for berth.step / berth.log records (query berthprogress=1) */
  stepRecords: boolean;
  /** registry auth for FROM pulls, as X-Registry-Config: server → {username, password, ...} */
  registryAuth?: Record<string, { username?: string; password?: string; auth?: string; identitytoken?: string }>;
}

/** One state change of a step (a "vertex", numbered across the whole build from 1). */
export interface StepRecord {
  vertex: number;
  /** "[build 2/5] RUN make" — BuildKit's naming: stage name (or "stage-N") and the step within it */
  name: string;
  state: 'started' | 'cached' | 'done' | 'error';
  /** set for done/cached/error */
  elapsedMs?: number;
  error?: string;
}

/** A line of the POST /build response (newline-delimited JSON). */
export type BuildMessage =
  | { stream: string }
  | { status: string; id?: string; progressDetail?: { current?: number; total?: number }; progress?: string }
  | { id: 'moby.image.id'; aux: { ID: string } }
  | { id: 'berth.step'; aux: StepRecord }
  | { id: 'berth.log'; aux: { vertex: number; stream: 'stdout' | 'stderr'; data: string } }
  | { errorDetail: { code?: number; message: string }; error: string };

/** POST /build/prune (docker builder prune) */
export interface BuildCachePruneReport {
  CachesDeleted: string[] | null;
  SpaceReclaimed: number;
}
