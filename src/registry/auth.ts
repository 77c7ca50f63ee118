// Registry authentication pieces that need no network: WWW-Authenticate
// parsing (RFC 7235), registry error bodies, and which endpoint and scheme
// serve a registry domain.
import { BerthError, type ErrorCode } from '../errors/index.js';

export interface Challenge {
  /** Lower-cased: 'bearer', 'basic', ... */
  scheme: string;
  /** Parameter names lower-cased; values unquoted. */
  params: Record<string, string>;
}

const TOKEN_CHAR = /[!#$%&'*+.^_`|~0-9A-Za-z-]/;

/**
 * Parse a WWW-Authenticate value into its challenges. Several challenges may
 * share one header (comma-separated), which is also how fetch joins repeated
 * headers.
 */
export function parseWwwAuthenticate(header: string): Challenge[] {
  const out: Challenge[] = [];
  let i = 0;
  const n = header.length;
  const skipSpace = () => {
    while (i < n && (header[i] === ' ' || header[i] === '\t')) i++;
  };
  const token = (): string => {
    const start = i;
    while (i < n && TOKEN_CHAR.test(header[i] as string)) i++;
    return header.slice(start, i);
  };
  const quoted = (): string => {
    i++; // opening quote
    let s = '';
    while (i < n && header[i] !== '"') {
      if (header[i] === '\\' && i + 1 < n) i++;
      s += header[i];
      i++;
    }
    i++; // closing quote (or end)
    return s;
  };
  /** An unquoted value, read leniently up to a comma or space (some servers leave `:` unquoted). */
  const bare = (): string => {
    const start = i;
    while (i < n && header[i] !== ',' && header[i] !== ' ' && header[i] !== '\t') i++;
    return header.slice(start, i);
  };
  /** Is there `name =` at the cursor (a parameter rather than a new scheme)? */
  const atParam = (): boolean => {
    const save = i;
    const name = token();
    skipSpace();
    const yes = name !== '' && header[i] === '=';
    i = save;
    return yes;
  };

  while (i < n) {
    while (i < n && (header[i] === ',' || header[i] === ' ' || header[i] === '\t')) i++;
    if (i >= n) break;
    const scheme = token();
    if (!scheme) {
      i++; // junk: skip a character and resync
      continue;
    }
    const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    out.push(challenge);
    skipSpace();
    for (;;) {
      skipSpace();
      // No `name=` here: a bare scheme (or token68), and the next token starts a new challenge.
      if (!atParam()) {
        break;
      }
      const name = token().toLowerCase();
      skipSpace();
      i++; // '='
      skipSpace();
      challenge.params[name] = header[i] === '"' ? quoted() : bare();
      skipSpace();
      if (header[i] !== ',') break;
      // After a comma: another parameter of this challenge, or a new challenge.
      const save = i;
      i++;
      skipSpace();
      if (!atParam()) {
        i = save;
        break;
      }
    }
  }
  return out;
}

interface RegistryErrorBody {
  errors?: { code?: unknown; message?: unknown; detail?: unknown }[];
  /** Token servers sometimes answer OAuth-style. */
  error?: unknown;
  error_description?: unknown;
  details?: unknown;
}

/** distribution's errcode formatting: `manifest unknown: manifest unknown`. */
export function describeRegistryErrors(
  bodyText: string,
): { codes: string[]; text: string; first?: { code: string; message: string } } | undefined {
  let body: RegistryErrorBody;
  try {
    body = JSON.parse(bodyText) as RegistryErrorBody;
  } catch {
    return undefined;
  }
  if (typeof body !== 'object' || body === null) return undefined;
  if (Array.isArray(body.errors) && body.errors.length > 0) {
    const codes = body.errors.map((e) => (typeof e.code === 'string' ? e.code.toUpperCase() : 'UNKNOWN'));
    const parts = body.errors.map((e, k) => {
      const label = (codes[k] as string).toLowerCase().replace(/_/g, ' ');
      return typeof e.message === 'string' && e.message !== '' ? `${label}: ${e.message}` : label;
    });
    const message = body.errors[0]?.message;
    return {
      codes,
      text: parts.join('; '),
      first: { code: codes[0] as string, message: typeof message === 'string' ? message : '' },
    };
  }
  if (typeof body.error === 'string') {
    const text = typeof body.error_description === 'string' ? `${body.error}: ${body.error_description}` : body.error;
    return { codes: [body.error.toUpperCase()], text };
  }
  if (typeof body.details === 'string') return { codes: [], text: body.details };
  return undefined;
}

const CODE_BY_REGISTRY_ERROR: Record<string, ErrorCode> = {
  MANIFEST_UNKNOWN: 'not_found',
  NAME_UNKNOWN: 'not_found',
  BLOB_UNKNOWN: 'not_found',
  UNAUTHORIZED: 'unauthorized',
  INVALID_GRANT: 'unauthorized',
  INVALID_TOKEN: 'unauthorized',
  DENIED: 'forbidden',
  TOOMANYREQUESTS: 'unavailable',
  UNAVAILABLE: 'unavailable',
  NAME_INVALID: 'invalid_argument',
  TAG_INVALID: 'invalid_argument',
  DIGEST_INVALID: 'invalid_argument',
  MANIFEST_INVALID: 'invalid_argument',
  UNSUPPORTED: 'not_implemented',
};

function codeForStatus(status: number): ErrorCode {
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 429 || status >= 500) return 'unavailable';
  if (status === 400) return 'invalid_argument';
  return 'internal';
}

