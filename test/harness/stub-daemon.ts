// A stand-in for `berth daemon` used only by the harness self-test: it
// answers /_ping and /echo on --socket and writes a file under --root, so
// the harness's start, request, stop, kill and restart paths can be checked
// without the real daemon.
import { createServer } from 'node:http';
import { rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const argv = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const socket = flag('--socket');
const root = flag('--root');
if (argv[0] !== 'daemon' || !socket || !root) {
  process.stderr.write(`stub-daemon: bad arguments ${JSON.stringify(argv)}\n`);
  process.exit(2);
}
rmSync(socket, { force: true }); // a killed predecessor leaves its socket behind

const server = createServer((req, res) => {
  if (req.url === '/_ping') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('OK');
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ method: req.method, url: req.url, pid: process.pid, argv, body: Buffer.concat(chunks).toString() }));
  });
});
await writeFile(join(root, 'started'), String(process.pid));
server.listen(socket, () => process.stderr.write('stub-daemon: listening\n'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
