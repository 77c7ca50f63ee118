// Bearer token auth, as distribution's `auth: token:` does it (the token and
// JWT specs under shared/specs/docker-registry/auth/): the registry issues no
// tokens itself; it answers 401 with a `Bearer realm=...,service=...,scope=...`
// challenge, the client fetches a JWT from that realm, and the registry checks
// the JWT's signature against the issuer's certificates (its `rootcertbundle`),
// its issuer, audience and lifetime, and that its `access` claim grants what the
// request needs. The signing key comes from the token's `x5c` chain, which must
// end at a trusted certificate, or from a `kid` naming a trusted certificate's
// key (libtrust's key ID, as docker_auth and distribution write it).
import { createHash, verify, X509Certificate, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { invalidArgument } from '../errors/index.js';

/** One entry of a token's `access` claim, or of what a request needs. */
export interface Access {
  type: string;
  name: string;
  actions: string[];
}

export interface TokenAuthOptions {
  /** where clients get tokens (the challenge's realm) */
  realm: string;
  /** the registry's name for the token server: the challenge's service, the token's audience */
  service: string;
  /** the token's `iss` */
  issuer: string;
  /** the issuer's certificates, PEM */
  roots: X509Certificate[];
  /** clock skew allowed on exp/nbf, seconds (distribution: 60) */
  leewaySeconds?: number;
  now?: () => number;
}

export type TokenDecision =
  | { ok: true; subject: string; granted: (a: Access) => boolean }
  | { ok: false; challenge: string; message: string };

const ALGORITHMS: Record<string, { hash: string; ec: boolean }> = {
  RS256: { hash: 'sha256', ec: false },
  RS384: { hash: 'sha384', ec: false },
  RS512: { hash: 'sha512', ec: false },
  ES256: { hash: 'sha256', ec: true },
  ES384: { hash: 'sha384', ec: true },
  ES512: { hash: 'sha512', ec: true },
};

/** Every certificate of a PEM bundle. */
export function parseCertBundle(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw invalidArgument('the token root certificate bundle holds no PEM certificate');
  return blocks.map((b) => new X509Certificate(b));
}

/**
 * libtrust's key ID: SHA-256 of the DER SubjectPublicKeyInfo, the first 240
 * bits in base32, in twelve groups of four joined by ':'.
 */
export function libtrustKeyId(key: KeyObject): string {
  const digest = createHash('sha256').update(key.export({ type: 'spki', format: 'der' })).digest().subarray(0, 30);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of digest) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out.match(/.{4}/g)!.join(':');
}

/** `repository:name:pull,push` (the name may hold ':' only before the last one). */
export function scopeString(a: Access): string {
  return `${a.type}:${a.name}:${a.actions.join(',')}`;
}

class TokenError extends Error {}

function b64json(part: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    /* below */
  }
  throw new TokenError('malformed token');
}

export class TokenAuth {
  readonly #o: TokenAuthOptions;
  readonly #leeway: number;
  readonly #byKeyId = new Map<string, X509Certificate>();

  constructor(o: TokenAuthOptions) {
    this.#o = o;
    this.#leeway = o.leewaySeconds ?? 60;
    for (const root of o.roots) this.#byKeyId.set(libtrustKeyId(root.publicKey), root);
  }

  static async load(o: Omit<TokenAuthOptions, 'roots'> & { rootCertBundle: string }): Promise<TokenAuth> {
    const { rootCertBundle, ...rest } = o;
    return new TokenAuth({ ...rest, roots: parseCertBundle(await readFile(rootCertBundle, 'utf8')) });
  }

  /** The 401 challenge for a request that needs `needed` (error: invalid_token or insufficient_scope). */
  challenge(needed: Access[], error?: string): string {
    let c = `Bearer realm="${this.#o.realm}",service="${this.#o.service}"`;
    if (needed.length) c += `,scope="${needed.map(scopeString).join(' ')}"`;
    if (error) c += `,error="${error}"`;
    return c;
  }

