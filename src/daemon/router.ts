// A small method + path router in the manner of dockerd's gorilla/mux routes:
// `{name}` matches one path segment, `{name:.*}` matches the rest greedily
// (image names contain slashes and colons: /images/localhost:5000/ns/app:1/json).
// Routes are tried in registration order, so register specific ones first.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  /** The API version this request is served at (negotiated from the /vX.Y prefix). */
  apiVersion: string;
  params: Record<string, string>;
  query: URLSearchParams;
  /** Aborted when the client goes away before the response is complete. */
  signal: AbortSignal;
  /**
   * Set when the client asked to upgrade the connection (`Connection: Upgrade`,
   * `Upgrade: tcp`, as docker's attach does): writes dockerd's
   * `101 UPGRADED` with `contentType` and hands over the raw socket. Errors
   * thrown before calling it are still ordinary HTTP replies.
   */
  hijack?: (contentType: string) => Duplex;
}

export type Handler = (ctx: RequestContext) => Promise<void> | void;

interface Route {
  method: string;
  /** the template as registered, e.g. `/images/{name:.*}/json` */
  path: string;
  pattern: RegExp;
  names: string[];
  handler: Handler;
}

export interface Match {
  handler: Handler;
  params: Record<string, string>;
}

export class Router {
  #routes: Route[] = [];

  add(method: string, path: string, handler: Handler): this {
    const names: string[] = [];
    const source = path
      .split(/(\{[^}]+\})/)
      .map((part) => {
        const m = /^\{([A-Za-z_]+)(?::(.*))?\}$/.exec(part);
        if (!m) return part.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
        names.push(m[1] as string);
        // The only custom pattern dockerd's image routes use is `.*`; treat it as "one or more of anything".
        return m[2] === '.*' ? '(.+)' : '([^/]+)';
      })
      .join('');
    this.#routes.push({ method, path, pattern: new RegExp(`^${source}$`), names, handler });
    return this;
  }

  get(path: string, handler: Handler): this {
    return this.add('GET', path, handler);
  }
  post(path: string, handler: Handler): this {
    return this.add('POST', path, handler);
  }
  delete(path: string, handler: Handler): this {
    return this.add('DELETE', path, handler);
  }
  head(path: string, handler: Handler): this {
    return this.add('HEAD', path, handler);
  }

  /** What was registered, in order, with the path templates as given (docs/compatibility.md is checked against it). */
  routes(): { method: string; path: string }[] {
    return this.#routes.map(({ method, path }) => ({ method, path }));
  }

  /** The first route matching method and (already decoded, unversioned) path. */
  match(method: string, path: string): Match | undefined {
    for (const route of this.#routes) {
      if (route.method !== method) continue;
      const m = route.pattern.exec(path);
      if (!m) continue;
      const params: Record<string, string> = {};
      route.names.forEach((n, i) => (params[n] = m[i + 1] as string));
      return { handler: route.handler, params };
    }
    return undefined;
  }
}
