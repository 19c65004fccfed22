import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http'
import type { Logger } from 'pino'
import type { RouteAccess } from '../../access/scopes.ts'
import { errorAnswer } from '../../errors/handlers.ts'
import { rateLimitHeaders } from '../../errors/rate-limit-headers.ts'
import type { IdGenerator } from '../../ids.ts'
import { tableRouteAccess } from '../../routes/access-table.ts'
import type { AssetService } from '../../services/assets.ts'
import { contentHeaders, notModifiedHeaders } from '../content-headers.ts'
import {
  type AccessControlDeps,
  type AccessOutcome,
  admitBeforeHono,
  decideAccess,
} from '../middleware/access-control.ts'
import { countRequest, type HttpMetrics } from '../middleware/metrics.ts'
import { logRequestLine, requestIdFor } from '../middleware/request-log.ts'

export type AccessGateDeps = AccessControlDeps & {
  ids: IdGenerator
  log: Logger
  metrics: HttpMetrics
  assets: Pick<AssetService, 'get'>
}

/** The route whose revalidations (If-None-Match → 304) are answered here too. */
const CONTENT_ROUTE = '/v1/assets/{id}/content'

/**
 * A path Hono and routeAccessTable read alike: segments of unreserved characters, none empty or
 * starting with a dot, no trailing slash. Anything else (percent-encoding, `//`, `/./`, an
 * absolute-form target) is left to Hono and the access middleware.
 */
const PLAIN_PATH = /^(?:\/[\w~-][\w.~-]*)+$/

/** A refused request's unread body is read and dropped, up to this much, then the socket goes. */
const DISCARD_LIMIT_BYTES = 64 * 1024 * 1024
const DISCARD_TIMEOUT_MS = 500

/**
 * Access control in front of Hono, for the Node server (main.ts). A request to a route that needs
 * a key, on a plain path, is decided here with the same decision as http/middleware/access-control.ts: a refusal
 * (401, 403, 429) is answered at once, with the same body and headers, request id, metrics and
 * access line, without building a fetch Request, a Hono context or the middleware chain, which
 * together cost most of a refusal (the aim: ≥ 10k refusals/s). An admitted request is
 * handed on with its decision, which the access middleware takes over, unless it revalidates
 * an asset's content and gets its 304 here (see answerNotModified). Everything else (public
 * routes, signed URLs, paths Hono might read differently) goes to Hono undecided.
 */
export function accessGate(deps: AccessGateDeps, next: RequestListener): RequestListener {
  return (req, res) => {
    const row = plainRouteAccess(req)
    if (row === undefined) {
      return next(req, res)
    }
    gate(deps, next, req, res, row).catch((err: unknown) => {
      // Nothing above throws on purpose; should a write fail, the connection goes.
      deps.log.error({ err }, 'access gate failed')
      res.destroy()
    })
  }
}

/** Decides a request; answers a refusal or a revalidation here, or hands it on to Hono. */
async function gate(
  deps: AccessGateDeps,
  next: RequestListener,
  req: IncomingMessage,
  res: ServerResponse,
  row: RouteAccess,
): Promise<void> {
  const started = performance.now()
  let outcome: AccessOutcome
  try {
    outcome = await decideAccess(deps, row, {
      peer: req.socket.remoteAddress,
      forwardedFor: forwardedFor(req),
      authorization: req.headers.authorization,
    })
  } catch {
    // A failed key lookup: Hono decides again and answers the error the usual way.
    return next(req, res)
  }
  if (outcome.allowed) {
    const headers = rateLimitHeaders(outcome.policies)
    for (const name in headers) {
      res.setHeader(name, headers[name] as string)
    }
    if (
      row.route === CONTENT_ROUTE &&
      (await answerNotModified(deps, req, res, outcome, started))
    ) {
      return
    }
    admitBeforeHono(req, row, outcome)
    return next(req, res)
  }
  const method = req.method as string
  const requestId = requestIdOf(deps, req)
  const answer = errorAnswer(outcome.error, { method, requestId, envelope: row.envelope })
  if (hasBody(req)) {
    discardBody(req, res)
  }
  // answer.headers is this answer's own object: added to in place (see errorAnswer).
  const headers = answer.headers
  headers['x-request-id'] = requestId
  if (method === 'HEAD') {
    // As Hono answers HEAD: the GET answer's headers, no body and no length.
    res.writeHead(answer.status, headers)
    res.end()
  } else {
    headers['content-length'] = String(Buffer.byteLength(answer.body))
    res.writeHead(answer.status, headers)
    res.end(answer.body)
  }
  answered(deps, req, row, answer.status, requestId, started)
}

