import type { OpenAPIHono, RouteConfig, RouteHandler } from '@hono/zod-openapi'
import type { RouteAccessRule } from '../access/scopes.ts'
import type { AppDeps } from '../deps.ts'
import type { AppEnv } from './env.ts'

export type App = OpenAPIHono<AppEnv>

/** A route's handler factory: closes over the dependencies it names, and only those. */
export type HandlerFactory<R extends RouteConfig, K extends keyof AppDeps = never> = (
  deps: Pick<AppDeps, K>,
) => RouteHandler<R, AppEnv>

/**
 * What every file under routes/ exports, so that routes/index.ts mounts them all alike and
 * derives the access table from them:
 * - `route`: its `createRoute` definition (`headRoute` too where a GET has its own HEAD);
 * - `access`: who may call it and what it spends, declared beside the definition;
 * - `register(app, deps)`: mounts the handler, given the dependencies it uses.
 */
export type RouteModule = {
  route: RouteConfig
  headRoute?: RouteConfig
  access: RouteAccessRule
  register(app: App, deps: AppDeps): void
}

/** `register` for a route whose handler zod-openapi validates and answers as documented. */
export function mountRoute<R extends RouteConfig, K extends keyof AppDeps>(
  route: R,
  handler: HandlerFactory<R, K>,
): (app: App, deps: Pick<AppDeps, K>) => void {
  return (app, deps) => {
    app.openapi(route, handler(deps) as Parameters<App['openapi']>[1])
  }
}
