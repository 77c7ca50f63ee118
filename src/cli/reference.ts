// The CLI's view of references: docker's normalisation from src/reference
// under the names the commands use.
import { familiarString, formatReference, type Reference } from '../reference/index.js';

export {
  parseNormalizedNamed as parseReference,
  tagNameOnly as withDefaultTag,
  fullName,
  familiarName,
  DEFAULT_DOMAIN,
  DEFAULT_TAG,
} from '../reference/index.js';

export type ParsedRef = Reference;

export function referenceString(ref: Reference, familiar = false): string {
  return familiar ? familiarString(ref) : formatReference(ref);
}
