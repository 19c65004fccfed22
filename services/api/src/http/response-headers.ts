import type { Context } from 'hono'
import type { AppEnv } from './env.ts'

type HeaderSink = {
  setHeader(name: string, value: string): unknown
  readonly headersSent: boolean
}

/** The Node response @hono/node-server passes as `c.env.outgoing`, while it can take headers. */
function nodeResponse(c: Context<AppEnv>): HeaderSink | undefined {
  const outgoing = (c.env as { outgoing?: Partial<HeaderSink> } | undefined)?.outgoing
  if (typeof outgoing?.setHeader !== 'function' || outgoing.headersSent !== false) {
    return undefined
  }
  return outgoing as HeaderSink
}

/**
 * Adds headers to whatever answer this request gets (names in lower case). Under
 * @hono/node-server they go straight onto the Node response, which merges them into the answer's
 * own headers when it is written (the answer's win on a clash, as with `c.header`); elsewhere
 * (`app.request` in tests) through `c.header`. Only for headers about this exchange (request id,
 * rate limits) or for answers that are never stored for replay: under Node they are not part of
 * `c.res`. Why not `c.header` always: it builds a fetch `Headers` object that @hono/node-server
 * then sorts and copies back into a plain object, per request.
 */
export function addResponseHeaders(c: Context<AppEnv>, headers: Record<string, string>): void {
  const outgoing = nodeResponse(c)
  if (outgoing) {
    for (const name in headers) {
      outgoing.setHeader(name, headers[name] as string)
    }
    return
  }
  for (const name in headers) {
    c.header(name, headers[name])
  }
}

/** One header; see addResponseHeaders. */
export function addResponseHeader(c: Context<AppEnv>, name: string, value: string): void {
  const outgoing = nodeResponse(c)
  if (outgoing) {
    outgoing.setHeader(name, value)
  } else {
    c.header(name, value)
  }
}
