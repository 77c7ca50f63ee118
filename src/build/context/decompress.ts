// Compression sniffing for contexts and ADD archives: storage's decompress
// covers gzip and zstd; docker also accepts bzip2 and xz here, which Node has
// no codec for, so those go through bzip2(1)/xz(1) child processes.
import { spawn } from 'node:child_process';
import { Readable } from 'node:stream';
import { BerthError } from '../../errors/index.js';
import { decompress } from '../../storage/index.js';

export type ArchiveCompression = 'none' | 'gzip' | 'bzip2' | 'xz' | 'zstd';

const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);

export function sniffArchive(head: Buffer): ArchiveCompression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 3 && head.toString('latin1', 0, 3) === 'BZh') return 'bzip2';
  if (head.length >= 6 && head.subarray(0, 6).equals(XZ_MAGIC)) return 'xz';
  if (head.length >= 4 && head.readUInt32BE(0) === 0x28b52ffd) return 'zstd';
  return 'none';
}

/** The first `n` bytes of a stream and a stream that still yields everything. */
export async function peek(input: Readable, n: number): Promise<{ head: Buffer; stream: Readable }> {
  const iterator = input[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const chunks: Buffer[] = [];
  let have = 0;
  let done = false;
  while (have < n) {
    const next = await iterator.next();
    if (next.done) {
      done = true;
      break;
    }
    const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value);
    chunks.push(chunk);
    have += chunk.length;
  }
  const head = Buffer.concat(chunks);
  async function* all(): AsyncGenerator<Buffer> {
    if (head.length > 0) yield head;
    if (done) return;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value);
    }
  }
  const stream = Readable.from(all(), { objectMode: false });
  stream.on('close', () => void iterator.return?.());
  return { head: head.subarray(0, n), stream };
}

/** A decompressing child process (bzip2/xz); a failure of the tool becomes an error of the stream. */
function throughTool(tool: string, source: Readable): Readable {
  const child = spawn(tool, ['-dc'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    if (stderr.length < 4096) stderr += s;
  });
  const out = child.stdout;
  const fail = (err: Error) => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    out.destroy(err);
  };
  source.on('error', fail);
  child.stdin.on('error', () => {}); // EPIPE when the tool exits early; its exit status tells why
  source.pipe(child.stdin);
  child.on('error', (err) => fail(new BerthError('unavailable', `cannot run ${tool}: ${err.message}`, { cause: err })));
  child.on('close', (code, signal) => {
    if (code !== 0) fail(new BerthError('invalid_argument', `${tool} decompression failed (${signal ?? code}): ${stderr.trim()}`));
  });
  // a consumer that stops early must not leave the tool running
  out.on('close', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    source.destroy();
  });
  return out;
}

/** The uncompressed bytes of a plain, gzip, bzip2, xz or zstd stream (sniffed). */
export async function decompressAny(input: Readable): Promise<{ compression: ArchiveCompression; stream: Readable }> {
  const { head, stream } = await peek(input, 6);
  const compression = sniffArchive(head);
  switch (compression) {
    case 'none':
      return { compression, stream };
    case 'gzip':
    case 'zstd':
      return { compression, stream: decompress(stream, compression) };
    case 'bzip2':
      return { compression, stream: throughTool('bzip2', stream) };
    case 'xz':
      return { compression, stream: throughTool('xz', stream) };
  }
}
