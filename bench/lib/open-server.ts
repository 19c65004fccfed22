import { serve } from '@hono/node-server'
import { type AccessMiddleware, createApp } from '../../services/api/src/app.ts'
import { loadConfig } from '../../services/api/src/config.ts'
import { createDeps, DEFAULT_WORKSPACE_ID } from '../../services/api/src/deps.ts'
import { createLogger } from '../../services/api/src/logger.ts'
import { routeAccess } from '../../services/api/src/routes/access-table.ts'

/** In place of access control: no keys, scopes or request limits; all in workspace `default`. */
const openAccess: AccessMiddleware = async (c, next) => {
  c.set('routeAccess', routeAccess(c.req.method, c.req.path))
  c.set('workspaceId', DEFAULT_WORKSPACE_ID)
  await next()
}

/**
 * The server exactly as main.ts builds it, but with access control off: the baseline that shows
 * what access control costs (bench/access.ts). No setting of the real server reaches this.
 */
export async function serveWithoutAccessControl(
  env: Record<string, string>,
  onListening: (url: string) => void,
) {
  const config = loadConfig(env)
  const deps = await createDeps(config, { log: createLogger(config) })
  const app = createApp(deps, { access: openAccess })
  return serve({ fetch: app.fetch, port: config.port, hostname: config.host }, (info) =>
    onListening(`http://${info.address}:${info.port}`),
  )
}
