export { writeFileAtomic, syncDir } from './atomic.js';
export { type Digest, isDigest, parseDigest, sha256, hexOf, shortId } from './digest.js';
export { type Logger, type LogLevel, type LogFields, createLogger, nullLogger, isLogLevel } from './log.js';
export { limiter, Singleflight, RwLock, KeyedMutex } from './limit.js';
export { goArch } from './platform.js';
export { Phases } from './phases.js';
export { encodeHeader, END_OF_ARCHIVE, padding, fileEntryBody, TarParser, type TarHeader, type TarSink } from './tar.js';
