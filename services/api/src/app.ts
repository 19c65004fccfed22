import { readFileSync } from 'node:fs'
import { OpenAPIHono } from '@hono/zod-openapi'
import type { MiddlewareHandler } from 'hono'
import type { AppDeps } from './deps.ts'
import { defaultHook, notFound, onError } from './errors/handlers.ts'
import { registerDocs, registerOpenAPIDocument } from './http/docs.ts'
import type { AppEnv } from './http/env.ts'
import { accessControl } from './http/middleware/access-control.ts'
import { jsonBodyLimit } from './http/middleware/body-limit.ts'
import { idempotencyLayer } from './http/middleware/idempotency.ts'
import { metricsMiddleware } from './http/middleware/metrics.ts'
import { lazyChildLogger, logRequestLine, requestIdFor } from './http/middleware/request-log.ts'
import { addResponseHeader } from './http/response-headers.ts'
import { renderOpenAPIDocument } from './openapi.ts'
import { registerRoutes } from './routes/index.ts'

export const committedSpecUrl = new URL('../../../openapi/openapi.json', import.meta.url)

/** Middleware that decides who is calling: sets `routeAccess` and `workspaceId`. */
export type AccessMiddleware = MiddlewareHandler<AppEnv>

export type AppOptions = {
  /**
   * The middleware that decides who is calling and sets `routeAccess` and `workspaceId`;
   * access control (keys, scopes, request limits) unless given. The bench swaps it to measure
   * what access control costs (bench/lib/open-server.ts); no setting reaches it.
   */
  access?: AccessMiddleware
}

/** The whole HTTP surface of imagegate, built from injected dependencies. */
export function createApp(deps: AppDeps, options: AppOptions = {}) {
  const app = new OpenAPIHono<AppEnv>({ defaultHook })

  // Counted until the handler is done, even when its client has gone (see http/middleware/in-flight.ts).
  app.use(deps.inFlight.middleware)

  // The request id (the caller's own X-Request-Id when it is a sane token) and a logger bound
  // to it, made when first used; the access line is built only when info is on (the benches run
  // at warn).
  app.use(async (c, next) => {
    const requestId = requestIdFor(c.req.header('x-request-id'), () => deps.ids('req'))
    c.set('requestId', requestId)
    addResponseHeader(c, 'x-request-id', requestId)
    const log = lazyChildLogger(deps.log, { requestId })
    c.set('log', log)
    if (!deps.log.isLevelEnabled('info')) {
      return next()
    }
    const started = performance.now()
    await next()
    logRequestLine(log, { method: c.req.method, path: c.req.path, status: c.res.status }, started)
  })
  app.use(metricsMiddleware(deps.metrics))
  app.use(options.access ?? accessControl(deps))
  app.use(jsonBodyLimit(deps.config.maxJsonBytes))
  app.use(idempotencyLayer(deps))

  registerRoutes(app, deps)
  registerOpenAPIDocument(app, () => {
    try {
      return readFileSync(committedSpecUrl, 'utf8')
    } catch {
      return renderOpenAPIDocument(app)
    }
  })
  registerDocs(app)

  app.notFound(notFound)
  app.onError(onError)
  return app
}

export type { AppDeps } from './deps.ts'
