import { z } from '@hono/zod-openapi'
import { WEBHOOK_EVENTS } from '../webhooks/events.ts'
import { pageOf } from './pagination.ts'

const WEBHOOK_ID_EXAMPLE = 'whk_01J9Z7Q8R4M2XK5T3B6N8V0WQE'
const WORKSPACE_ID_EXAMPLE = 'ws_01J9Z7Q8R4M2XK5T3B6N8V0WQC'
const CREATED_AT_EXAMPLE = '2026-11-21T10:00:00.000Z'
const SECRET_EXAMPLE = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'

/** `webhook_url` / `webhookUrl` on a generation request. */
export const RequestWebhookUrlSchema = z
  .string()
  .min(1)
  .max(2048)
  .openapi({
    description:
      'Where to POST a signed `generation.succeeded` or `generation.failed` event (Standard ' +
      "Webhooks) when this generation is done, signed with the workspace's webhook signing " +
      'secret. https only; its host must resolve to public addresses (400 unsafe_webhook_url).',
    example: 'https://example.com/hooks/imagegate',
  })

export const WebhookIdParamSchema = z
  .string()
  .min(1)
  .max(64)
  .openapi({
    param: { name: 'webhookId', in: 'path', example: WEBHOOK_ID_EXAMPLE },
    example: WEBHOOK_ID_EXAMPLE,
  })

export const WebhookEventSchema = z.enum(WEBHOOK_EVENTS)

export const WebhookCreateSchema = z
  .object({
    url: z.string().min(1).max(2048).openapi({
      description: 'https, on a host that resolves to public addresses only',
    }),
    events: z.array(WebhookEventSchema).min(1).max(WEBHOOK_EVENTS.length),
    description: z.string().max(500).optional(),
  })
  .openapi('WebhookCreate', {
    example: {
      url: 'https://example.com/hooks/imagegate',
      events: ['generation.succeeded', 'generation.failed'],
      description: 'render pipeline',
    },
  })

const ENDPOINT_EXAMPLE = {
  id: WEBHOOK_ID_EXAMPLE,
  workspaceId: WORKSPACE_ID_EXAMPLE,
  url: 'https://example.com/hooks/imagegate',
  events: ['generation.succeeded', 'generation.failed'],
  description: 'render pipeline',
  createdAt: CREATED_AT_EXAMPLE,
  disabledAt: null,
  disabledReason: null,
}

const endpointShape = {
  id: z.string().openapi({ example: WEBHOOK_ID_EXAMPLE }),
  workspaceId: z.string(),
  url: z.string(),
  events: z.array(WebhookEventSchema),
  description: z.string().nullable(),
  createdAt: z.string().datetime(),
  disabledAt: z.string().datetime().nullable().openapi({
    description: 'When the receiver answered 410 Gone: no more deliveries are made to it',
  }),
  disabledReason: z.string().nullable(),
}

export const WebhookSchema = z
  .strictObject(endpointShape)
  .openapi('Webhook', { example: ENDPOINT_EXAMPLE })

export const WebhookCreatedSchema = z
  .strictObject({
    ...endpointShape,
    secret: z.string().openapi({
      description:
        'The signing secret (Standard Webhooks `whsec_`), shown this once: verify each ' +
        "delivery's `webhook-signature` with it.",
      example: SECRET_EXAMPLE,
    }),
  })
  .openapi('WebhookCreated', { example: { ...ENDPOINT_EXAMPLE, secret: SECRET_EXAMPLE } })

export const WebhookListSchema = z
  .strictObject({ data: z.array(WebhookSchema) })
  .openapi('WebhookList')

export const WebhookAttemptSchema = z
  .strictObject({
    attempt: z.number().int().min(1),
    startedAt: z.string().datetime(),
    durationMs: z.number().min(0),
    statusCode: z.number().int().nullable().openapi({ description: "The receiver's status" }),
    error: z.string().nullable().openapi({ description: 'Why no answer came (timeout, refused…)' }),
  })
  .openapi('WebhookAttempt')

export const WebhookDeliverySchema = z
  .strictObject({
    id: z.string().openapi({
      description: 'The `webhook-id` of every attempt',
      example: 'msg_01J9Z7Q8R4M2XK5T3B6N8V0WQF',
    }),
    endpointId: z.string().nullable(),
    eventType: z.string(),
    generationId: z.string(),
    status: z.enum(['pending', 'delivered', 'failed']),
    attempts: z.array(WebhookAttemptSchema),
    nextAttemptAt: z.string().datetime().nullable(),
    createdAt: z.string().datetime(),
    finishedAt: z.string().datetime().nullable(),
  })
  .openapi('WebhookDelivery', {
    example: {
      id: 'msg_01J9Z7Q8R4M2XK5T3B6N8V0WQF',
      endpointId: WEBHOOK_ID_EXAMPLE,
      eventType: 'generation.succeeded',
      generationId: 'gen_01J9Z7Q8R4M2XK5T3B6N8V0WQG',
      status: 'delivered',
      attempts: [
        {
          attempt: 1,
          startedAt: CREATED_AT_EXAMPLE,
          durationMs: 41.3,
          statusCode: 503,
          error: null,
        },
        {
          attempt: 2,
          startedAt: '2026-11-21T10:00:04.120Z',
          durationMs: 38.9,
          statusCode: 200,
          error: null,
        },
      ],
      nextAttemptAt: null,
      createdAt: CREATED_AT_EXAMPLE,
      finishedAt: '2026-11-21T10:00:04.159Z',
    },
  })

export const WebhookDeliveryPageSchema = pageOf(WebhookDeliverySchema, 'WebhookDeliveryPage')

export const WebhookSigningSecretSchema = z
  .strictObject({
    secret: z.string().openapi({ example: SECRET_EXAMPLE }),
    createdAt: z.string().datetime(),
  })
  .openapi('WebhookSigningSecret', {
    example: { secret: SECRET_EXAMPLE, createdAt: CREATED_AT_EXAMPLE },
  })
