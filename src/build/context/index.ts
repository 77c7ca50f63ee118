// The build context: the client's tar unpacked on the daemon (openContext),
// COPY/ADD sources resolved with docker's wildcard rules (resolveSources),
// their cache checksum (checksumSources), copying them into a rootfs
// (copyInto, resolveChown), ADD <url> downloads (fetchUrl), and the CLI's side:
// .dockerignore and the context tar it sends (createContextTar).
//
// Departures and choices, and why:
// - moby's patternmatcher and Go's filepath.Match are ported (match.ts) rather
//   than taken from npm: @balena/dockerignore follows an older moby and its
//   corner cases (`**` as prefix/suffix, escapes) differ.
// - bzip2 and xz (contexts, ADD archives) go through bzip2(1)/xz(1); Node has
//   no codec for them.
// - `ResolveSourcesOptions.scoped` changes nothing: buildkit resolves the
//   context's symlinks inside the context too, as a stage's inside its rootfs.
// - SourceMatch.excludes (COPY --exclude) is matched relative to the source
//   root and to the matched directory, so both `--exclude=dir/x` and
//   `--exclude=x` leave out dir/x when copying `dir`.
import type { ContextApi } from './types.js';
import { openContext } from './open.js';
import { resolveSources } from './sources.js';
import { checksumSources } from './checksum.js';
import { copyInto, resolveChown } from './copy.js';
import { fetchUrl } from './fetch.js';

export type * from './types.js';
export { openContext, resolveSources, checksumSources, copyInto, resolveChown, fetchUrl };
export { isTarArchive } from './copy.js';
export { createContextTar, excludesForBuild } from './client.js';
export { createIgnoreMatcher, readDockerignore, goMatch, hasWildcards, cleanPath } from './match.js';
export { fileDigest, contentCacheStats } from './checksum.js';

/** The same functions as one object, checked against the contract. */
export const contextApi: ContextApi = { openContext, resolveSources, checksumSources, copyInto, resolveChown, fetchUrl };