  /** Check the request's Authorization header against what it needs. */
  authorize(authorization: string | undefined, needed: Access[]): TokenDecision {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!m) return { ok: false, challenge: this.challenge(needed), message: 'authentication required' };
    let claims: Record<string, unknown>;
    try {
      claims = this.verifyToken(m[1] as string);
    } catch (err) {
      if (!(err instanceof TokenError)) throw err;
      return { ok: false, challenge: this.challenge(needed, 'invalid_token'), message: err.message };
    }
    const access = Array.isArray(claims.access) ? (claims.access as unknown[]).filter(isAccess) : [];
    const granted = (want: Access) =>
      want.actions.every((action) => access.some((a) => a.type === want.type && a.name === want.name && (a.actions.includes(action) || a.actions.includes('*'))));
    if (!needed.every(granted)) return { ok: false, challenge: this.challenge(needed, 'insufficient_scope'), message: 'insufficient scope' };
    return { ok: true, subject: typeof claims.sub === 'string' ? claims.sub : '', granted };
  }

  /** The claims of a token whose signature, issuer, audience and lifetime check out; else TokenError. */
  verifyToken(token: string): Record<string, unknown> {
    const parts = token.split('.');
    if (parts.length !== 3) throw new TokenError('malformed token');
    const [h, c, s] = parts as [string, string, string];
    const header = b64json(h);
    const claims = b64json(c);
    const alg = ALGORITHMS[String(header.alg)];
    if (!alg) throw new TokenError(`unsupported signing algorithm ${JSON.stringify(header.alg)}`);
    const key = this.#signingKey(header);
    const ok = verify(alg.hash, Buffer.from(`${h}.${c}`), alg.ec ? { key, dsaEncoding: 'ieee-p1363' } : key, Buffer.from(s, 'base64url'));
    if (!ok) throw new TokenError('invalid token signature');
    if (claims.iss !== this.#o.issuer) throw new TokenError('token issuer does not match');
    const aud = claims.aud;
    if (!(aud === this.#o.service || (Array.isArray(aud) && aud.includes(this.#o.service)))) throw new TokenError('token audience does not match');
    const now = (this.#o.now?.() ?? Date.now()) / 1000;
    if (typeof claims.exp !== 'number' || now > claims.exp + this.#leeway) throw new TokenError('token has expired');
    if (typeof claims.nbf === 'number' && now < claims.nbf - this.#leeway) throw new TokenError('token is not valid yet');
    return claims;
  }

  #signingKey(header: Record<string, unknown>): KeyObject {
    if (Array.isArray(header.x5c) && header.x5c.length > 0) {
      let chain: X509Certificate[];
      try {
        chain = header.x5c.map((der) => new X509Certificate(Buffer.from(String(der), 'base64')));
      } catch {
        throw new TokenError('malformed x5c certificate chain');
      }
      const now = Date.now();
      for (const cert of chain) {
        if (now < Date.parse(cert.validFrom) || now > Date.parse(cert.validTo)) throw new TokenError('token certificate outside its validity period');
      }
      for (let i = 0; i + 1 < chain.length; i++) {
        if (!chain[i]!.checkIssued(chain[i + 1]!) || !chain[i]!.verify(chain[i + 1]!.publicKey)) throw new TokenError('broken x5c certificate chain');
      }
      const last = chain[chain.length - 1]!;
      const trusted = this.#o.roots.some((root) => root.fingerprint256 === last.fingerprint256 || (last.checkIssued(root) && last.verify(root.publicKey)));
      if (!trusted) throw new TokenError('token signed by an untrusted certificate');
      return chain[0]!.publicKey;
    }
    if (typeof header.kid === 'string') {
      const root = this.#byKeyId.get(header.kid);
      if (!root) throw new TokenError('token signed by an unknown key');
      return root.publicKey;
    }
    throw new TokenError('token names no signing key (x5c or kid)');
  }
}

function isAccess(v: unknown): v is Access {
  const a = v as Access;
  return !!a && typeof a.type === 'string' && typeof a.name === 'string' && Array.isArray(a.actions) && a.actions.every((x) => typeof x === 'string');
}
