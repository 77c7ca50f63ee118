// Layer storage: the applier (OCI layer tar -> overlay diff dir), the overlay
// snapshotter (diff dirs keyed by chain ID, as mount descriptions), mounting,
// and the reverse direction (diff dir -> layer tar). The tar codec is our own
// (src/util/tar.ts) rather than tar-stream: binary PAX xattrs and speed.
export type { ApplyOptions, ApplyResult, Compression, LayerApplier, Mount, Snapshot, Snapshotter, StagedLayer } from './types.js';
export { applyLayer, cleanEntryPath, sniffCompression, decompress, inheritImpliedDirs } from './apply.js';
export { applyLayerInWorker, warmUnpackWorkers } from './apply-worker.js';
export { OverlaySnapshotter } from './overlay.js';
export { mountAll, unmount, parseMountOptions, mountsBelow, unmountBelow } from './mount.js';
export { layerTarFromDir } from './diff.js';
export { encodeHeader, END_OF_ARCHIVE, padding, TarParser, type TarHeader } from '../util/index.js';
