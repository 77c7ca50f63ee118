// A small synchronous tar codec (ustar + GNU long names + PAX), used instead of
// tar-stream for two reasons: PAX values must stay bytes (xattrs such as
// security.capability are binary; tar-stream decodes and encodes them as
// UTF-8 text and ignores PAX uid/gid/mtime), and the applier is faster
// without a stream object and a callback per entry.
import { open } from 'node:fs/promises';
import { BerthError } from '../errors/index.js';

export type EntryType = 'file' | 'link' | 'symlink' | 'char' | 'block' | 'directory' | 'fifo';

export interface TarHeader {
  name: string;
  type: EntryType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** seconds since the epoch (fractional from PAX) */
  mtime: number;
  linkname: string;
  devmajor: number;
  devminor: number;
  /** xattrs from SCHILY.xattr.* PAX records, values as bytes */
  xattrs: Map<string, Buffer> | null;
}

const BLOCK = 512;

function bad(message: string): BerthError {
  return new BerthError('invalid_argument', `invalid layer tar: ${message}`);
}

function readString(buf: Buffer, off: number, len: number): string {
  let end = off;
  const max = off + len;
  while (end < max && buf[end] !== 0) end++;
  return buf.toString('utf8', off, end);
}

function readNumber(buf: Buffer, off: number, len: number): number {
  if (buf[off]! & 0x80) {
    // base-256 (GNU): big-endian two's complement, the first byte's top bit a marker
    let n = buf[off]! & 0x7f;
    for (let i = off + 1; i < off + len; i++) n = n * 256 + buf[i]!;
    return n;
  }
  let n = 0;
  let i = off;
  const end = off + len;
  while (i < end && (buf[i] === 0x20 || buf[i] === 0)) i++;
  for (; i < end; i++) {
    const c = buf[i]!;
    if (c < 0x30 || c > 0x37) break;
    n = n * 8 + (c - 0x30);
  }
  return n;
}

