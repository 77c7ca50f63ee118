// Engine API version negotiation, as dockerd's VersionMiddleware does it: a
// request names its version in the path (/v1.44/...) or gets the default.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BerthError } from '../errors/index.js';

export const API_VERSION = '1.50';
export const MIN_API_VERSION = '1.24';

/** berth's own version, from package.json (dist/src/daemon -> package root). */
export const BERTH_VERSION: string = (() => {
  const pkg = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'package.json');
  return (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
})();

/** Compare dotted versions numerically ("1.9" < "1.10"), like moby's versions.compare. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.');
  const pb = b.split('.');
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = parseInt(pa[i] ?? '0', 10) || 0;
    const y = parseInt(pb[i] ?? '0', 10) || 0;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

export const versionLessThan = (v: string, other: string) => compareVersions(v, other) < 0;

/** The version a request is served at; throws dockerd's 400 for unsupported ones. */
export function negotiateVersion(requested: string | undefined): string {
  if (!requested) return API_VERSION;
  if (compareVersions(requested, MIN_API_VERSION) < 0) {
    throw new BerthError(
      'invalid_argument',
      `client version ${requested} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`,
    );
  }
  if (compareVersions(requested, API_VERSION) > 0) {
    throw new BerthError(
      'invalid_argument',
      `client version ${requested} is too new. Maximum supported API version is ${API_VERSION}`,
    );
  }
  return requested;
}
