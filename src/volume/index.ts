// Named volumes with docker's local driver: a directory <root>/volumes/<name>/_data
// per volume and a SQLite record. Which containers use a volume is the
// container service's knowledge; composition hands it in as `usedBy`.
//
// Departures from dockerd: no driver options (type/device/o mounts) and no
// volume plugins; both are refused instead of half honoured.
export type * from './types.js';
export { VolumeStore, validVolumeName, ANONYMOUS_LABEL, type VolumeStoreDeps } from './store.js';
