import type { Context } from 'hono'

/**
 * The peer address of the connection (@hono/node-server puts the IncomingMessage in `env`).
 * Forwarded-for headers are not trusted: anyone can send them. In-process requests
 * (`app.request`) have no socket and share one bucket.
 */
export function clientAddress(c: Context): string | undefined {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined
  return env?.incoming?.socket?.remoteAddress
}
