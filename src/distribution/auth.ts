// Basic auth against an htpasswd file of bcrypt hashes (what `htpasswd -B`
// writes and distribution's htpasswd auth accepts). bcrypt is slow on
// purpose, so a credential pair that verified once is remembered (by its
// SHA-256, never in clear) for the life of the process.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import bcrypt from 'bcryptjs';
import { invalidArgument } from '../errors/index.js';

export class Htpasswd {
  #hashes: Map<string, string>;
  #verified = new Set<string>();

  constructor(entries: Map<string, string>) {
    this.#hashes = entries;
  }

  static parse(text: string): Htpasswd {
    const entries = new Map<string, string>();
    for (const [i, raw] of text.split('\n').entries()) {
      const line = raw.trim();
      if (!line || line.startsWith('#')) continue;
      const colon = line.indexOf(':');
      const user = line.slice(0, colon);
      const hash = line.slice(colon + 1);
      if (colon <= 0 || !/^\$2[abxy]\$\d\d\$/.test(hash)) throw invalidArgument(`htpasswd line ${i + 1}: only bcrypt entries (user:$2y$...) are supported`);
      entries.set(user, hash);
    }
    return new Htpasswd(entries);
  }

  static async load(path: string): Promise<Htpasswd> {
    return Htpasswd.parse(await readFile(path, 'utf8'));
  }

  async verify(user: string, password: string): Promise<boolean> {
    const hash = this.#hashes.get(user);
    if (!hash) return false;
    const key = createHash('sha256').update(`${user}\0${password}\0${hash}`).digest('hex');
    if (this.#verified.has(key)) return true;
    const ok = await bcrypt.compare(password, hash);
    if (ok) this.#verified.add(key);
    return ok;
  }

  /** The user of a valid `Authorization: Basic ...` header, else undefined. */
  async check(authorization: string | undefined): Promise<string | undefined> {
    const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization ?? '');
    if (!m) return undefined;
    const decoded = Buffer.from(m[1] as string, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return undefined;
    const user = decoded.slice(0, colon);
    return (await this.verify(user, decoded.slice(colon + 1))) ? user : undefined;
  }
}
