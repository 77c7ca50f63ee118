// The Dockerfile front end's contract: text → parsed nodes → typed stages.
// Variable expansion is not done here at parse time; the builder asks for it
// per instruction (expandInstruction) with the environment of that moment,
// because ENV and ARG change it as the stage goes on.

/** Parser directives from the top of the file (# syntax=, # escape=, # check=). */
export interface Directives {
  syntax?: string;
  escape: '\\' | '`';
  check?: string;
}

/** A here-document attached to an instruction (RUN <<EOF, COPY <<EOF /dst). */
export interface Heredoc {
  /** the delimiter word, unquoted (EOF) */
  name: string;
  /** the body, without the closing delimiter line; with <<- leading tabs removed */
  content: string;
  /** false when the delimiter was quoted (<<"EOF", <<'EOF'): no variable expansion in the body */
  expand: boolean;
  /** <<- form */
  chomp: boolean;
  /** the redirected descriptor for RUN 3<<EOF forms, else undefined */
  fileDescriptor?: number;
  /** the body exactly as written, before <<- tab removal (ONBUILD triggers and multi-heredoc RUN rebuild the text from it) */
  raw?: string;
}

/** One instruction as the parser sees it: keyword, flags and the rest of the line. */
export interface DockerfileNode {
  /** lower case: 'from', 'run', ... */
  keyword: string;
  /** the instruction's flags (--from=build, --chown=1:1), in order, as written */
  flags: string[];
  /** the text after the keyword and its flags, continuation lines joined, comments inside removed */
  rest: string;
  /** rest parsed as a JSON array of strings (exec form) when it is one, else null */
  json: string[] | null;
  heredocs: Heredoc[];
  /** 1-based lines of the instruction in the file, first and last (continuations, heredocs) */
  startLine: number;
  endLine: number;
  /** the instruction as written, continuations joined into one line (for messages) */
  original: string;
  /**
   * The arguments as BuildKit's line parser splits them for this keyword
   * (ENV/LABEL: [k1, v1, k2, v2...]; ARG: words; COPY: paths; RUN: [rest] or the JSON items),
   * quotes still in place. Set by parseDockerfile.
   */
  args?: string[];
  /** the keyword as written ("Run"), for messages such as "unknown instruction: Run" */
  written?: string;
}

export interface ParsedDockerfile {
  directives: Directives;
  nodes: DockerfileNode[];
  /** e.g. empty continuation lines, deprecated MAINTAINER; shown as build warnings */
  warnings: string[];
}

export interface KeyValue {
  key: string;
  value: string;
}

/** ARG name[=default] */
export interface ArgDecl {
  key: string;
  /** undefined when the ARG has no default */
  value?: string;
}

export type ShellOrExec =
  /** shell form: run through the SHELL (default ["/bin/sh", "-c"]) */
  | { form: 'shell'; command: string }
  /** exec (JSON) form */
  | { form: 'exec'; argv: string[] };

export interface HealthcheckSpec {
  /** ["NONE"], ["CMD", ...] or ["CMD-SHELL", "..."] as docker stores it */
  test: string[];
  /** nanoseconds, 0 when not given (docker's zero means "inherit the default") */
  interval: number;
  timeout: number;
  startPeriod: number;
  startInterval: number;
  retries: number;
}

interface Base {
  /** 1-based first line, for error messages ("Dockerfile:7") */
  line: number;
  endLine: number;
  /** the instruction as written (continuations joined) */
  original: string;
}

/**
 * A typed instruction. String fields hold the unexpanded text, quotes still in
 * place where docker removes them at expansion time (ENV/LABEL/ARG values,
 * COPY paths: `ENV A="x y"` keeps `"x y"` until expandInstruction); the builder calls
 * expandInstruction() with the environment of the moment, which applies docker's
 * rules on which instructions and fields are subject to ${VAR} substitution.
 */
export type Instruction = Base &
  (
    | { kind: 'arg'; args: ArgDecl[] }
    | { kind: 'run'; command: ShellOrExec; heredocs: Heredoc[]; /** --network=default|none|host */ network?: string; /** --mount flags as written (unsupported ones rejected by the builder) */ mounts: string[]; /** --security=sandbox|insecure, when given */ security?: string }
    | { kind: 'copy' | 'add'; sources: string[]; dest: string; /** inline files: COPY <<EOF /dst */ heredocs: Heredoc[]; from?: string; chown?: string; chmod?: string; link: boolean; /** ADD --keep-git-dir, --checksum; COPY --parents, --exclude */ checksum?: string; excludes: string[]; parents: boolean; /** ADD --keep-git-dir */ keepGitDir?: boolean }
    | { kind: 'env'; pairs: KeyValue[] }
    | { kind: 'label'; pairs: KeyValue[] }
    | { kind: 'workdir'; path: string }
    | { kind: 'user'; user: string }
    | { kind: 'expose'; ports: string[] }
    | { kind: 'volume'; paths: string[] }
    | { kind: 'cmd'; command: ShellOrExec }
    | { kind: 'entrypoint'; command: ShellOrExec }
    | { kind: 'shell'; shell: string[] }
    | { kind: 'stopsignal'; signal: string }
    | { kind: 'healthcheck'; check: HealthcheckSpec }
    | { kind: 'onbuild'; /** the trigger as docker stores it in config.OnBuild: "RUN echo hi" */ trigger: string }
    | { kind: 'maintainer'; name: string }
  );

export interface Stage {
  /** the AS name, lower-cased as docker does; undefined when unnamed */
  name?: string;
  /** index in the file, 0-based (COPY --from=0) */
  index: number;
  /** FROM's image, unexpanded (may reference meta ARGs) */
  base: string;
  /** FROM --platform, unexpanded */
  platform?: string;
  line: number;
  original: string;
  instructions: Instruction[];
}

export interface DockerfileProgram {
  directives: Directives;
  /** ARGs before the first FROM */
  metaArgs: (Base & { kind: 'arg'; args: ArgDecl[] })[];
  stages: Stage[];
  warnings: string[];
}

/** A syntax or semantic error in the Dockerfile, with its 1-based line. */
export interface DockerfileErrorInfo {
  line: number;
  message: string;
}
