// The Dockerfile front end: text → directives and nodes (parseDockerfile) →
// typed stages and instructions (buildProgram), plus the shell-word lexer the
// builder uses for ${VAR} substitution at each step (expandInstruction), and
// BuildKit's history strings (formatCreatedBy). Pure: no I/O, no clock.
// Behaviour and messages follow BuildKit's dockerfile frontend. Our own rather than
// npm's dockerfile-ast: that is an editor AST (ranges, diagnostics) without BuildKit's
// word splitting and ${VAR} expansion, which the builder needs and would write anyway.
export type * from './types.js';
export { DockerfileError, ShellLexError } from './errors.js';
export { parseDockerfile } from './parser.js';
export { buildProgram } from './instructions.js';
export {
  ShellLex,
  envFrom,
  processWord,
  processWords,
  processWordWithMatches,
  type EnvLookup,
  type LexOptions,
  type ProcessResult,
} from './lexer.js';
export { expandInstruction, expandBaseName, resolveMetaArgs, type Expansion } from './expand.js';
export { formatCreatedBy, historyEntry, runArgv, type HistoryEntry, type HistoryOptions } from './history.js';
export { formatGoDuration, parseGoDuration } from './gofmt.js';

import { buildProgram } from './instructions.js';
import { parseDockerfile } from './parser.js';
import type { DockerfileProgram } from './types.js';

/** parseDockerfile + buildProgram. */
export function parseProgram(text: string): DockerfileProgram {
  return buildProgram(parseDockerfile(text));
}
