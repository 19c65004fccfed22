import type { AppDeps } from '../deps.ts'
import type { App } from '../http/route-types.ts'
import { registerAssetRoutes } from './assets/index.ts'
import * as getGeneration from './generations/get.ts'
import * as listGenerations from './generations/list.ts'
import * as editImages from './images/edit.ts'
import * as generateImages from './images/generate.ts'
import * as listModels from './models/list.ts'
import * as imageGenerateSkill from './skills/image-generate.ts'
import { registerSystemRoutes } from './system/index.ts'
import { registerAdminRoutes } from './workspaces/index.ts'

/** Every route of the contract, in a fixed order (the order of the generated document). */
export function registerRoutes(app: App, deps: AppDeps) {
  registerSystemRoutes(app, deps)
  app.openapi(generateImages.route, generateImages.handler(deps))
  editImages.register(app, deps)
  imageGenerateSkill.register(app, deps)
  app.openapi(listModels.route, listModels.handler(deps))
  app.openapi(listGenerations.route, listGenerations.handler(deps))
  app.openapi(getGeneration.route, getGeneration.handler(deps))
  registerAssetRoutes(app, deps)
  registerAdminRoutes(app, deps)
}
