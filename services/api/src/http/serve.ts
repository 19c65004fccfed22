import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { getRequestListener } from '@hono/node-server'
import { type AccessGateDeps, accessGate } from './access-gate.ts'

/**
 * The Node HTTP server imagegate runs on: @hono/node-server's listener for `app`, with the
 * access gate in front of it (http/access-gate.ts). main.ts and the tests that need a real
 * socket build it here, so they run the same server.
 */
export function serveImagegate(
  app: { fetch: Parameters<typeof getRequestListener>[0] },
  deps: AccessGateDeps,
  options: { port: number; hostname: string },
  onListening?: (info: AddressInfo) => void,
): Server {
  const listener = getRequestListener(app.fetch, { hostname: options.hostname })
  const server = createServer(accessGate(deps, listener))
  server.listen(options.port, options.hostname, () => {
    onListening?.(server.address() as AddressInfo)
  })
  return server
}
