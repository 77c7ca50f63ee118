// berth's per-container monitor (replacing conmon): the C binary
// build/Release/berth-monitor (src/monitor/berth-monitor.c, built by node-gyp)
// and how the daemon starts it, feeds a container's stdin, resizes its
// terminal, reads its docker json-file log, and relays `exec -t` ptys.
export {
  type MonitorOptions,
  monitorBinary,
  monitorArgs,
  startMonitor,
  attachStdin,
  resizeTerminal,
  spawnExecTty,
  ATTACH_SOCKET,
  CONTROL_FIFO,
  CONSOLE_SOCKET,
  MONITOR_LOG,
} from './monitor.js';
export { type LogRecord, JsonLogParser, JsonLogReader, parseLogLine, secondsOf } from './jsonlog.js';
