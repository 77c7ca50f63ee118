// The distribution spec's error codes as domain errors. A DistributionError
// is a BerthError (so generic code can match on `code`) that also carries the
// spec's code; http.ts maps that code to a status in one table.
import { BerthError, type ErrorCode } from '../errors/index.js';

export type SpecErrorCode =
  | 'BLOB_UNKNOWN'
  | 'BLOB_UPLOAD_INVALID'
  | 'BLOB_UPLOAD_UNKNOWN'
  | 'DIGEST_INVALID'
  | 'MANIFEST_BLOB_UNKNOWN'
  | 'MANIFEST_INVALID'
  | 'MANIFEST_UNKNOWN'
  | 'NAME_INVALID'
  | 'NAME_UNKNOWN'
  | 'SIZE_INVALID'
  | 'UNAUTHORIZED'
  | 'DENIED'
  | 'UNSUPPORTED'
  | 'RANGE_INVALID';

const BERTH_CODE: Record<SpecErrorCode, ErrorCode> = {
  BLOB_UNKNOWN: 'not_found',
  BLOB_UPLOAD_INVALID: 'invalid_argument',
  BLOB_UPLOAD_UNKNOWN: 'not_found',
  DIGEST_INVALID: 'invalid_argument',
  MANIFEST_BLOB_UNKNOWN: 'invalid_argument',
  MANIFEST_INVALID: 'invalid_argument',
  MANIFEST_UNKNOWN: 'not_found',
  NAME_INVALID: 'invalid_argument',
  NAME_UNKNOWN: 'not_found',
  SIZE_INVALID: 'invalid_argument',
  UNAUTHORIZED: 'unauthorized',
  DENIED: 'forbidden',
  UNSUPPORTED: 'not_implemented',
  // Not a spec code: a chunk that does not continue the upload (the spec's 416).
  RANGE_INVALID: 'conflict',
};

export class DistributionError extends BerthError {
  constructor(
    readonly specCode: SpecErrorCode,
    message: string,
    readonly detail?: unknown,
  ) {
    super(BERTH_CODE[specCode], message);
    this.name = 'DistributionError';
  }
}

export const distErr = (code: SpecErrorCode, message: string, detail?: unknown) => new DistributionError(code, message, detail);
