// The berth CLI: a pure client of the Docker Engine API over a unix socket.
// bin/berth runs main.js; this index is the surface other code (tests, the
// lead's end-to-end suite) may import. Commands live in commands/, all
// output formatting in format/.
export { main } from './run.js';
export { ApiClient, ApiError, ConnectError, CLIENT_API_VERSION, DEFAULT_HOST, jsonStream, socketPathOf, normalizeHost } from './client.js';
export { COMMANDS, resolveCommand, type CommandDef } from './commands.js';
export { parseArgs, UsageError, type FlagSpec, type FlagValues } from './args.js';
export { JSONMessageRenderer, displayJSONMessages, progressString, StreamError, type JSONMessage } from './jsonmessage.js';
export { configDir, loadConfig, saveConfig, storeCredentials, removeCredentials, credentialsFor, encodeAuthHeader, serverKey, DEFAULT_INDEX_SERVER } from './config.js';
export { startFakeEngine, type FakeEngine } from './fakeengine.js';
