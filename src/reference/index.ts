// Image references: parsing and normalisation like docker/distribution's
// `reference` package, and the familiar (short) forms docker prints.
export type { Reference } from './types.js';
export {
  DEFAULT_DOMAIN,
  DEFAULT_TAG,
  parseReference,
  parseNormalizedNamed,
  parseRepositoryName,
  tagNameOnly,
  isValidTag,
  withTag,
  withDigest,
  trimNamed,
  fullName,
  formatReference,
  familiarName,
  familiarString,
  isFullId,
  isShortIdPrefix,
  sameRepository,
} from './reference.js';
