import { readFileSync } from 'node:fs'
import { OpenAPIHono } from '@hono/zod-openapi'
import { requestId } from 'hono/request-id'
import type { AppDeps } from './deps.ts'
import { DEFAULT_WORKSPACE_ID } from './deps.ts'
import { defaultHook, notFound, onError } from './errors/handlers.ts'
import { registerDocs, registerOpenAPIDocument } from './http/docs.ts'
import type { AppEnv } from './http/env.ts'
import { metricsMiddleware } from './http/metrics.ts'
import { renderOpenAPIDocument } from './openapi.ts'
import { registerRoutes } from './routes/index.ts'

export const committedSpecUrl = new URL('../../../openapi/openapi.json', import.meta.url)

/** The whole HTTP surface of imagegate, built from injected dependencies. */
export function createApp(deps: AppDeps) {
  const app = new OpenAPIHono<AppEnv>({ defaultHook })

  app.use(
    requestId({
      headerName: 'x-request-id',
      generator: () => deps.ids('req'),
    }),
  )
  app.use(async (c, next) => {
    const log = deps.log.child({ requestId: c.get('requestId') })
    c.set('log', log)
    c.set('workspaceId', DEFAULT_WORKSPACE_ID)
    const started = performance.now()
    await next()
    log.info(
      {
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        durationMs: Math.round((performance.now() - started) * 100) / 100,
      },
      'request',
    )
  })
  app.use(metricsMiddleware(deps.metrics))

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
