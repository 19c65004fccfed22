import { serve } from '@hono/node-server'
import { createApp } from '../../services/api/src/app.ts'
import { loadConfig } from '../../services/api/src/config.ts'
import { createDeps } from '../../services/api/src/deps.ts'
import { createLogger } from '../../services/api/src/logger.ts'

/**
 * The server exactly as main.ts builds it, but with access control off (no keys, scopes or
 * request limits; everything runs in workspace `default`): the baseline that shows what access
 * control costs (bench/access.ts). No setting of the real server reaches this.
 */
export function serveWithoutAccessControl(
  env: Record<string, string>,
  onListening: (url: string) => void,
) {
  const config = loadConfig(env)
  const deps = createDeps(config, { log: createLogger(config) })
  const app = createApp(deps, { accessControl: false })
  return serve({ fetch: app.fetch, port: config.port, hostname: config.host }, (info) =>
    onListening(`http://${info.address}:${info.port}`),
  )
}
