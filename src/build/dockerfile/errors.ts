// The one error type of the Dockerfile front end: a BerthError ('invalid_argument')
// that also carries the 1-based line it concerns, so the builder can prefix
// "Dockerfile:7:" without parsing the message.
import { BerthError } from '../../errors/index.js';
import type { DockerfileErrorInfo } from './types.js';

export class DockerfileError extends BerthError implements DockerfileErrorInfo {
  constructor(
    /** 1-based first line of the offending instruction (0 when no line applies) */
    readonly line: number,
    message: string,
    options?: ErrorOptions & { endLine?: number },
  ) {
    super('invalid_argument', message, options);
    this.name = 'DockerfileError';
    this.endLine = options?.endLine ?? line;
  }

  readonly endLine: number;

  /** "Dockerfile:7: unknown instruction: FOO" — `.message` stays bare. */
  override toString(): string {
    return `Dockerfile:${this.line}: ${this.message}`;
  }
}

/** A variable-expansion error without a line yet (the caller knows the instruction). */
export class ShellLexError extends BerthError {
  constructor(message: string) {
    super('invalid_argument', message);
    this.name = 'ShellLexError';
  }
}
