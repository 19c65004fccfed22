import { z } from '@hono/zod-openapi'
import { CREDIT_UNIT, isWholeCreditUnits } from '../access/credit-units.ts'
import { SCOPES } from '../access/scopes.ts'

const WORKSPACE_ID_EXAMPLE = 'ws_01J9Z7Q8R4M2XK5T3B6N8V0WQC'
const KEY_ID_EXAMPLE = 'key_01J9Z7Q8R4M2XK5T3B6N8V0WQD'
const CREATED_AT_EXAMPLE = '2026-11-21T10:00:00.000Z'

/** Path parameter of the workspace routes: `default`, or an id this server issued. */
export const WorkspaceIdParamSchema = z
  .string()
  .min(1)
  .max(64)
  .openapi({
    param: { name: 'id', in: 'path', example: WORKSPACE_ID_EXAMPLE },
    example: WORKSPACE_ID_EXAMPLE,
  })

export const KeyIdParamSchema = z
  .string()
  .min(1)
  .max(64)
  .openapi({
    param: { name: 'keyId', in: 'path', example: KEY_ID_EXAMPLE },
    example: KEY_ID_EXAMPLE,
  })

/** A balance is a sum of grants: no single grant's maximum bounds it. */
const Credits = z.number().min(0)

const MAX_CREDITS = 1_000_000_000

/**
 * An amount the ledger books exactly: whole units of 0.001 credit. Checked on the decimal form
 * (credit-units.ts), so 0.07 passes where a floating-point multipleOf would refuse it; the
 * document states the unit as `multipleOf`.
 */
function bookableCredits(minimum: number) {
  return z
    .number()
    .min(minimum)
    .max(MAX_CREDITS)
    .refine(isWholeCreditUnits, {
      message: `Must be a multiple of ${CREDIT_UNIT} credits, the smallest amount the ledger books`,
    })
    .openapi({ multipleOf: CREDIT_UNIT })
}

export const WorkspaceSchema = z
  .strictObject({
    id: z.string().openapi({ example: WORKSPACE_ID_EXAMPLE }),
    name: z.string(),
    balance: Credits.openapi({ description: 'Spendable credits (1 credit = 1 US cent)' }),
    createdAt: z.string().datetime().openapi({ example: CREATED_AT_EXAMPLE }),
  })
  .openapi('Workspace', {
    example: {
      id: WORKSPACE_ID_EXAMPLE,
      name: 'Acme',
      balance: 500,
      createdAt: CREATED_AT_EXAMPLE,
    },
  })

export const WorkspaceCreateSchema = z
  .object({
    name: z.string().min(1).max(200),
    initialCredits: bookableCredits(0)
      .default(0)
      .openapi({
        description: `Credits granted in the same commit that creates the workspace, in whole units of ${CREDIT_UNIT} credit`,
      }),
  })
  .openapi('WorkspaceCreate', { example: { name: 'Acme', initialCredits: 500 } })

export const WorkspaceListSchema = z
  .strictObject({ data: z.array(WorkspaceSchema) })
  .openapi('WorkspaceList')

const PerMinute = z.number().int().min(1).max(1_000_000_000).nullable()

export const RateLimitsSchema = z
  .strictObject({
    requestsPerMinute: PerMinute.openapi({
      description: "Requests per minute; null: no limit of the key's own",
    }),
    imagesPerMinute: PerMinute.openapi({
      description:
        "Images per minute (a generation of n images counts n); null: no limit of the key's own",
    }),
  })
  .openapi('RateLimits', { example: { requestsPerMinute: 60, imagesPerMinute: 30 } })

export const ScopeSchema = z.enum(SCOPES).openapi({
  description: 'admin ⊇ generate ⊇ read. admin manages every workspace, key and credit balance.',
})

const API_KEY_EXAMPLE = {
  id: KEY_ID_EXAMPLE,
  workspaceId: WORKSPACE_ID_EXAMPLE,
  name: 'render worker',
  scopes: ['generate'],
  rateLimits: { requestsPerMinute: 60, imagesPerMinute: 30 },
  displayPrefix: 'igk_4fT9xQ2a',
  last4: 'Zk3P',
  createdAt: CREATED_AT_EXAMPLE,
  revokedAt: null,
}

