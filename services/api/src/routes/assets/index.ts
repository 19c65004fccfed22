import type { AppDeps } from '../../deps.ts'
import type { App } from '../../http/route-types.ts'
import * as content from './content.ts'
import * as remove from './delete.ts'
import * as get from './get.ts'
import * as list from './list.ts'
import * as upload from './upload.ts'

export function registerAssetRoutes(app: App, deps: AppDeps) {
  upload.register(app, deps)
  app.openapi(list.route, list.handler(deps))
  content.register(app, deps)
  app.openapi(get.route, get.handler(deps))
  app.openapi(remove.route, remove.handler(deps))
}
