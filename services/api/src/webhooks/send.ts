import http from 'node:http'
import https from 'node:https'
import type { LookupFunction } from 'node:net'
import type { CheckedTarget } from './target.ts'

/** What one attempt came to: the status (when an answer came), or why none came. */
export type AttemptResult = { statusCode: number | null; error: string | null; durationMs: number }

export type SendWebhook = (
  target: CheckedTarget,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
) => Promise<AttemptResult>

/** Answers the checked address whatever the host name: the connection makes no lookup of its own. */
function pinnedLookup(target: CheckedTarget): LookupFunction {
  const { address, family } = target.address
  return ((
    _hostname: string,
    options: { all?: boolean },
    callback: (...args: unknown[]) => void,
  ) => {
    if (options?.all) {
      callback(null, [{ address, family }])
    } else {
      callback(null, address, family)
    }
  }) as LookupFunction
}

/** How much of an answer is read (and thrown away) before the connection is let go. */
const MAX_ANSWER_BYTES = 64 * 1024

/**
 * POSTs one attempt to the checked address, with the URL's host as the Host header and the TLS
 * server name (so the certificate is checked against the name, not the address). Redirects are
 * not followed: node's client never follows them, and a 3xx counts as a failed attempt. The
 * timeout covers the whole attempt, connection to last byte of the answer's head.
 */
export const sendWebhook: SendWebhook = (target, headers, body, timeoutMs) => {
  const started = performance.now()
  const client = target.url.protocol === 'https:' ? https : http
  return new Promise<AttemptResult>((resolve) => {
    const finish = (statusCode: number | null, error: string | null) =>
      resolve({
        statusCode,
        error,
        durationMs: Math.round((performance.now() - started) * 100) / 100,
      })
    const request = client.request(
      target.url,
      {
        method: 'POST',
        headers: {
          ...headers,
          'content-length': String(Buffer.byteLength(body)),
          'user-agent': 'imagegate-webhooks',
        },
        lookup: pinnedLookup(target),
        agent: false,
      },
      (response) => {
        let read = 0
        response.on('data', (chunk: Buffer) => {
          read += chunk.length
          if (read > MAX_ANSWER_BYTES) {
            response.destroy()
          }
        })
        const done = () => {
          clearTimeout(deadline)
          finish(response.statusCode ?? null, null)
        }
        response.once('end', done)
        response.once('close', done)
        response.once('error', done)
      },
    )
    const deadline = setTimeout(() => {
      request.destroy(new Error(`no answer within ${timeoutMs} ms`))
    }, timeoutMs)
    request.once('error', (err) => {
      clearTimeout(deadline)
      finish(null, err.message)
    })
    request.end(body)
  })
}
