import type { WebhookEventType } from './events.ts'

export type WebhookEndpoint = {
  id: string
  workspaceId: string
  url: string
  events: WebhookEventType[]
  description: string | null
  secret: string
  createdAt: string
  disabledAt: string | null
  disabledReason: string | null
}

export type NewDelivery = {
  id: string
  workspaceId: string
  endpointId: string | null
  url: string
  eventType: WebhookEventType
  generationId: string
  body: string
  createdAt: string
  nextAttemptAt: number
}

/** A delivery a dispatcher holds the lease of: it alone may make and record its next attempt. */
export type ClaimedDelivery = {
  id: string
  workspaceId: string
  endpointId: string | null
  url: string
  body: string
  /** Attempts made before this one. */
  attempts: number
  createdAt: string
  leaseToken: string
}

export type AttemptRecord = {
  id: string
  deliveryId: string
  attempt: number
  startedAt: string
  durationMs: number
  statusCode: number | null
  error: string | null
}

/** What an attempt leaves the delivery in, and (on 410 Gone) the endpoint it disables. */
export type AttemptOutcome =
  | { status: 'pending'; nextAttemptAt: number }
  | { status: 'delivered' | 'failed'; finishedAt: string; disableEndpoint?: { reason: string } }

export type DeliveryWithAttempts = {
  id: string
  endpointId: string | null
  eventType: string
  generationId: string
  status: 'pending' | 'delivered' | 'failed'
  attempts: AttemptRecord[]
  nextAttemptAt: number | null
  createdAt: string
  finishedAt: string | null
}

/** A finished generation whose announcement was never written. */
export type OwedAnnouncement = {
  generationId: string
  workspaceId: string
  status: 'succeeded' | 'failed' | 'cancelled'
}

/**
 * The webhook port: endpoints, the per-workspace signing secret and the outbox. Async so that
 * SQLite (embedded) and PostgreSQL (scale-out) adapters implement it alike
 * (db/repositories/webhooks-sqlite.ts, webhooks-pg.ts), both held to one suite
 * (testing/describe-webhook-store.ts).
 */
export type WebhookStore = {
  createEndpoint(endpoint: WebhookEndpoint): Promise<void>
  /** Oldest first. */
  listEndpoints(workspaceId: string): Promise<WebhookEndpoint[]>
  getEndpoint(workspaceId: string, id: string): Promise<WebhookEndpoint | undefined>
  /** Deletes the endpoint with its deliveries and their attempts; false when there was none. */
  deleteEndpoint(workspaceId: string, id: string): Promise<boolean>
  /** The workspace's enabled endpoints subscribed to `eventType`. */
  subscribers(workspaceId: string, eventType: WebhookEventType): Promise<WebhookEndpoint[]>

  /** The workspace's signing secret; `create` is stored when it has none (first use). */
  signingSecret(workspaceId: string, create: () => string, createdAt: string): Promise<string>
  /** Replaces the workspace's signing secret (or sets its first). */
  replaceSigningSecret(workspaceId: string, secret: string, createdAt: string): Promise<void>

  /**
   * Writes the announcement of a finished generation in one transaction: its deliveries (all
   * of them for the generation, a delivery for a generation, target and event already written
   * is kept, not doubled) and the generation's `announced_at` mark, set if it was not. Answers
   * how many deliveries were new. Announcing twice, at once or later, gives one delivery per
   * target.
   */
  writeAnnouncement(
    generationId: string,
    deliveries: NewDelivery[],
    announcedAt: string,
  ): Promise<number>
  /**
   * Finished generations (succeeded, failed or cancelled) whose announcement is owed (no
   * `announced_at`) and that finished between `finishedFrom` and `finishedTo` (inclusive,
   * ISO instants), oldest id first after `afterId`, at most `limit`. A generation whose job has
   * not ended is left out: the job's end is announced by whoever ends it.
   */
  unannounced(
    finishedFrom: string,
    finishedTo: string,
    page: { limit: number; afterId?: string | undefined },
  ): Promise<OwedAnnouncement[]>
  /**
   * Takes the lease of up to `limit` pending deliveries that are due at `nowMs` and whose
   * lease (if any) has run out. Two dispatchers never hold the same delivery at once.
   */
  claimDue(
    nowMs: number,
    leaseMs: number,
    limit: number,
    leaseToken: string,
  ): Promise<ClaimedDelivery[]>
  /** The secret that signs this delivery: its endpoint's, or the workspace's signing secret. */
  secretFor(delivery: ClaimedDelivery): Promise<string | undefined>
  /**
   * Records an attempt and moves the delivery on, in one transaction, if the lease is still
   * this dispatcher's; false (nothing written) when it is not.
   */
  finishAttempt(
    delivery: ClaimedDelivery,
    attempt: AttemptRecord,
    outcome: AttemptOutcome,
  ): Promise<boolean>
  /** An endpoint's deliveries, newest first, each with its attempts, after `afterId`. */
  listDeliveries(
    workspaceId: string,
    endpointId: string,
    page: { limit: number; afterId?: string | undefined },
  ): Promise<DeliveryWithAttempts[]>
  close?(): Promise<void>
}
