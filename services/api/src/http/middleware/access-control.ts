import type { Context, MiddlewareHandler } from 'hono'
import { matchedRoutes } from 'hono/route'
import type { AuthFailureLimiter } from '../../access/auth-failures.ts'
import { authenticateWithLockout } from '../../access/authenticate.ts'
import type { PolicyState, RateLimiter } from '../../access/rate-limiter.ts'
import { allows, type RouteAccess } from '../../access/scopes.ts'
import type { ClientAddressOf } from '../../access/trusted-proxies.ts'
import {
  authLockedError,
  missingScopeError,
  rateLimitedError,
  unauthorizedError,
} from '../../errors/access-errors.ts'
import type { AppError } from '../../errors/app-error.ts'
import { errorResponse } from '../../errors/handlers.ts'
import { rateLimitHeaders } from '../../errors/rate-limit-headers.ts'
import { exactRouteAccess, routeAccess } from '../../routes/access-table.ts'
import type { ApiKeyService, Principal } from '../../services/access/api-keys.ts'
import type { SignedUrlService } from '../../services/access/signed-urls.ts'
import type { AppEnv } from '../env.ts'
import { addResponseHeaders } from '../response-headers.ts'
import { peerAddress } from '../server/client-address.ts'
import { nodeBindings } from '../server/node-bindings.ts'

export type AccessControlDeps = {
  apiKeys: ApiKeyService
  rateLimiter: RateLimiter
  authFailures: AuthFailureLimiter
  /** The client address a failed authentication counts against (IMAGEGATE_TRUSTED_PROXIES). */
  clientAddressOf: ClientAddressOf
  signedUrls: SignedUrlService
}

/** What access control decided for a request that needs a key. */
export type AccessOutcome =
  | { allowed: true; principal: Principal; policies: PolicyState[] }
  | { allowed: false; error: AppError }

/**
 * Steps 3–5 below for a route that needs a key: the key (with the lock-out of its address),
 * its scopes, then its request limits. An allowed request has spent its request budget; a
 * refusal has spent nothing but, for a bad key from an address not yet throttled, one failure
 * of the address.
 */
export async function decideAccess(
  deps: AccessControlDeps,
  row: RouteAccess,
  request: {
    /** The connection's peer address, and the X-Forwarded-For header (clientAddressOf). */
    peer: string | undefined
    forwardedFor: string | undefined
    authorization: string | undefined
  },
): Promise<AccessOutcome> {
  const authentication = await authenticateWithLockout(
    deps.apiKeys.authenticate,
    deps.authFailures,
    {
      authorization: request.authorization,
      address: () => deps.clientAddressOf(request.peer, request.forwardedFor),
    },
  )
  if (!authentication.ok) {
    const error = authentication.locked ? authLockedError(authentication) : unauthorizedError()
    return { allowed: false, error }
  }
  const principal = authentication.principal
  if (!allows(principal.scopes, row.access)) {
    return { allowed: false, error: missingScopeError(row.access) }
  }
  const decision = await deps.rateLimiter.check(principal.requestRules)
  if (!decision.allowed) {
    return { allowed: false, error: rateLimitedError(decision) }
  }
  return { allowed: true, principal, policies: decision.policies }
}

/**
 * Requests admitted before Hono saw them (http/server/access-gate.ts), by their Node request: the
 * decision is taken over as it is, so that no request is counted against its limits twice.
 * Their rate-limit headers are on the Node response already.
 */
const admitted = new WeakMap<
  object,
  { row: RouteAccess; principal: Principal; policies: PolicyState[] }
>()

export function admitBeforeHono(
  incoming: object,
  row: RouteAccess,
  outcome: Extract<AccessOutcome, { allowed: true }>,
): void {
  admitted.set(incoming, { row, principal: outcome.principal, policies: outcome.policies })
}

/**
 * Who may do what, before any route runs (routeAccessTable is the source):
 * 1. public routes pass;
 * 2. a signed asset URL (`?expires=…&signature=…`) stands in for a key on the content route;
 * 3. `Authorization: Bearer <key>`: a valid key goes on; every failure gets one 401 body and is
 *    counted against the client address, or 429 once that address is out of failures
 *    (access/authenticate.ts);
 * 4. the key's scopes (403 insufficient_scope);
 * 5. requests per minute, per key and per workspace (429, and the headers either way).
 * The route itself (and its validation) runs only after all of this. Refusals are answered
 * here through the one error mapper rather than thrown: a throw through the async middleware
 * chain cost more than the rest of a refused request. Under Node most requests that need a key
 * were decided before Hono already (http/server/access-gate.ts); this takes their decision over.
 */
export function accessControl(deps: AccessControlDeps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const { incoming } = nodeBindings(c)
    const before = incoming === undefined ? undefined : admitted.get(incoming)
    const row = before?.row ?? routeAccessOf(c)
    c.set('routeAccess', row)
    if (row.envelope) {
      c.set('errorEnvelope', row.envelope)
    }
    if (before) {
      setPrincipal(c, before.principal, before.policies)
      return next()
    }
    if (row.access === 'public') {
      return next()
    }
    if (row.signedUrl) {
      const expires = c.req.query('expires')
      const signature = c.req.query('signature')
      if (expires !== undefined || signature !== undefined) {
        c.set(
          'workspaceId',
          await deps.signedUrls.verify(assetIdOf(c.req.path), expires, signature),
        )
        return next()
      }
    }
    const outcome = await decideAccess(deps, row, {
      peer: peerAddress(c),
      forwardedFor: c.req.header('x-forwarded-for'),
      authorization: c.req.header('authorization'),
    })
    if (!outcome.allowed) {
      return errorResponse(c, outcome.error)
    }
    addResponseHeaders(c, rateLimitHeaders(outcome.policies))
    setPrincipal(c, outcome.principal, outcome.policies)
    return next()
  }
}

/** An admitted request's key, its workspace and the state of its request limits. */
function setPrincipal(c: Context<AppEnv>, principal: Principal, policies: PolicyState[]): void {
  c.set('principal', principal)
  c.set('rateLimitPolicies', policies)
  c.set('workspaceId', principal.workspaceId)
}

/**
 * The routeAccessTable row of the route Hono is about to run: a path without parameters by one
 * lookup; otherwise once per method and route template (a concrete path holds ids, so the
 * table's patterns would be tried on every request); a path no route matches (it ends in 404)
 * by itself.
 */
const rowByTemplate = new Map<string, RouteAccess>()
function routeAccessOf(c: Context<AppEnv>): RouteAccess {
  const method = c.req.method
  const path = c.req.path
  const direct = exactRouteAccess(method, path)
  if (direct) {
    return direct
  }
  const template = matchedRoutes(c).findLast((matched) => matched.method !== 'ALL')?.path
  if (template === undefined) {
    return routeAccess(method, path)
  }
  const key = `${method} ${template}`
  let row = rowByTemplate.get(key)
  if (row === undefined) {
    row = routeAccess(method, template)
    rowByTemplate.set(key, row)
  }
  return row
}

/** `/v1/assets/{id}/content` → id (this runs before the route, so its params are not parsed). */
function assetIdOf(path: string): string {
  const segment = path.split('/').at(-2) ?? ''
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment
  }
}
