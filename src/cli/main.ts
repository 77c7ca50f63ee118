// Entry point of bin/berth: runs the CLI and sets the exit code. The process
// ends when stdout has drained and the client's sockets are closed.
import { main } from './run.js';

// A reader that went away (`berth images | head -1`): stop quietly, as a Go
// program killed by SIGPIPE would (128 + 13).
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(141);
    throw err;
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
