// Structured logging to stderr: one logfmt-like line per event, as dockerd's
// logrus text formatter writes (time="..." level=info msg="...").

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

function fmtValue(v: unknown): string {
  if (v instanceof Error) v = v.message;
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return /^[A-Za-z0-9_./:@+-]+$/.test(s ?? '') ? (s as string) : JSON.stringify(s);
}

export function isLogLevel(s: string): s is LogLevel {
  return s in RANK;
}

export function createLogger(
  level: LogLevel = 'info',
  write: (line: string) => void = (l) => process.stderr.write(l),
  base: LogFields = {},
): Logger {
  const emit = (lvl: LogLevel, msg: string, fields?: LogFields) => {
    if (RANK[lvl] < RANK[level]) return;
    let line = `time="${new Date().toISOString()}" level=${lvl} msg=${JSON.stringify(msg)}`;
    for (const [k, v] of Object.entries({ ...base, ...fields })) {
      if (v !== undefined) line += ` ${k}=${fmtValue(v)}`;
    }
    write(line + '\n');
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger(level, write, { ...base, ...fields }),
  };
}

/** A logger that drops everything, for tests and library callers. */
export const nullLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return nullLogger;
  },
};
