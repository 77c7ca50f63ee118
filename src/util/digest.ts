import { createHash } from 'node:crypto';
import { invalidArgument } from '../errors/index.js';

export type Digest = `sha256:${string}`;

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

export function isDigest(s: string): s is Digest {
  return DIGEST_RE.test(s);
}

/** Parse a digest string; only sha256 is supported (as dockerd). */
export function parseDigest(s: string): Digest {
  if (!isDigest(s)) throw invalidArgument(`invalid digest: ${JSON.stringify(s)}`);
  return s;
}

export function sha256(data: string | Uint8Array): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export function hexOf(d: Digest): string {
  return d.slice('sha256:'.length);
}

/** First 12 hex characters, as docker shows IDs. */
export function shortId(d: string): string {
  return d.replace(/^sha256:/, '').slice(0, 12);
}
