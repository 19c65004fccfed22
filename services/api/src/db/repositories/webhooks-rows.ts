import type { WebhookEventType } from '../../webhooks/events.ts'
import type {
  AttemptRecord,
  ClaimedDelivery,
  DeliveryWithAttempts,
  WebhookEndpoint,
} from '../../webhooks/store.ts'
import type { WebhookAttemptRow, WebhookDeliveryRow, WebhookEndpointRow } from '../schema/index.ts'

/** Rows of both dialects as the webhook port speaks of them. */
export function toEndpoint(row: WebhookEndpointRow): WebhookEndpoint {
  return { ...row, events: row.events as WebhookEventType[] }
}

/** A claimed row as the claim statement answers it (raw column names, either dialect). */
export type ClaimedRow = {
  id: string
  workspace_id: string
  endpoint_id: string | null
  url: string
  body: string
  attempts: number | string
  created_at: string
}

export function toClaimed(row: ClaimedRow, leaseToken: string): ClaimedDelivery {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    endpointId: row.endpoint_id,
    url: row.url,
    body: row.body,
    attempts: Number(row.attempts),
    createdAt: row.created_at,
    leaseToken,
  }
}

export function withAttempts(
  deliveries: WebhookDeliveryRow[],
  attempts: WebhookAttemptRow[],
): DeliveryWithAttempts[] {
  const byDelivery = new Map<string, AttemptRecord[]>()
  for (const attempt of attempts) {
    const list = byDelivery.get(attempt.deliveryId) ?? []
    list.push(attempt)
    byDelivery.set(attempt.deliveryId, list)
  }
  return deliveries.map((delivery) => ({
    id: delivery.id,
    endpointId: delivery.endpointId,
    eventType: delivery.eventType,
    generationId: delivery.generationId,
    status: delivery.status,
    attempts: (byDelivery.get(delivery.id) ?? []).sort((a, b) => a.attempt - b.attempt),
    nextAttemptAt: delivery.status === 'pending' ? Number(delivery.nextAttemptAt) : null,
    createdAt: delivery.createdAt,
    finishedAt: delivery.finishedAt,
  }))
}
