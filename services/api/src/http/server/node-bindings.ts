import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Context } from 'hono'

/**
 * What @hono/node-server hands the app as `c.env`: the Node request and response. Both are
 * absent for requests made in process (`app.request`, `app.fetch`), and a test may pass an env
 * of its own, so every field is read as possibly missing.
 */
export type NodeBindings = {
  incoming?: Partial<IncomingMessage>
  outgoing?: Partial<ServerResponse>
}

/** The one place that reads `c.env` as @hono/node-server's bindings. */
export function nodeBindings(c: Context): NodeBindings {
  return (c.env as NodeBindings | undefined) ?? {}
}
