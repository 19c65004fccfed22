import type { Context } from 'hono'
import { nodeBindings } from './node-bindings.ts'

/**
 * The peer address of the connection (@hono/node-server puts the IncomingMessage in `env`).
 * Forwarded-for headers are not trusted: anyone can send them. In-process requests
 * (`app.request`) have no socket and share one bucket.
 */
export function clientAddress(c: Context): string | undefined {
  return nodeBindings(c).incoming?.socket?.remoteAddress
}
