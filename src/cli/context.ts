// What every command handler receives: streams, the resolved host and config
// directory, and a lazily created API client.
import type { Readable } from 'node:stream';
import type { ApiClient } from './client.js';
import { UsageError, type FlagValues } from './args.js';

export interface OutStream {
  write(text: string | Uint8Array): boolean;
  isTTY?: boolean;
  columns?: number;
  rows?: number;
  /** A terminal stdout emits 'resize' on SIGWINCH. */
  on?(event: 'resize', listener: () => void): unknown;
  off?(event: 'resize', listener: () => void): unknown;
}

export interface InStream extends Readable {
  isTTY?: boolean;
  setRawMode?(mode: boolean): unknown;
}

export interface CommandContext {
  host: string;
  configDir: string;
  logLevel: string;
  stdout: OutStream;
  stderr: OutStream;
  stdin: InStream;
  client(): ApiClient;
}

export interface Invocation {
  flags: FlagValues;
  args: string[];
}

/** A command's body; returns the exit code (0 when undefined). */
export type Handler = (ctx: CommandContext, inv: Invocation) => Promise<number | void>;

/** A user-facing failure: the message is printed as is, no stack. */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export const str = (flags: FlagValues, name: string): string => {
  const v = flags[name];
  return typeof v === 'string' ? v : '';
};
export const bool = (flags: FlagValues, name: string): boolean => flags[name] === true;
export const list = (flags: FlagValues, name: string): string[] => {
  const v = flags[name];
  return Array.isArray(v) ? v : [];
};
/** An integer flag as Go's strconv.ParseInt takes it; undefined when not given. */
export function intFlag(flags: FlagValues, name: string): number | undefined {
  const v = str(flags, name);
  if (v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw new UsageError(`invalid argument "${v}" for "--${name}" flag: strconv.ParseInt: parsing "${v}": invalid syntax`);
  return Number(v);
}
