// Version-dependent reply shapes (see the spec folder's CHANGELOG.md):
// < 1.43 untagged images list as "<none>:<none>" / "<none>@<none>";
// < 1.44 carries VirtualSize (= Size); < 1.45 carries Container/ContainerConfig.
import type { ImageInspect, ImageSummary } from '../../image/types.js';
import { versionLessThan } from '../apiversion.js';

export function shapeSummary(s: ImageSummary, apiVersion: string): ImageSummary {
  const out: ImageSummary = { ...s };
  if (versionLessThan(apiVersion, '1.43')) {
    if (out.RepoTags.length === 0) out.RepoTags = ['<none>:<none>'];
    if (out.RepoDigests.length === 0) out.RepoDigests = ['<none>@<none>'];
  }
  if (versionLessThan(apiVersion, '1.44')) out.VirtualSize = out.Size;
  else delete out.VirtualSize;
  return out;
}

export function shapeInspect(i: ImageInspect, apiVersion: string): ImageInspect {
  const out: ImageInspect = { ...i };
  if (versionLessThan(apiVersion, '1.44')) out.VirtualSize = out.Size;
  else delete out.VirtualSize;
  // dockerd left out Container and ContainerConfig from 1.45 on. berth keeps ContainerConfig:
  // docker-compose 1.29 (docker-py 5 takes the server's newest version) reads
  // ContainerConfig.Volumes to recreate a container and fails without it, as it does
  // against dockerd 25+; clients that follow 1.45 ignore the extra field.
  out.ContainerConfig ??= {};
  if (versionLessThan(apiVersion, '1.45')) out.Container ??= '';
  else delete out.Container;
  return out;
}
