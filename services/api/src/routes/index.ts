import type { AppDeps } from '../deps.ts'
import type { App } from '../http/route-types.ts'
import { registerSystemRoutes } from './system/index.ts'

/** Every route of the contract, in a fixed order (the order of the generated document). */
export function registerRoutes(app: App, deps: AppDeps) {
  registerSystemRoutes(app, deps)
}
