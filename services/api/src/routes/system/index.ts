import type { AppDeps } from '../../deps.ts'
import type { App } from '../../http/route-types.ts'
import * as healthz from './healthz.ts'
import * as metrics from './metrics.ts'
import * as readyz from './readyz.ts'

export function registerSystemRoutes(app: App, deps: AppDeps) {
  app.openapi(healthz.route, healthz.handler(deps))
  app.openapi(readyz.route, readyz.handler(deps))
  app.openapi(metrics.route, metrics.handler(deps))
}
