// The one place that knows both BerthError and HTTP: domain codes become
// Engine API statuses here, and error bodies are `{"message": "..."}` exactly
// as dockerd writes them (api/server/httpstatus + httputils.WriteJSON).
import type { ServerResponse } from 'node:http';
import { BerthError, type ErrorCode, messageOf } from '../errors/index.js';

/** A new ErrorCode does not compile until it has a row here. */
export const STATUS_OF: Record<ErrorCode, number> = {
  not_found: 404,
  invalid_argument: 400,
  conflict: 409,
  not_modified: 304,
  unauthorized: 401,
  forbidden: 403,
  unavailable: 503,
  not_implemented: 501,
  internal: 500,
};

export function statusOf(err: unknown): number {
  return err instanceof BerthError ? STATUS_OF[err.code] : 500;
}

/** Write `err` as a complete response. Callers make sure no header was sent yet. */
export function writeError(res: ServerResponse, err: unknown): void {
  const status = statusOf(err);
  if (status === 304) {
    res.writeHead(304).end(); // 304 carries no body
    return;
  }
  const body = JSON.stringify({ message: messageOf(err) }) + '\n';
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}
