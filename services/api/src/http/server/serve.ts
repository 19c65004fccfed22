import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { getRequestListener } from '@hono/node-server'
import { DEFAULT_SERVER_LIMITS, type ServerLimits } from '../../config.ts'
import { type AccessGateDeps, accessGate } from './access-gate.ts'
import { watchBodyRate } from './body-rate.ts'
import { handleClientErrors } from './client-error.ts'
import { applyConnectionCap, serverOptions } from './limits.ts'

/**
 * The Node HTTP server imagegate runs on: @hono/node-server's listener for `app`, with the
 * access gate in front of it (http/server/access-gate.ts), the timeouts and connection cap of `limits`
 * (http/server/limits.ts) and imagegate's error body for what Node's parser refuses
 * (http/server/client-error.ts). main.ts and the tests that need a real socket build it here,
 * so they run the same server.
 */
export function serveImagegate(
  app: { fetch: Parameters<typeof getRequestListener>[0] },
  deps: AccessGateDeps,
  options: { port: number; hostname: string; limits?: ServerLimits },
  onListening?: (info: AddressInfo) => void,
): Server {
  const limits = options.limits ?? DEFAULT_SERVER_LIMITS
  const listener = accessGate(deps, getRequestListener(app.fetch, { hostname: options.hostname }))
  const server = createServer(serverOptions(limits), (req, res) => {
    watchBodyRate(req, limits)
    listener(req, res)
  })
  applyConnectionCap(server, limits)
  handleClientErrors(server, deps)
  server.listen(options.port, options.hostname, () => {
    onListening?.(server.address() as AddressInfo)
  })
  return server
}
