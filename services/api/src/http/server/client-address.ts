import type { Context } from 'hono'
import { nodeBindings } from './node-bindings.ts'

/**
 * The peer address of the connection (@hono/node-server puts the IncomingMessage in `env`); the
 * client address is made of it and X-Forwarded-For by access/trusted-proxies.ts. In-process
 * requests (`app.request`) have no socket and share one bucket.
 */
export function peerAddress(c: Context): string | undefined {
  return nodeBindings(c).incoming?.socket?.remoteAddress
}