const STATUS_TEXT: Record<number, string> = {
  401: 'unauthorized: authentication required',
  403: 'denied: requested access to the resource is denied',
  404: 'not found',
  429: 'toomanyrequests: too many requests',
};

/**
 * The BerthError for a failed registry response: the first registry error
 * code decides (MANIFEST_UNKNOWN -> not_found, DENIED -> forbidden, ...),
 * else the HTTP status; the message is the registry's own, docker-style.
 */
export function registryError(status: number, bodyText: string, prefix?: string): BerthError {
  const described = describeRegistryErrors(bodyText);
  let code: ErrorCode | undefined;
  for (const c of described?.codes ?? []) {
    code = CODE_BY_REGISTRY_ERROR[c];
    if (code) break;
  }
  code ??= codeForStatus(status);
  const text = described?.text ?? STATUS_TEXT[status] ?? `unexpected status ${status} from registry`;
  return new BerthError(code, prefix ? `${prefix}: ${text}` : text);
}

/** The host without port (brackets removed for IPv6). */
export function hostOf(domain: string): string {
  if (domain.startsWith('[')) {
    const end = domain.indexOf(']');
    return end > 0 ? domain.slice(1, end) : domain;
  }
  const colon = domain.lastIndexOf(':');
  return colon >= 0 ? domain.slice(0, colon) : domain;
}

function ipv4ToInt(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return parts.reduce((acc, p) => acc * 256 + p, 0);
}

function inCidr(ip: string, cidr: string): boolean {
  const [net, bitsText] = cidr.split('/');
  const addr = ipv4ToInt(ip);
  const base = ipv4ToInt(net ?? '');
  const bits = Number(bitsText);
  if (addr === undefined || base === undefined || !Number.isInteger(bits) || bits < 0 || bits > 32) return false;
  const size = 2 ** (32 - bits);
  return Math.floor(addr / size) === Math.floor(base / size);
}

export function isLoopback(domain: string): boolean {
  const host = hostOf(domain).toLowerCase();
  return host === 'localhost' || host === '::1' || inCidr(host, '127.0.0.0/8');
}

/**
 * Whether `domain` is reached over plain HTTP: loopback always (dockerd's
 * rule), and entries of insecureRegistries matched exactly (`host:port`) or as
 * IPv4 CIDRs. Unlike dockerd we do not try HTTPS first for these.
 */
export function isInsecureRegistry(domain: string, insecureRegistries: readonly string[]): boolean {
  if (isLoopback(domain)) return true;
  const host = hostOf(domain);
  return insecureRegistries.some((entry) => entry === domain || (entry.includes('/') && inCidr(host, entry)));
}

const DOCKER_HUB_ENDPOINT = 'https://registry-1.docker.io';

/** docker.io/index.docker.io -> Docker Hub's API endpoint; others by scheme rule. */
export function endpointFor(domain: string, insecureRegistries: readonly string[]): string {
  if (domain === 'docker.io' || domain === 'index.docker.io' || domain === 'registry-1.docker.io') {
    return DOCKER_HUB_ENDPOINT;
  }
  return `${isInsecureRegistry(domain, insecureRegistries) ? 'http' : 'https'}://${domain}`;
}

/**
 * The registry domain a login's serveraddress names: scheme and path dropped,
 * Docker Hub's legacy `https://index.docker.io/v1/` -> docker.io.
 */
export function normalizeServerAddress(address: string): string {
  let s = address.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  const slash = s.indexOf('/');
  if (slash >= 0) s = s.slice(0, slash);
  if (s === '' || s === 'index.docker.io' || s === 'registry-1.docker.io') return 'docker.io';
  return s;
}
