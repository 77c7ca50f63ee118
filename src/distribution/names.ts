// Repository names, tags and digests as the distribution spec allows them.
// The name grammar admits no "..", no leading "/", no uppercase and no
// percent-escapes, so a valid name is also a safe relative path.
import { isDigest, type Digest } from '../util/index.js';
import { distErr } from './errors.js';

const COMPONENT = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
const NAME_RE = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
const TAG_RE = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
/** Path components the storage layout uses; a repository may not be named after them. */
const RESERVED = new Set(['_manifests', '_layers', '_referrers', '_uploads']);

export function isValidName(name: string): boolean {
  return name.length <= 255 && NAME_RE.test(name) && !name.split('/').some((c) => RESERVED.has(c));
}

export function checkName(name: string): string {
  if (!isValidName(name)) throw distErr('NAME_INVALID', 'invalid repository name', { name });
  return name;
}

export const isTag = (ref: string): boolean => TAG_RE.test(ref);

export function checkDigest(s: string): Digest {
  if (!isDigest(s)) throw distErr('DIGEST_INVALID', 'invalid digest', { digest: s });
  return s;
}

/** A manifest reference: a tag or a digest. */
export type ManifestRef = { tag: string } | { digest: Digest };

export function parseManifestRef(ref: string): ManifestRef {
  if (ref.includes(':')) return { digest: checkDigest(ref) };
  if (!isTag(ref)) throw distErr('MANIFEST_INVALID', 'invalid tag', { tag: ref });
  return { tag: ref };
}
