// The build module's client surface (for the CLI): the context tar a client
// sends, with .dockerignore applied. It loads none of the daemon's side.
export { createContextTar, excludesForBuild } from './context/client.js';
export { readDockerignore, createIgnoreMatcher } from './context/match.js';
