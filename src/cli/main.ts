// Entry point of bin/berth: runs the CLI and exits with its code once its
// output has drained.
import { main } from './run.js';

// A reader that went away (`berth images | head -1`): stop quietly, as a Go
// program killed by SIGPIPE would (128 + 13).
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(141);
    throw err;
  });
}

// Once the command is done and its output flushed, exit at once: Node's own
// teardown of an emptied event loop costs about 10 ms of a CLI call. Handlers
// resolve only when their work is done (servers when they have shut down).
const exit = (code: number) => process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));

main(process.argv.slice(2)).then(exit, (err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  exit(1);
});
