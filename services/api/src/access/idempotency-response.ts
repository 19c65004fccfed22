import type { StoredResponse } from './idempotency-store.ts'

/** Stripe's marker on a replayed answer; clients can tell a replay from a fresh run. */
export const REPLAYED_HEADER = 'idempotent-replayed'

/**
 * Headers that describe this exchange rather than the result, so they are not kept: hop-by-hop
 * fields, the per-request id, and the rate-limit state (which is the caller's *current* one).
 */
const NOT_STORED = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'content-length',
  'date',
  'set-cookie',
  'x-request-id',
  'retry-after',
  'retry-after-ms',
  'ratelimit',
  'ratelimit-policy',
  REPLAYED_HEADER,
])

const isStored = (name: string) => !NOT_STORED.has(name) && !name.startsWith('x-ratelimit-')

/** Reads a response completely into the form that is stored and replayed. */
export async function captureResponse(response: Response): Promise<StoredResponse> {
  const headers: [string, string][] = []
  response.headers.forEach((value, name) => {
    if (isStored(name)) {
      headers.push([name, value])
    }
  })
  return { status: response.status, headers, body: new Uint8Array(await response.arrayBuffer()) }
}

/**
 * A Response carrying exactly the stored status, headers and bytes. The first caller gets one of
 * these too, so the original answer and every replay are identical except for the marker.
 */
export function replayResponse(stored: StoredResponse, options: { replayed: boolean }): Response {
  const headers = new Headers(stored.headers)
  if (options.replayed) {
    headers.set(REPLAYED_HEADER, 'true')
  }
  const nullBody = stored.status === 204 || stored.status === 304
  if (!nullBody) {
    // Stated, so the first answer (whose handler may have set it) and a replay never differ.
    headers.set('content-length', String(stored.body.byteLength))
  }
  return new Response(nullBody ? null : stored.body.slice(), { status: stored.status, headers })
}
