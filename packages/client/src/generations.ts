import type { ApiClient } from './api-client.js'
import type { components } from './schema.js'

export type Generation = components['schemas']['Generation']
export type GenerationStatus = Generation['status']

/** A generation that has finished, whatever way: check `status`, then `assetIds` or `error`. */
export type FinishedGeneration = Generation & { status: 'succeeded' | 'failed' | 'cancelled' }

export type WaitOptions = {
  /** Stops waiting (the generation goes on; cancel it with POST /v1/generations/{id}/cancel). */
  signal?: AbortSignal
  /** Called with the record whenever its status changes, the first poll included. */
  onStatus?: (generation: Generation) => void
  /** First wait between polls when the server says nothing (default 500 ms); it grows 1.5× per poll. */
  initialIntervalMs?: number
  /** Longest wait between polls (default 5 s). */
  maxIntervalMs?: number
}

const UNFINISHED: readonly GenerationStatus[] = ['queued', 'running']

function isFinished(generation: Generation): generation is FinishedGeneration {
  return !UNFINISHED.includes(generation.status)
}

/** Seconds (or an HTTP date) of a Retry-After header, in ms; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) {
    return undefined
  }
  const seconds = Number(header)
  if (Number.isFinite(seconds) && seconds >= 0) {
    return seconds * 1000
  }
  const date = Date.parse(header)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason)
      return
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', abort)
      resolve()
    }, ms)
    const abort = () => {
      clearTimeout(timer)
      reject(signal?.reason)
    }
    signal?.addEventListener('abort', abort, { once: true })
  })
}

export function generationHelpers(client: ApiClient) {
  return {
    /**
     * Polls GET /v1/generations/{id} until the generation has finished (an asynchronous one,
     * accepted with `Prefer: respond-async`) and answers the final record. Waits what the
     * server's Retry-After says, else backs off from `initialIntervalMs` to `maxIntervalMs`.
     * Rejects with the signal's reason when it aborts, and with ImagegateError for an error
     * answer (404 for an id this key's workspace does not have).
     */
    async waitForGeneration(id: string, options: WaitOptions = {}): Promise<FinishedGeneration> {
      const { signal, onStatus } = options
      const maxIntervalMs = options.maxIntervalMs ?? 5000
      let intervalMs = options.initialIntervalMs ?? 500
      let lastStatus: GenerationStatus | undefined
      for (;;) {
        signal?.throwIfAborted()
        const { data, response } = await client.GET('/v1/generations/{id}', {
          params: { path: { id } },
          ...(signal ? { signal } : {}),
        })
        const generation = data as Generation
        if (generation.status !== lastStatus) {
          lastStatus = generation.status
          onStatus?.(generation)
        }
        if (isFinished(generation)) {
          return generation
        }
        const wait = retryAfterMs(response.headers.get('retry-after')) ?? intervalMs
        await sleep(Math.min(wait, maxIntervalMs), signal)
        intervalMs = Math.min(intervalMs * 1.5, maxIntervalMs)
      }
    },
  }
}
