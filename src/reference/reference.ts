// Image references, parsed and normalised like docker/distribution's
// `reference` package (ParseNormalizedNamed, FamiliarName, FamiliarString,
// TagNameOnly). The grammar is distribution's:
//
//   reference  := name [ ":" tag ] [ "@" digest ]
//   name       := [domain '/'] path-component ['/' path-component]*
//   domain     := host [':' port]
//
// Only sha256 digests are accepted, like the rest of berth (see util/digest).
import { BerthError } from '../errors/index.js';
import { isDigest, type Digest } from '../util/index.js';
import type { Reference } from './types.js';

export const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_REPO_PREFIX = 'library/';
export const DEFAULT_TAG = 'latest';
/** distribution's NameTotalLengthMax. */
const NAME_TOTAL_LENGTH_MAX = 255;

const alphanumeric = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const pathComponent = `${alphanumeric}(?:${separator}${alphanumeric})*`;
const domainNameComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const ipv6address = '\\[(?:[a-fA-F0-9:]+)\\]';
const domainName = `${domainNameComponent}(?:\\.${domainNameComponent})*`;
const host = `(?:${domainName}|${ipv6address})`;
const domainAndPort = `${host}(?::[0-9]+)?`;
const tagPattern = '[\\w][\\w.-]{0,127}';
const digestPattern = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}';

const REFERENCE_RE = new RegExp(
  `^((?:(${domainAndPort})/)?${pathComponent}(?:/${pathComponent})*)(?::(${tagPattern}))?(?:@(${digestPattern}))?$`,
);
const TAG_RE = new RegExp(`^${tagPattern}$`);
const FULL_ID_RE = /^[a-f0-9]{64}$/;
/** docker's shortIdentifier: what a (possibly truncated) image ID may look like. */
const SHORT_ID_RE = /^[a-f0-9]{6,64}$/;

function invalid(detail?: string): BerthError {
  return new BerthError('invalid_argument', detail ? `invalid reference format: ${detail}` : 'invalid reference format');
}

/** distribution's splitDockerDomain: the first component is a domain only if it looks like one. */
function splitDockerDomain(name: string): { domain: string; remainder: string } {
  const i = name.indexOf('/');
  let domain: string;
  let remainder: string;
  const first = i === -1 ? '' : name.slice(0, i);
  if (i === -1 || (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first)) {
    domain = DEFAULT_DOMAIN;
    remainder = name;
  } else {
    domain = first;
    remainder = name.slice(i + 1);
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) remainder = OFFICIAL_REPO_PREFIX + remainder;
  return { domain, remainder };
}

/** distribution's Parse on an already-normalised string. */
function parseStrict(s: string): Reference {
  const m = REFERENCE_RE.exec(s);
  if (!m) {
    if (REFERENCE_RE.test(s.toLowerCase())) throw invalid('repository name must be lowercase');
    throw invalid();
  }
  const name = m[1] as string;
  if (name.length > NAME_TOTAL_LENGTH_MAX) {
    throw invalid(`repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`);
  }
  const domain = m[2];
  // Callers always pass domain/remainder; no captured domain means the split-off
  // first component was not a valid host (e.g. `a_b.c/x`).
  if (domain === undefined) throw invalid();
  const ref: Reference = { domain, path: name.slice(domain.length + 1) };
  if (m[3] !== undefined) ref.tag = m[3];
  if (m[4] !== undefined) ref.digest = checkDigest(m[4]);
  return ref;
}

function checkDigest(s: string): Digest {
  if (isDigest(s)) return s;
  const [algorithm] = s.split(':');
  if (algorithm !== 'sha256') throw new BerthError('invalid_argument', `unsupported digest algorithm: ${s}`);
  throw new BerthError('invalid_argument', `invalid checksum digest format: ${s}`);
}

/**
 * distribution's ParseNormalizedNamed: `busybox` -> docker.io/library/busybox.
 * Keeps the tag and digest as given (none added).
 */
