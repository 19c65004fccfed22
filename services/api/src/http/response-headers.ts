import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { AppEnv } from './env.ts'
import { nodeBindings } from './server/node-bindings.ts'

type HeaderSink = {
  setHeader(name: string, value: string): unknown
  readonly headersSent: boolean
}

/** The Node response @hono/node-server passes as `c.env.outgoing`, while it can take headers. */
function nodeResponse(c: Context<AppEnv>): HeaderSink | undefined {
  const { outgoing } = nodeBindings(c)
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

/**
 * An answer with a text body and these headers (names in lower case). Under @hono/node-server a
 * Response made directly, whose plain header object the server writes as it is (the headers
 * added above are on the Node response already); elsewhere through `c.body`, which also merges
 * what `c.header` set. Why not `c.body` always: given more than one header, it builds a fetch
 * `Headers` object that the server then copies back into a plain object, per answer.
 */
export function respondWith(
  c: Context<AppEnv>,
  body: string,
  status: ContentfulStatusCode,
  headers: Record<string, string>,
): Response {
  if (nodeResponse(c)) {
    return new Response(body, { status, headers })
  }
  return c.body(body, status, headers)
}

/**
 * Runs `done` once this request's answer has been handed to the socket in full (the Node
 * response's 'finish'). Never if the connection closes first, and never outside
 * @hono/node-server (`app.request` in tests): only for clean-up that may as well not happen.
 */
export function afterAnswerWritten(c: Context<AppEnv>, done: () => void): void {
  const { outgoing } = nodeBindings(c)
  if (typeof outgoing?.once === 'function') {
    outgoing.once('finish', done)
  }
}
