// CONTRACT (implemented in src/reference/). Image references parsed and
// normalised exactly like docker/distribution's reference package.
import type { Digest } from '../util/index.js';

export interface Reference {
  /** Registry host[:port]; 'docker.io' for Docker Hub. */
  domain: string;
  /** Repository path within the registry; 'library/busybox' for official images. */
  path: string;
  tag?: string;
  digest?: Digest;
}