export function parseNormalizedNamed(s: string): Reference {
  if (FULL_ID_RE.test(s)) {
    throw new BerthError(
      'invalid_argument',
      `invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`,
    );
  }
  const { domain, remainder } = splitDockerDomain(s);
  const tagSep = remainder.indexOf(':');
  const remoteName = tagSep > -1 ? remainder.slice(0, tagSep) : remainder;
  if (remoteName.toLowerCase() !== remoteName) {
    throw invalid(`repository name (${remoteName}) must be lowercase`);
  }
  return parseStrict(`${domain}/${remainder}`);
}

/** A normalised reference, with `:latest` added when it has neither tag nor digest (TagNameOnly). */
export function parseReference(s: string): Reference {
  return tagNameOnly(parseNormalizedNamed(s));
}

/** A repository name only: no tag, no digest (the `tag` API's repo, `reference=` filters). */
export function parseRepositoryName(s: string): Reference {
  const ref = parseNormalizedNamed(s);
  if (ref.tag !== undefined || ref.digest !== undefined) {
    throw invalid(`repository name (${s}) must not include a tag or digest`);
  }
  return ref;
}

/** Adds the default tag to a name-only reference. */
export function tagNameOnly(ref: Reference): Reference {
  if (ref.tag === undefined && ref.digest === undefined) return { ...ref, tag: DEFAULT_TAG };
  return ref;
}

export function isValidTag(tag: string): boolean {
  return TAG_RE.test(tag);
}

/** The same repository with `tag` (any digest dropped), like reference.WithTag(TrimNamed(ref), tag). */
export function withTag(ref: Reference, tag: string): Reference {
  if (!isValidTag(tag)) throw new BerthError('invalid_argument', `invalid tag format: ${JSON.stringify(tag)}`);
  return { domain: ref.domain, path: ref.path, tag };
}

/** The same repository pinned to `digest` (keeps the tag, like reference.WithDigest). */
export function withDigest(ref: Reference, digest: string): Reference {
  const out: Reference = { domain: ref.domain, path: ref.path, digest: checkDigest(digest) };
  if (ref.tag !== undefined) out.tag = ref.tag;
  return out;
}

/** The repository alone (reference.TrimNamed). */
export function trimNamed(ref: Reference): Reference {
  return { domain: ref.domain, path: ref.path };
}

/** docker.io/library/busybox */
export function fullName(ref: Reference): string {
  return `${ref.domain}/${ref.path}`;
}

/** docker.io/library/busybox:latest, with @digest when pinned. */
export function formatReference(ref: Reference): string {
  return fullName(ref) + suffix(ref);
}

/** busybox, myuser/app, localhost:5000/x: the short form docker shows. */
export function familiarName(ref: Reference): string {
  if (ref.domain !== DEFAULT_DOMAIN) return fullName(ref);
  const rest = ref.path;
  if (rest.startsWith(OFFICIAL_REPO_PREFIX) && !rest.slice(OFFICIAL_REPO_PREFIX.length).includes('/')) {
    return rest.slice(OFFICIAL_REPO_PREFIX.length);
  }
  return rest;
}

/** busybox:latest, localhost:5000/x:1, busybox@sha256:... */
export function familiarString(ref: Reference): string {
  return familiarName(ref) + suffix(ref);
}

function suffix(ref: Reference): string {
  return (ref.tag !== undefined ? `:${ref.tag}` : '') + (ref.digest !== undefined ? `@${ref.digest}` : '');
}

/** A full image ID: 64 hex characters, with or without `sha256:`. */
export function isFullId(s: string): boolean {
  return FULL_ID_RE.test(s.startsWith('sha256:') ? s.slice('sha256:'.length) : s);
}

/**
 * Could `s` be a truncated image ID (docker's shortIdentifier, 6..64 hex,
 * optionally `sha256:`-prefixed)? Such strings are also valid repository
 * names; callers look them up as IDs first, as docker does.
 */
export function isShortIdPrefix(s: string): boolean {
  return SHORT_ID_RE.test(s.startsWith('sha256:') ? s.slice('sha256:'.length) : s);
}

export function sameRepository(a: Reference, b: Reference): boolean {
  return a.domain === b.domain && a.path === b.path;
}