/**
 * A revalidation of an asset's content (GET or HEAD with If-None-Match) answered with its 304
 * here: it needs nothing but the decision just made and the asset's row, which is kept in
 * memory, and it is the same answer the content route gives (notModifiedHeaders). False, and
 * nothing sent, for anything else: another ETag, an id this workspace has no asset under.
 */
async function answerNotModified(
  deps: AccessGateDeps,
  req: IncomingMessage,
  res: ServerResponse,
  admitted: Extract<AccessOutcome, { allowed: true }>,
  started: number,
): Promise<boolean> {
  const ifNoneMatch = req.headers['if-none-match']
  if (ifNoneMatch === undefined) {
    return false
  }
  // A plain path without a query (see plainRouteAccess): /v1/assets/<id>/content.
  const id = (req.url as string).split('/')[3] ?? ''
  let headers: Record<string, string> | undefined
  try {
    headers = notModifiedHeaders(
      contentHeaders(await deps.assets.get(admitted.principal.workspaceId, id)),
      ifNoneMatch,
    )
  } catch {
    // No such asset here: the route answers its 404.
    return false
  }
  if (headers === undefined) {
    return false
  }
  const requestId = requestIdOf(deps, req)
  headers['x-request-id'] = requestId
  res.writeHead(304, headers)
  res.end()
  answered(deps, req, { route: CONTENT_ROUTE }, 304, requestId, started)
  return true
}

/** The caller's own X-Request-Id when it is a sane token, else a new one (as app.ts does). */
function requestIdOf(deps: AccessGateDeps, req: IncomingMessage): string {
  const given = req.headers['x-request-id']
  return requestIdFor(typeof given === 'string' ? given : undefined, () => deps.ids('req'))
}

/** What the middleware in app.ts records for every request: metrics, and the access line. */
function answered(
  deps: AccessGateDeps,
  req: IncomingMessage,
  row: Pick<RouteAccess, 'route'>,
  status: number,
  requestId: string,
  started: number,
): void {
  const method = req.method as string
  countRequest(deps.metrics, { method, route: metricsRoute(row), status }, started)
  if (deps.log.isLevelEnabled('info')) {
    logRequestLine(
      deps.log.child({ requestId }),
      { method, path: pathOf(req.url as string), status },
      started,
    )
  }
}

/** The row of a request this gate decides, or undefined to leave it to Hono. */
function plainRouteAccess(req: IncomingMessage): RouteAccess | undefined {
  const url = req.url
  const method = req.method
  if (url === undefined || method === undefined) {
    return undefined
  }
  const path = pathOf(url)
  if (!PLAIN_PATH.test(path)) {
    return undefined
  }
  const row = tableRouteAccess(method, path)
  if (row === undefined || row.access === 'public') {
    return undefined
  }
  // A query may carry a signed URL's expires and signature: the middleware reads those.
  if (row.signedUrl && path.length !== url.length) {
    return undefined
  }
  return row
}

/** Node joins repeated X-Forwarded-For lines with commas, as fetch does for the middleware. */
function forwardedFor(req: IncomingMessage): string | undefined {
  const value = req.headers['x-forwarded-for']
  return Array.isArray(value) ? value.join(', ') : value
}

function pathOf(url: string): string {
  const query = url.indexOf('?')
  return query === -1 ? url : url.slice(0, query)
}

/** The label Hono's matched route gives the metrics middleware: `{id}` written `:id`. */
const metricsRoutes = new Map<string, string>()
function metricsRoute(row: Pick<RouteAccess, 'route'>): string {
  let label = metricsRoutes.get(row.route)
  if (label === undefined) {
    label = row.route.replace(/\{([^/{}]+)\}/g, ':$1')
    metricsRoutes.set(row.route, label)
  }
  return label
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length']
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined
}

/**
 * Reads a refused request's body to the end and drops it, so the connection can carry the next
 * request; a body larger than DISCARD_LIMIT_BYTES, or not done DISCARD_TIMEOUT_MS after the
 * answer went out, ends the connection instead.
 */
function discardBody(req: IncomingMessage, res: ServerResponse): void {
  let seen = 0
  const close = () => {
    req.off('data', onData)
    req.socket.destroySoon()
  }
  const onData = (chunk: Buffer) => {
    seen += chunk.length
    if (seen > DISCARD_LIMIT_BYTES) {
      close()
    }
  }
  req.on('data', onData)
  req.once('error', () => req.off('data', onData))
  res.once('finish', () => {
    if (req.readableEnded) {
      return
    }
    const timer = setTimeout(() => {
      if (!req.readableEnded) {
        close()
      }
    }, DISCARD_TIMEOUT_MS)
    timer.unref()
    req.once('end', () => clearTimeout(timer))
  })
}
