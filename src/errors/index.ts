// Domain errors: a closed set of codes, no HTTP here. The daemon's API layer
// maps codes to statuses in one table (src/daemon/errors.ts); the CLI maps
// statuses back.

export type ErrorCode =
  | 'not_found'
  | 'invalid_argument'
  | 'conflict'
  | 'not_modified'
  | 'unauthorized'
  | 'forbidden'
  | 'unavailable'
  | 'not_implemented'
  | 'internal';

export const ERROR_CODES: readonly ErrorCode[] = [
  'not_found',
  'invalid_argument',
  'conflict',
  'not_modified',
  'unauthorized',
  'forbidden',
  'unavailable',
  'not_implemented',
  'internal',
];

export class BerthError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'BerthError';
  }
}

export const isCode = (err: unknown, code: ErrorCode): err is BerthError =>
  err instanceof BerthError && err.code === code;

export const notFound = (message: string, options?: ErrorOptions) => new BerthError('not_found', message, options);
export const invalidArgument = (message: string, options?: ErrorOptions) =>
  new BerthError('invalid_argument', message, options);
export const conflict = (message: string, options?: ErrorOptions) => new BerthError('conflict', message, options);

/** The message of any thrown value, for logs and API bodies. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