function checksumOk(buf: Buffer): boolean {
  const want = readNumber(buf, 148, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : buf[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return want === unsigned || want === signed;
}

function isZeroBlock(buf: Buffer): boolean {
  for (let i = 0; i < BLOCK; i++) if (buf[i] !== 0) return false;
  return true;
}

/** PAX records "LEN KEY=VALUE\n", values kept as bytes. */
export function parsePax(buf: Buffer, into: Map<string, Buffer>): void {
  let pos = 0;
  while (pos < buf.length) {
    const space = buf.indexOf(0x20, pos);
    if (space < 0) break;
    const len = parseInt(buf.toString('ascii', pos, space), 10);
    if (!(len > 0) || pos + len > buf.length) throw bad('malformed PAX record');
    const rec = buf.subarray(space + 1, pos + len - 1); // without the trailing newline
    const eq = rec.indexOf(0x3d);
    if (eq < 0) throw bad('malformed PAX record');
    into.set(rec.toString('utf8', 0, eq), Buffer.from(rec.subarray(eq + 1)));
    pos += len;
  }
}

const TYPES: Record<string, EntryType> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file',
  '1': 'link',
  '2': 'symlink',
  '3': 'char',
  '4': 'block',
  '5': 'directory',
  '6': 'fifo',
};

export interface TarSink {
  /** Content of the current entry, in order; may be called many times. */
  data(chunk: Buffer): void;
  end(): void;
}

/**
 * Push-parser: feed it bytes as they arrive; it calls `onEntry` for each
 * entry (which returns where the content goes) synchronously. Errors are thrown
 * from `push`. Everything after the end-of-archive blocks is ignored.
 */
export class TarParser {
  #state: 'header' | 'data' | 'meta' | 'skip' | 'end' = 'header';
  #header = Buffer.alloc(BLOCK);
  #headerFill = 0;
  #remaining = 0; // bytes of content left in the current entry
  #padding = 0; // bytes of padding after it
  #sink: TarSink | null = null;
  #meta: Buffer[] = [];
  #metaType = '';
  #pax = new Map<string, Buffer>();
  #globalPax = new Map<string, Buffer>();
  #longName: string | null = null;
  #longLink: string | null = null;
  #sawEnd = false;

  constructor(private readonly onEntry: (h: TarHeader) => TarSink | null) {}

  get ended(): boolean {
    return this.#sawEnd;
  }

  push(chunk: Buffer): void {
    let pos = 0;
    const len = chunk.length;
    while (pos < len) {
      switch (this.#state) {
        case 'end':
          return;
        case 'header': {
          const take = Math.min(BLOCK - this.#headerFill, len - pos);
          if (this.#headerFill === 0 && take === BLOCK) {
            this.#onHeader(chunk.subarray(pos, pos + BLOCK));
          } else {
            chunk.copy(this.#header, this.#headerFill, pos, pos + take);
            this.#headerFill += take;
            if (this.#headerFill === BLOCK) {
              this.#headerFill = 0;
              this.#onHeader(this.#header);
            }
          }
          pos += take;
          break;
        }
        case 'data':
        case 'meta': {
          const take = Math.min(this.#remaining, len - pos);
          const part = chunk.subarray(pos, pos + take);
          if (this.#state === 'data') this.#sink?.data(part);
          else this.#meta.push(Buffer.from(part));
          this.#remaining -= take;
          pos += take;
          if (this.#remaining === 0) this.#finishContent();
          break;
        }
        case 'skip': {
          const take = Math.min(this.#padding, len - pos);
          this.#padding -= take;
          pos += take;
          if (this.#padding === 0) this.#state = 'header';
          break;
        }
      }
    }
  }

  /** Call at end of input: a truncated archive is an error. */
  finish(): void {
    // Archives without end-of-archive blocks are accepted, as GNU tar does.
    if (this.#state === 'end' || (this.#state === 'header' && this.#headerFill === 0)) return;
    throw bad('unexpected end of data');
  }

  #onHeader(h: Buffer): void {
    if (isZeroBlock(h)) {
      if (this.#sawEnd) this.#state = 'end';
      this.#sawEnd = true;
      return;
    }
    this.#sawEnd = false;
    if (!checksumOk(h)) throw bad('header checksum mismatch');
    const flag = String.fromCharCode(h[156]!);
    let size = readNumber(h, 124, 12);

    if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
      if (size > 16 << 20) throw bad('metadata header too large');
      this.#metaType = flag;
      this.#meta = [];
      this.#startContent(size, 'meta');
      return;
    }

    const pax = this.#pax;
    this.#pax = new Map();
    const type = TYPES[flag];
    if (type === undefined) throw bad(`unsupported entry type ${JSON.stringify(flag)}`);

    let name = readString(h, 0, 100);
    const ustar = h.toString('latin1', 257, 263) === 'ustar\0';
    if (ustar && h[345] !== 0) name = readString(h, 345, 155) + '/' + name;
    let linkname = readString(h, 157, 100);
    if (this.#longName !== null) name = this.#longName;
    if (this.#longLink !== null) linkname = this.#longLink;
    this.#longName = this.#longLink = null;

    const header: TarHeader = {
      name,
      type: flag === '\0' && name.endsWith('/') ? 'directory' : type,
      mode: readNumber(h, 100, 8) & 0o7777,
      uid: readNumber(h, 108, 8),
      gid: readNumber(h, 116, 8),
      size,
      mtime: readNumber(h, 136, 12),
      linkname,
      devmajor: readNumber(h, 329, 8),
      devminor: readNumber(h, 337, 8),
      xattrs: null,
    };
    if (pax.size > 0 || this.#globalPax.size > 0) {
      const all = this.#globalPax.size > 0 ? new Map([...this.#globalPax, ...pax]) : pax;
      for (const [key, value] of all) {
        switch (key) {
          case 'path':
            header.name = value.toString('utf8');
            break;
          case 'linkpath':
            header.linkname = value.toString('utf8');
            break;
          case 'size':
            header.size = size = parseInt(value.toString('ascii'), 10);
            break;
          case 'uid':
            header.uid = parseInt(value.toString('ascii'), 10);
            break;
          case 'gid':
            header.gid = parseInt(value.toString('ascii'), 10);
            break;
          case 'mtime':
            header.mtime = parseFloat(value.toString('ascii'));
            break;
          default:
            if (key.startsWith('SCHILY.xattr.')) (header.xattrs ??= new Map()).set(key.slice(13), value);
        }
      }
    }
    if (!(size >= 0) || !Number.isSafeInteger(size)) throw bad(`bad size for ${JSON.stringify(header.name)}`);
    // Only regular files carry content (hardlink and others have size 0 in practice; skip any).
    const sink = this.onEntry(header);
    this.#sink = header.type === 'file' ? sink : null;
    this.#startContent(size, 'data');
  }

  #startContent(size: number, state: 'data' | 'meta'): void {
    this.#remaining = size;
    this.#padding = (BLOCK - (size % BLOCK)) % BLOCK;
    if (size === 0) this.#finishContent();
    else this.#state = state;
  }

  #finishContent(): void {
    if (this.#metaType !== '') {
      const buf = Buffer.concat(this.#meta);
      this.#meta = [];
      const t = this.#metaType;
      this.#metaType = '';
      if (t === 'x') parsePax(buf, this.#pax);
      else if (t === 'g') parsePax(buf, this.#globalPax);
      else if (t === 'L') this.#longName = readString(buf, 0, buf.length);
      else this.#longLink = readString(buf, 0, buf.length);
    } else {
      this.#sink?.end();
      this.#sink = null;
    }
    this.#state = this.#padding > 0 ? 'skip' : 'header';
  }
}

// ---- writing ----

function writeString(buf: Buffer, s: string, off: number, len: number): void {
  buf.write(s, off, len, 'utf8');
}

function writeOctal(buf: Buffer, n: number, off: number, len: number): void {
  buf.write(n.toString(8).padStart(len - 1, '0'), off, len - 1, 'ascii');
  buf[off + len - 1] = 0;
}

function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

const TYPEFLAG: Record<EntryType, string> = {
  file: '0',
  link: '1',
  symlink: '2',
  char: '3',
  block: '4',
  directory: '5',
  fifo: '6',
};

function ustarBlock(name: string, flag: string, h: Omit<TarHeader, 'name' | 'type' | 'xattrs'>, size: number): Buffer {
  const b = Buffer.alloc(BLOCK);
  writeString(b, name, 0, 100);
  writeOctal(b, h.mode & 0o7777, 100, 8);
  writeOctal(b, h.uid <= 0o7777777 ? h.uid : 0, 108, 8);
  writeOctal(b, h.gid <= 0o7777777 ? h.gid : 0, 116, 8);
  writeOctal(b, size, 124, 12);
  writeOctal(b, Math.min(Math.max(Math.floor(h.mtime), 0), 0o77777777777), 136, 12);
  b.write(flag, 156, 1, 'latin1');
  writeString(b, h.linkname, 157, 100);
  b.write('ustar\u000000', 257, 8, 'latin1');
  writeOctal(b, h.devmajor, 329, 8);
  writeOctal(b, h.devminor, 337, 8);
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += b[i]!;
  writeOctal(b, sum, 148, 7);
  b[155] = 0x20;
  return b;
}

const fitsUstar = (s: string, max: number) => Buffer.byteLength(s) <= max && /^[\x20-\x7e]*$/.test(s);

/** The header blocks (a PAX header first when needed) for one entry. */
export function encodeHeader(h: TarHeader): Buffer {
  const records: Buffer[] = [];
  if (!fitsUstar(h.name, 100)) records.push(paxRecord('path', Buffer.from(h.name)));
  if (!fitsUstar(h.linkname, 100)) records.push(paxRecord('linkpath', Buffer.from(h.linkname)));
  if (h.size > 0o77777777777) records.push(paxRecord('size', Buffer.from(String(h.size))));
  if (h.uid > 0o7777777) records.push(paxRecord('uid', Buffer.from(String(h.uid))));
  if (h.gid > 0o7777777) records.push(paxRecord('gid', Buffer.from(String(h.gid))));
  if (h.xattrs) for (const [k, v] of [...h.xattrs].sort(([a], [b]) => (a < b ? -1 : 1))) records.push(paxRecord(`SCHILY.xattr.${k}`, v));
  const size = h.size > 0o77777777777 ? 0 : h.size;
  const main = ustarBlock(fitsUstar(h.name, 100) ? h.name : h.name.slice(0, 99), TYPEFLAG[h.type], h, size);
  if (records.length === 0) return main;
  const body = Buffer.concat(records);
  const paxName = `PaxHeaders/${h.name.replace(/\/$/, '').split('/').pop() ?? ''}`.slice(0, 99);
  const paxHead = ustarBlock(paxName.replace(/[^\x20-\x7e]/g, '_'), 'x', { ...h, linkname: '', devmajor: 0, devminor: 0 }, body.length);
  return Buffer.concat([paxHead, body, Buffer.alloc(padding(body.length)), main]);
}

export const padding = (size: number): number => (BLOCK - (size % BLOCK)) % BLOCK;
export const END_OF_ARCHIVE = Buffer.alloc(BLOCK * 2);

const BODY_READ_SIZE = 1 << 20;

/**
 * A regular file's entry body: exactly `size` bytes of it, then the padding to
 * the next block. A file that shrank while it was read is either padded with
 * zeros, so the tar stays as its header promised ('pad': docker cp, build
 * contexts), or an error ('throw': layers, which must be exact).
 */
export async function* fileEntryBody(path: string, size: number, onShrink: 'pad' | 'throw'): AsyncGenerator<Buffer> {
  const fh = await open(path, 'r');
  try {
    let left = size;
    while (left > 0) {
      const buf = Buffer.allocUnsafe(Math.min(BODY_READ_SIZE, left));
      const { bytesRead } = await fh.read(buf, 0, buf.length, size - left);
      if (bytesRead === 0) {
        if (onShrink === 'throw') throw new Error(`${path} shrank while it was being archived`);
        yield Buffer.alloc(left);
        break;
      }
      left -= bytesRead;
      yield bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
  const pad = padding(size);
  if (pad > 0) yield Buffer.alloc(pad);
}