export const ApiKeySchema = z
  .strictObject({
    id: z.string().openapi({ example: KEY_ID_EXAMPLE }),
    workspaceId: z.string().openapi({ example: WORKSPACE_ID_EXAMPLE }),
    name: z.string().nullable(),
    scopes: z.array(ScopeSchema),
    rateLimits: RateLimitsSchema,
    displayPrefix: z.string().openapi({ example: 'igk_4fT9xQ2a' }),
    last4: z.string().openapi({ example: 'Zk3P' }),
    createdAt: z.string().datetime().openapi({ example: CREATED_AT_EXAMPLE }),
    revokedAt: z.string().datetime().nullable(),
  })
  .openapi('ApiKey', { example: API_KEY_EXAMPLE })

export const ApiKeyCreateSchema = z
  .object({
    name: z.string().min(1).max(200).optional(),
    scopes: z.array(ScopeSchema).min(1),
    rateLimits: z
      .object({ requestsPerMinute: PerMinute.optional(), imagesPerMinute: PerMinute.optional() })
      .optional()
      .openapi({ description: 'Omitted limits take the server defaults' }),
  })
  .openapi('ApiKeyCreate', {
    example: { name: 'render worker', scopes: ['generate'], rateLimits: { imagesPerMinute: 10 } },
  })

const KEY_EXAMPLE = 'igk_4fT9xQ2aVbN7mLpR8sKdE3wYhJ6cGuZt1oXiA5qWnB0e9Zk3P'

/**
 * An ApiKey and the key itself, as one closed object of its own: an extension of ApiKey would
 * be documented as an allOf of two closed objects, which no answer can satisfy.
 */
export const ApiKeyCreatedSchema = z
  .strictObject({
    ...ApiKeySchema.shape,
    key: z.string().openapi({
      description: 'The API key itself. Shown once, here: only its sha256 is stored.',
      example: KEY_EXAMPLE,
    }),
  })
  .openapi('ApiKeyCreated', {
    example: { ...API_KEY_EXAMPLE, key: KEY_EXAMPLE },
  })

export const ApiKeyListSchema = z
  .strictObject({ data: z.array(ApiKeySchema) })
  .openapi('ApiKeyList')

export const CreditGrantSchema = z
  .object({
    amount: bookableCredits(CREDIT_UNIT).openapi({
      description: `Credits to add, in whole units of ${CREDIT_UNIT} credit (at least one)`,
    }),
  })
  .openapi('CreditGrant', { example: { amount: 1000 } })

export const CreditGrantResultSchema = z
  .strictObject({
    workspaceId: z.string(),
    granted: z.number().openapi({ description: 'Credits booked by this grant' }),
    balance: Credits,
  })
  .openapi('CreditGrantResult', {
    example: { workspaceId: WORKSPACE_ID_EXAMPLE, granted: 1000, balance: 1500 },
  })

export const UsageSchema = z
  .strictObject({
    workspaceId: z.string(),
    balance: Credits.openapi({ description: 'Spendable credits now (held reservations deducted)' }),
    granted: z.number().openapi({ description: 'All credits ever granted' }),
    spent: z.number().openapi({ description: 'Credits charged for images returned' }),
    held: z.number().openapi({ description: 'Credits reserved by generations still running' }),
    byDayAndModel: z.array(
      z.strictObject({
        day: z.string().openapi({ description: 'UTC day of settlement', example: '2026-11-21' }),
        model: z.string().nullable(),
        requests: z.number().int(),
        images: z.number().int(),
        spent: z.number(),
      }),
    ),
  })
  .openapi('Usage', {
    example: {
      workspaceId: WORKSPACE_ID_EXAMPLE,
      balance: 1483.3,
      granted: 1500,
      spent: 16.7,
      held: 0,
      byDayAndModel: [
        { day: '2026-11-21', model: 'gpt-image-1', requests: 1, images: 1, spent: 16.7 },
      ],
    },
  })
