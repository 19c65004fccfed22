import type { OpenAPIHono, RouteConfig, RouteHandler } from '@hono/zod-openapi'
import type { AppDeps } from '../deps.ts'
import type { AppEnv } from './env.ts'

export type App = OpenAPIHono<AppEnv>

/** A route file's handler factory: closes over the injected dependencies. */
export type HandlerFactory<R extends RouteConfig> = (deps: AppDeps) => RouteHandler<R, AppEnv>
