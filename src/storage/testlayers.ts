// Test helpers: build layer tars with tar-stream's pack() (an independent
// writer, so the applier is not only tested against our own encoder).
import tar from 'tar-stream';
import type { Header } from 'tar-stream';

export type TestEntry = Partial<Header> & { name: string; pax?: Record<string, string>; content?: string | Buffer };

/** A whole tar as bytes. */
export async function packTar(entries: TestEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const out: Buffer[] = [];
  const collected = (async () => {
    for await (const chunk of pack) out.push(chunk as Buffer);
  })();
  // A fixed default mtime: tar-stream's is "now", and the same entries must give the same bytes (diff IDs).
  const FIXED_MTIME = new Date('2024-01-01T00:00:00Z');
  for (const { content, ...given } of entries) {
    const header = { mtime: FIXED_MTIME, ...given };
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (content !== undefined) pack.entry({ ...header, size: Buffer.byteLength(content) }, content, cb);
      else pack.entry(header, cb);
    });
  }
  pack.finalize();
  await collected;
  return Buffer.concat(out);
}
