import type { Logger } from 'pino'
import type { StoredResponse } from '../access/idempotency-store.ts'
import type { PolicyState } from '../access/rate-limiter.ts'
import type { RouteAccess } from '../access/scopes.ts'
import type { Principal } from '../services/access/api-keys.ts'
import type { ChargeContext } from '../services/generation/billing.ts'

/** Per-request context variables, set by the middleware in app.ts. */
export type AppEnv = {
  Variables: {
    requestId: string
    log: Logger
    /** The workspace of the API key (or of the signed URL's asset). */
    workspaceId: string
    /** The row of routeAccessTable this request matched. */
    routeAccess: RouteAccess
    /** The API key the request runs as; absent on public routes and signed URLs. */
    principal?: Principal
    /** The request-count limits this request passed, for the response headers. */
    rateLimitPolicies?: PolicyState[]
    /** Set on idempotent POSTs: the ledger references and where a charge commits. */
    charge?: ChargeContext
    /**
     * Set by a streamed answer: settles once its generation has, to the answer a replay of the
     * request gives (the completed event alone), or undefined when it failed.
     */
    streamedAnswer?: Promise<StoredResponse | undefined>
    /** `skill`: errors answer as `{ ok: false, error }` (the skill envelope). */
    errorEnvelope?: 'skill'
  }
}
