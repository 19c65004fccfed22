import { createHmac, randomBytes } from 'node:crypto'

const SECRET_PREFIX = 'whsec_'

/** A new signing secret: `whsec_` and 32 random bytes in base64, as Standard Webhooks spells it. */
export function newWebhookSecret(random: (size: number) => Buffer = randomBytes): string {
  return `${SECRET_PREFIX}${random(32).toString('base64')}`
}

/**
 * The `webhook-signature` header of one attempt (Standard Webhooks): `v1,` and the base64
 * HMAC-SHA256 of `id.timestamp.body`, keyed with the bytes the secret's base64 part decodes to.
 */
export function signWebhook(secret: string, id: string, timestampSeconds: number, body: string) {
  const key = Buffer.from(
    secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret,
    'base64',
  )
  const mac = createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64')
  return `v1,${mac}`
}

/** The three headers of one attempt, with the body's type. */
export function webhookHeaders(secret: string, id: string, timestampSeconds: number, body: string) {
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': signWebhook(secret, id, timestampSeconds, body),
  }
}
