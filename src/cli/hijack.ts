// docker's connection hijacking from the client side: a POST with
// `Connection: Upgrade, Upgrade: tcp`; once 101 arrives the socket carries the
// stream (attach, exec start). An error status becomes an ApiError.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { ApiError, daemonRequest, readAll } from './client.js';
import type { CommandContext } from './context.js';

export async function hijackedPost(ctx: CommandContext, path: string, body?: { contentType: string; data: string }): Promise<Duplex> {
  const client = ctx.client();
  const version = await client.apiVersion();
  return new Promise<Duplex>((resolve, reject) => {
    const headers: Record<string, string | number> = {
      Connection: 'Upgrade',
      Upgrade: 'tcp',
      'User-Agent': 'berth-cli',
      'Content-Type': body?.contentType ?? 'text/plain',
    };
    if (body) headers['Content-Length'] = Buffer.byteLength(body.data);
    const req = daemonRequest({ socketPath: client.socketPath, method: 'POST', path: `/v${version}${path}`, headers });
    req.on('upgrade', (_res: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (head.length) socket.unshift(head);
      resolve(socket);
    });
    req.on('response', (res: IncomingMessage) => {
      // No upgrade: an error status (or an old server streaming a plain body).
      if ((res.statusCode ?? 500) >= 400) {
        void readAll(res).then((b) => {
          let message = b.toString().trim();
          try {
            message = (JSON.parse(message) as { message: string }).message;
          } catch {
            /* plain text */
          }
          reject(new ApiError(res.statusCode ?? 500, message));
        }, reject);
      } else resolve(res as unknown as Duplex);
    });
    req.on('error', reject);
    req.end(body?.data);
  });
}
