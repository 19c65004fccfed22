import type { AppDeps } from '../../deps.ts'
import type { App } from '../../http/route-types.ts'
import * as revokeKey from '../keys/revoke.ts'
import * as create from './create.ts'
import * as createKey from './create-key.ts'
import * as grantCredits from './grant-credits.ts'
import * as list from './list.ts'
import * as listKeys from './list-keys.ts'
import * as usage from './usage.ts'

/** The admin routes: workspaces, their keys and credits (the `admin` scope). */
export function registerAdminRoutes(app: App, deps: AppDeps) {
  app.openapi(create.route, create.handler(deps))
  app.openapi(list.route, list.handler(deps))
  app.openapi(createKey.route, createKey.handler(deps))
  app.openapi(listKeys.route, listKeys.handler(deps))
  app.openapi(revokeKey.route, revokeKey.handler(deps))
  app.openapi(grantCredits.route, grantCredits.handler(deps))
  app.openapi(usage.route, usage.handler(deps))
}
