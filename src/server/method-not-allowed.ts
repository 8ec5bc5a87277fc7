/**
 * 405 for a known path asked with a method it does not serve (API.md "Routes"): the route table is collected
 * as routes are registered (an `onRoute` hook, so it must be installed before them), and the not-found handler
 * asks `allowedMethods` whether another method serves the path; if so it answers 405 METHOD_NOT_ALLOWED with
 * an `Allow` header listing them, else 404. Patterns are matched as the router would: `:param` is one path
 * segment, `*` the rest. Callers: app.ts (install), error-handler.ts (the not-found handler).
 */
import type { FastifyInstance } from 'fastify';

/** The registered routes' path patterns with their methods. */
export class RouteTable {
  private readonly routes: { re: RegExp; methods: Set<string> }[] = [];
  private readonly byPattern = new Map<string, Set<string>>();

  add(url: string, methods: string | readonly string[]): void {
    let set = this.byPattern.get(url);
    if (set === undefined) {
      set = new Set();
      this.byPattern.set(url, set);
      const source = url
        .split('/')
        .map((seg) => (seg.startsWith(':') ? '[^/]+' : seg === '*' ? '.*' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
        .join('/');
      this.routes.push({ re: new RegExp(`^${source}/?$`), methods: set });
    }
    for (const m of typeof methods === 'string' ? [methods] : methods) set.add(m.toUpperCase());
  }

  /** Methods some route serves `path` with (sorted), excluding none; empty when no route has the path. */
  allowedMethods(path: string): string[] {
    const out = new Set<string>();
    for (const r of this.routes) if (r.re.test(path)) for (const m of r.methods) out.add(m);
    return [...out].sort();
  }
}

/** Collects every route registered on `app` from now on into a new table. */
export function collectRoutes(app: FastifyInstance): RouteTable {
  const table = new RouteTable();
  app.addHook('onRoute', (route) => table.add(route.url, route.method));
  return table;
}
