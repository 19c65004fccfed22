import {
  accessRow,
  createRouteAccessIndex,
  type HttpMethod,
  type RouteAccess,
} from '../access/scopes.ts'
import { documentAccess } from '../http/docs.ts'
import type { RouteModule } from '../http/route-types.ts'
import { routeModules } from './index.ts'

function rowsOf(module: RouteModule): RouteAccess[] {
  const operations = module.headRoute ? [module.headRoute, module.route] : [module.route]
  return operations.map((operation) =>
    accessRow(operation.method.toUpperCase() as HttpMethod, operation.path, module.access),
  )
}

/**
 * Every operation imagegate answers with who may call it and what it spends, as each route file
 * declares it (its `access` beside its `createRoute`), plus the documents served by http/docs.ts.
 * The access middleware, the gate in front of Hono, the idempotency layer and the generated
 * contract all read this one table.
 */
export const routeAccessTable: readonly RouteAccess[] = [
  ...routeModules.flatMap(rowsOf),
  ...documentAccess,
]

export const { routeAccess, tableRouteAccess, exactRouteAccess } =
  createRouteAccessIndex(routeAccessTable)
