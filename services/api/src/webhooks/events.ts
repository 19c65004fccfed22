/**
 * The events a delivery announces; an endpoint subscribes to a subset. A cancelled generation
 * (POST /v1/generations/{id}/cancel) is its own event, not a failure: nothing went wrong, and
 * an endpoint that alerts on failures need not hear of it.
 */
export const WEBHOOK_EVENTS = [
  'generation.succeeded',
  'generation.failed',
  'generation.cancelled',
] as const
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number]

/** An image a generation stored, as the event names it: never its bytes. */
export type WebhookAssetRef = { assetId: string; contentHash: string; cdnUrl: string }

/** A generation that reached its final status, as the event reports it. */
export type FinishedGeneration = {
  id: string
  workspaceId: string
  status: 'succeeded' | 'failed' | 'cancelled'
  operation: string
  model: string
  assets: WebhookAssetRef[]
  error: { code: string; message: string } | null
  /** The request's own `webhook_url`, delivered besides the workspace's endpoints. */
  webhookUrl?: string | undefined
}

/**
 * The body of a delivery: small, and the same bytes on every attempt (the signature covers
 * them). A receiver fetches the images through `cdnUrl` with its own key.
 */
export function webhookBody(
  generation: FinishedGeneration,
  at: Date,
): { type: WebhookEventType; body: string } {
  const type: WebhookEventType = `generation.${generation.status}`
  const body = JSON.stringify({
    type,
    timestamp: at.toISOString(),
    data: {
      generationId: generation.id,
      status: generation.status,
      operation: generation.operation,
      model: generation.model,
      assets: generation.assets,
      error: generation.error,
    },
  })
  return { type, body }
}
