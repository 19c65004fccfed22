import { AppError, NotFoundError } from '../errors/app-error.ts'
import type { Clock, IdGenerator } from '../ids.ts'
import { type FinishedGeneration, type WebhookEventType, webhookBody } from '../webhooks/events.ts'
import type {
  DeliveryWithAttempts,
  NewDelivery,
  WebhookEndpoint,
  WebhookStore,
} from '../webhooks/store.ts'
import {
  checkWebhookTarget,
  type TargetPolicy,
  UnsafeWebhookTargetError,
} from '../webhooks/target.ts'

export type WebhookServiceDeps = {
  store: WebhookStore
  workspaces: { exists(id: string): boolean | Promise<boolean> }
  ids: IdGenerator
  clock: Clock
  policy: TargetPolicy
  newSecret: () => string
  /** Called once deliveries are written: the dispatcher looks at once instead of at its next poll. */
  onEnqueued: () => void
}

/** An endpoint as the API shows it: everything but the secret. */
export type WebhookEndpointInfo = Omit<WebhookEndpoint, 'secret'>

const toInfo = ({ secret: _secret, ...info }: WebhookEndpoint): WebhookEndpointInfo => info

export type WebhookDeliveryInfo = Omit<DeliveryWithAttempts, 'nextAttemptAt' | 'attempts'> & {
  nextAttemptAt: string | null
  attempts: {
    attempt: number
    startedAt: string
    durationMs: number
    statusCode: number | null
    error: string | null
  }[]
}

function toDeliveryInfo(delivery: DeliveryWithAttempts): WebhookDeliveryInfo {
  return {
    ...delivery,
    nextAttemptAt:
      delivery.nextAttemptAt === null ? null : new Date(delivery.nextAttemptAt).toISOString(),
    attempts: delivery.attempts.map(({ attempt, startedAt, durationMs, statusCode, error }) => ({
      attempt,
      startedAt,
      durationMs,
      statusCode,
      error,
    })),
  }
}

/**
 * Webhooks as the API offers them: endpoints a workspace registers, the signing secret of a
 * request's own `webhook_url`, and the announcement of a finished generation, which writes one
 * outbox row per target for the dispatcher (webhooks/dispatcher.ts) to send.
 */
export function createWebhookService(deps: WebhookServiceDeps) {
  const { store, clock } = deps

  async function requireWorkspace(workspaceId: string) {
    if (!(await deps.workspaces.exists(workspaceId))) {
      throw new NotFoundError('workspace', workspaceId)
    }
  }

  async function requireEndpoint(workspaceId: string, id: string) {
    await requireWorkspace(workspaceId)
    const endpoint = await store.getEndpoint(workspaceId, id)
    if (!endpoint) {
      throw new NotFoundError('webhook', id)
    }
    return endpoint
  }

  /** 400 unsafe_webhook_url unless the URL is one a webhook may be sent to (DNS checked too). */
  async function checkUrl(url: string, param: string): Promise<void> {
    try {
      await checkWebhookTarget(url, deps.policy)
    } catch (err) {
      if (err instanceof UnsafeWebhookTargetError) {
        throw new AppError('unsafe_webhook_url', err.message, { param })
      }
      throw err
    }
  }

  return {
    checkUrl,

    /** A new endpoint, with its secret: the only time the secret is shown. */
    async register(
      workspaceId: string,
      input: { url: string; events: WebhookEventType[]; description?: string | undefined },
    ): Promise<WebhookEndpointInfo & { secret: string }> {
      await requireWorkspace(workspaceId)
      await checkUrl(input.url, 'url')
      const endpoint: WebhookEndpoint = {
        id: deps.ids('whk'),
        workspaceId,
        url: input.url,
        events: [...new Set(input.events)],
        description: input.description ?? null,
        secret: deps.newSecret(),
        createdAt: clock.now().toISOString(),
        disabledAt: null,
        disabledReason: null,
      }
      await store.createEndpoint(endpoint)
      return { ...toInfo(endpoint), secret: endpoint.secret }
    },

    async list(workspaceId: string): Promise<WebhookEndpointInfo[]> {
      await requireWorkspace(workspaceId)
      return (await store.listEndpoints(workspaceId)).map(toInfo)
    },

    /** Deletes the endpoint; its pending deliveries go with it. 404 for an id it does not have. */
    async remove(workspaceId: string, id: string): Promise<void> {
      await requireWorkspace(workspaceId)
      if (!(await store.deleteEndpoint(workspaceId, id))) {
        throw new NotFoundError('webhook', id)
      }
    },

    async deliveries(
      workspaceId: string,
      id: string,
      page: { limit: number; afterId?: string | undefined },
    ): Promise<WebhookDeliveryInfo[]> {
      await requireEndpoint(workspaceId, id)
      return (await store.listDeliveries(workspaceId, id, page)).map(toDeliveryInfo)
    },

    /**
     * A new signing secret for the workspace's request-level webhooks, replacing the old one at
     * once (deliveries still pending are signed with the new one). Shown this once.
     */
    async rotateSigningSecret(workspaceId: string): Promise<{ secret: string; createdAt: string }> {
      await requireWorkspace(workspaceId)
      const secret = deps.newSecret()
      const createdAt = clock.now().toISOString()
      await store.replaceSigningSecret(workspaceId, secret, createdAt)
      return { secret, createdAt }
    },

    /**
     * Writes the announcement of a generation that reached its final status: one outbox row
     * per enabled endpoint subscribed to the event, and one for the request's own URL (whose
     * workspace signing secret is made on this first use if it has none), with the
     * generation's `announced_at` mark in the same commit; only the mark when nothing listens.
     * Idempotent: announcing a generation again adds no second delivery for a target, so the
     * recovery pass (webhook-recovery.ts) may race the normal path.
     */
    async announce(generation: FinishedGeneration): Promise<void> {
      const now = clock.now()
      const { type, body } = webhookBody(generation, now)
      const endpoints = await store.subscribers(generation.workspaceId, type)
      const targets: { endpointId: string | null; url: string }[] = endpoints.map((endpoint) => ({
        endpointId: endpoint.id,
        url: endpoint.url,
      }))
      if (generation.webhookUrl) {
        await store.signingSecret(generation.workspaceId, deps.newSecret, now.toISOString())
        targets.push({ endpointId: null, url: generation.webhookUrl })
      }
      const deliveries: NewDelivery[] = targets.map((target) => ({
        id: deps.ids('msg'),
        workspaceId: generation.workspaceId,
        ...target,
        eventType: type,
        generationId: generation.id,
        body,
        createdAt: now.toISOString(),
        nextAttemptAt: now.getTime(),
      }))
      if ((await store.writeAnnouncement(generation.id, deliveries, now.toISOString())) > 0) {
        deps.onEnqueued()
      }
    },
  }
}

export type WebhookService = ReturnType<typeof createWebhookService>
