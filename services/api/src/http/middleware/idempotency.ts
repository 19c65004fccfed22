import { createHash } from 'node:crypto'
import type { Context, MiddlewareHandler } from 'hono'
import { type FingerprintInput, requestFingerprint } from '../../access/fingerprint.ts'
import type { Idempotency } from '../../access/idempotency-claims.ts'
import { parseIdempotencyKey } from '../../access/idempotency-key.ts'
import { captureResponse, replayResponse } from '../../access/idempotency-response.ts'
import type { ReservationClose } from '../../access/ledger-types.ts'
import { imageRules } from '../../access/rate-limit-policies.ts'
import type { RateLimiter } from '../../access/rate-limiter.ts'
import {
  idempotencyConflictError,
  invalidIdempotencyKeyError,
  rateLimitedError,
} from '../../errors/access-errors.ts'
import { rateLimitHeaders } from '../../errors/rate-limit-headers.ts'
import { routeAccess } from '../../routes/access-table.ts'
import type { ChargeContext } from '../../services/generation/billing.ts'
import { readEditForm } from '../edit-form.ts'
import type { AppEnv } from '../env.ts'
import { addResponseHeaders } from '../response-headers.ts'

export type IdempotencyLayerDeps = {
  /** The body limit an edit's buffered multipart form is read with. */
  config: { maxUploadBytes: number }
  idempotency: Idempotency
  rateLimiter: RateLimiter
}

/**
 * `Idempotency-Key` on the POSTs that create or charge (routeAccessTable's `idempotent` rows),
 * with the semantics of Stripe and of the IETF Idempotency-Key draft:
 * - the same key and the same request replay the stored answer byte for byte (one upstream
 *   call, one debit), marked `Idempotent-Replayed: true`;
 * - the same key on a different request is 422 idempotency_key_reused;
 * - while the first is still running, 409 idempotency_key_in_use with Retry-After;
 * - answers are kept 24 h, except 400s, answers that say `x-should-retry: true`, 429s and 5xx
 *   (the key is released, so the retry or the corrected request runs);
 * - a crash mid-flight leaves a lease that runs out, after which the same request takes over.
 * Every idempotent request gets a ChargeContext; with a key, the charge hands its settlement to
 * `onCommit`, and it runs in the very commit that stores the answer (settled when the answer is
 * kept, released otherwise), so no crash can keep a debit without its replayable answer. A
 * streamed answer (`stream: true`) is kept as its completed event alone: a replay is a stream
 * of that one event.
 */
export function idempotencyLayer(deps: IdempotencyLayerDeps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const row = c.get('routeAccess') ?? routeAccess(c.req.method, c.req.path)
    if (!row.idempotent) {
      return next()
    }
    const workspaceId = c.get('workspaceId')
    const limitImages = imageLimiter(c, deps.rateLimiter)
    const header = c.req.header('idempotency-key')
    if (header === undefined) {
      c.set('charge', {
        reference: c.get('requestId'),
        requestReference: c.get('requestId'),
        ...(limitImages ? { limitImages } : {}),
      })
      return next()
    }
    const parsed = parseIdempotencyKey(header)
    if (!parsed.ok) {
      throw invalidIdempotencyKeyError(parsed)
    }
    const outcome = await deps.idempotency.begin({
      workspaceId,
      key: parsed.key,
      fingerprint: requestFingerprint(await fingerprintInput(c, deps.config.maxUploadBytes)),
    })
    if (outcome.outcome === 'replay') {
      return replayResponse(outcome.response, { replayed: true })
    }
    if (outcome.outcome !== 'claimed') {
      throw idempotencyConflictError(outcome)
    }
    const { claim } = outcome
    let closeCharge: ((answerKept: boolean) => ReservationClose) | undefined
    const charge: ChargeContext = {
      reference: claim.token,
      requestReference: `idem:${claim.createdAtMs}:${parsed.key}`,
      ...(claim.superseded ? { supersededReference: claim.superseded } : {}),
      ...(limitImages ? { limitImages } : {}),
      onCommit(closing) {
        closeCharge = closing
      },
    }
    c.set('charge', charge)
    await next()
    const streamed = c.get('streamedAnswer')
    if (streamed) {
      // The events go out as they come; the key keeps the completed event (what a replay
      // answers) or is released, once the generation has ended, connected client or not.
      void streamed
        .then(async (stored) => {
          if (stored) {
            await deps.idempotency.finish(claim, stored, (way) => closeCharge?.(way === 'stored'))
          } else {
            await deps.idempotency.abandon(claim, () => closeCharge?.(false))
          }
        })
        .catch((err: unknown) => c.get('log')?.error({ err }, 'idempotency key not settled'))
      return
    }
    if (!worthKeeping(c.res)) {
      await deps.idempotency.abandon(claim, () => closeCharge?.(false))
      return
    }
    const stored = await captureResponse(c.res)
    await deps.idempotency.finish(claim, stored, (way) => closeCharge?.(way === 'stored'))
    c.res = replayResponse(stored, { replayed: false })
  }
}

/**
 * Answers not kept for replay: a 400 (the request was refused before anything ran, so the key
 * stays free for the corrected one, as Stripe does) and any answer that tells the client to
 * retry unchanged (`x-should-retry: true`: digest_mismatch after bytes were corrupted in flight,
 * an open circuit). 429 and 5xx are released by `finish` itself.
 */
function worthKeeping(response: Response): boolean {
  return response.status !== 400 && response.headers.get('x-should-retry') !== 'true'
}

/**
 * What identifies "the same request": method, path and the canonical JSON body. Multipart
 * uploads are streamed to disk and never buffered, so they are identified by the declared
 * `x-content-sha256` (the upload is refused unless the bytes match it); form fields are not
 * part of an upload's fingerprint. An edit's form is read whole (it goes upstream from memory)
 * and identified by its fields and its files' digests, never by its random boundary.
 */
async function fingerprintInput(
  c: Context<AppEnv>,
  maxEditBytes: number,
): Promise<FingerprintInput> {
  const base = { method: c.req.method, route: c.req.path }
  const contentType = c.req.header('content-type') ?? ''
  if (/^multipart\/form-data/i.test(contentType)) {
    if (c.req.path === '/v1/images/edits') {
      return { ...base, bodyDigest: `form:${(await readEditForm(c, maxEditBytes)).digest}` }
    }
    return { ...base, bodyDigest: `x-content-sha256:${c.req.header('x-content-sha256') ?? ''}` }
  }
  // Read once here; Hono caches the text, and the route's validator parses it again from there.
  const text = await c.req.text()
  try {
    return { ...base, body: JSON.parse(text) as unknown }
  } catch {
    return { ...base, bodyDigest: createHash('sha256').update(text).digest('hex') }
  }
}

/** The images-per-minute check for a principal, reporting request and image limits together. */
function imageLimiter(c: Context<AppEnv>, limiter: RateLimiter) {
  const principal = c.get('principal')
  if (!principal) {
    return undefined
  }
  return async (images: number) => {
    const requests = c.get('rateLimitPolicies') ?? []
    const decision = await limiter.check(imageRules(principal.limits, images))
    const policies = [...requests, ...decision.policies]
    if (!decision.allowed) {
      throw rateLimitedError({ ...decision, policies })
    }
    addResponseHeaders(c, rateLimitHeaders(policies))
  }
}
