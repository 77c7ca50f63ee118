// Detach keys, as docker's --detach-keys: a comma-separated list of
// `ctrl-<key>` or single characters (default ctrl-p,ctrl-q). The CLI matches
// them in the stdin stream of a TTY session; on a match it stops forwarding
// and leaves the container running.

/** ctrl-p, ctrl-q */
export const DEFAULT_DETACH_KEYS: Uint8Array = Uint8Array.of(16, 17);

/** moby/term's table: index is the control code. */
const CTRL_NAMES = ['ctrl-@', ...'abcdefghijklmnopqrstuvwxyz'.split('').map((c) => `ctrl-${c}`), 'ctrl-[', 'ctrl-\\', 'ctrl-]', 'ctrl-^', 'ctrl-_'];

/**
 * moby/term ToBytes: "ctrl-p,ctrl-q" -> [16, 17]. An unknown multi-character key
 * is an error ("Unknown character: 'x'"), except an unknown `ctrl-` name, which
 * docker silently skips.
 */
export function parseDetachKeys(spec: string): Uint8Array {
  const codes: number[] = [];
  for (const key of spec.split(',')) {
    if ([...key].length === 1) {
      codes.push(...Buffer.from(key));
      continue;
    }
    const code = CTRL_NAMES.indexOf(key);
    if (code >= 0) codes.push(code);
    else if (!key.startsWith('ctrl-')) throw new Error(`Unknown character: '${key}'`);
  }
  return Uint8Array.from(codes);
}

/** The keys to match for a session: docker falls back to the default on an invalid spec (with a warning). */
export function detachKeysFor(spec: string, warn: (message: string) => void): Uint8Array {
  if (!spec) return DEFAULT_DETACH_KEYS;
  try {
    const keys = parseDetachKeys(spec);
    return keys.length ? keys : DEFAULT_DETACH_KEYS;
  } catch (err) {
    warn(`invalid detach escape keys, using default: ${(err as Error).message}`);
    return DEFAULT_DETACH_KEYS;
  }
}

export interface MatchResult {
  /** Bytes to send on: input with any (so far) matching prefix held back. */
  forward: Buffer;
  /** The whole sequence was typed: stop forwarding. */
  detached: boolean;
}

/**
 * Finds the detach sequence in a byte stream, across chunk boundaries. A held
 * prefix that turns out not to be the sequence is released in order, so no
 * input is lost or reordered (moby/term's escapeProxy does the same per key).
 */
export class DetachKeyMatcher {
  #matched = 0;

  constructor(private readonly keys: Uint8Array) {}

  push(chunk: Uint8Array): MatchResult {
    const out: number[] = [];
    for (const byte of chunk) {
      if (this.keys.length === 0) {
        out.push(byte);
        continue;
      }
      if (byte !== this.keys[this.#matched] && this.#matched > 0) {
        // Release the held prefix; the byte itself may start a new match.
        out.push(...this.keys.subarray(0, this.#matched));
        this.#matched = 0;
      }
      if (byte !== this.keys[this.#matched]) {
        out.push(byte);
        continue;
      }
      this.#matched++;
      if (this.#matched === this.keys.length) {
        this.#matched = 0;
        return { forward: Buffer.from(out), detached: true };
      }
    }
    return { forward: Buffer.from(out), detached: false };
  }
}
