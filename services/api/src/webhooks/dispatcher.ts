import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import type { Clock } from '../ids.ts'
import type { Random } from '../providers/resilience/backoff.ts'
import { nextAttemptAt } from './retry-schedule.ts'
import type { AttemptResult, SendWebhook } from './send.ts'
import { webhookHeaders } from './signature.ts'
import type { AttemptOutcome, ClaimedDelivery, WebhookStore } from './store.ts'
import { checkWebhookTarget, type TargetPolicy } from './target.ts'

export type DispatcherOptions = {
  store: WebhookStore
  clock: Clock
  random: Random
  policy: TargetPolicy
  send: SendWebhook
  newAttemptId: () => string
  log: Pick<Logger, 'info' | 'warn' | 'error'>
  /** Attempts in flight at once, per dispatcher. */
  concurrency: number
  /** One attempt's limit, connection to answer. */
  attemptTimeoutMs: number
  /**
   * How long a claim holds a delivery. Longer than an attempt can take (DNS, connection,
   * answer), so a lease runs out only when its dispatcher died; then another takes it over.
   */
  leaseMs: number
  /** How often an idle dispatcher looks for due deliveries (it is also woken by `notify`). */
  pollMs: number
}

/** What an attempt's result makes of the delivery: delivered, retried later, or given up. */
export function outcomeOf(
  result: AttemptResult,
  delivery: ClaimedDelivery,
  nowMs: number,
  random: Random,
): AttemptOutcome {
  const finishedAt = new Date(nowMs).toISOString()
  const status = result.statusCode
  if (status !== null && status >= 200 && status < 300) {
    return { status: 'delivered', finishedAt }
  }
  if (status === 410) {
    // The receiver says the endpoint is gone for good: stop, and stop the endpoint.
    return {
      status: 'failed',
      finishedAt,
      disableEndpoint: { reason: 'The receiver answered 410 Gone' },
    }
  }
  const next = nextAttemptAt(Date.parse(delivery.createdAt), delivery.attempts + 1, nowMs, random)
  return next === undefined
    ? { status: 'failed', finishedAt }
    : { status: 'pending', nextAttemptAt: next }
}

/**
 * Sends what the outbox holds. Each pass claims as many due deliveries as it has free slots
 * (a lease per row, so two dispatchers, in one process or two, never make the same attempt),
 * checks the target again (DNS may have changed since registration), signs and sends one
 * attempt, and records it with the delivery's next state in one transaction.
 */
export function createWebhookDispatcher(options: DispatcherOptions) {
  const { store, clock, log } = options
  const active = new Set<Promise<void>>()
  let running = false
  let loop: Promise<void> | undefined
  let wake: (() => void) | undefined

  async function attemptOnce(delivery: ClaimedDelivery): Promise<void> {
    const startedAt = clock.now()
    let result: AttemptResult
    const secret = await store.secretFor(delivery)
    if (secret === undefined) {
      result = { statusCode: null, error: 'the signing secret is gone', durationMs: 0 }
    } else {
      try {
        const target = await checkWebhookTarget(delivery.url, options.policy)
        const timestamp = Math.floor(clock.now().getTime() / 1000)
        const headers = webhookHeaders(secret, delivery.id, timestamp, delivery.body)
        result = await options.send(target, headers, delivery.body, options.attemptTimeoutMs)
      } catch (err) {
        result = {
          statusCode: null,
          error: err instanceof Error ? err.message : String(err),
          durationMs: 0,
        }
      }
    }
    const nowMs = clock.now().getTime()
    const outcome = outcomeOf(result, delivery, nowMs, options.random)
    const recorded = await store.finishAttempt(
      delivery,
      {
        id: options.newAttemptId(),
        deliveryId: delivery.id,
        attempt: delivery.attempts + 1,
        startedAt: startedAt.toISOString(),
        durationMs: result.durationMs,
        statusCode: result.statusCode,
        error: result.error,
      },
      outcome,
    )
    if (!recorded) {
      log.warn({ deliveryId: delivery.id }, 'webhook attempt outlived its lease; not recorded')
    } else if (
      outcome.status === 'failed' &&
      'disableEndpoint' in outcome &&
      outcome.disableEndpoint
    ) {
      log.warn({ endpointId: delivery.endpointId }, 'webhook endpoint disabled: 410 Gone')
    }
  }

  /** Claims what fits into the free slots and starts it; answers how many it started. */
  async function claimAndStart(): Promise<number> {
    const free = options.concurrency - active.size
    if (free <= 0) {
      return 0
    }
    const claimed = await store.claimDue(clock.now().getTime(), options.leaseMs, free, randomUUID())
    for (const delivery of claimed) {
      const task: Promise<void> = attemptOnce(delivery)
        .catch((err: unknown) =>
          log.error({ err, deliveryId: delivery.id }, 'webhook attempt failed'),
        )
        .finally(() => {
          active.delete(task)
          wake?.()
        })
      active.add(task)
    }
    return claimed.length
  }

  function nap(ms: number) {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms)
      function done() {
        clearTimeout(timer)
        wake = undefined
        resolve()
      }
      wake = done
    })
  }

  return {
    /** Claims every due delivery that fits, and waits until their attempts are recorded. */
    async runDue(): Promise<number> {
      const started = await claimAndStart()
      await Promise.all([...active])
      return started
    },

    /** Runs until `stop`: claims whenever a slot is free, naps when nothing is due. */
    start() {
      if (running) {
        return
      }
      running = true
      loop = (async () => {
        while (running) {
          let started = 0
          try {
            started = await claimAndStart()
          } catch (err) {
            log.error({ err }, 'webhook outbox claim failed')
          }
          if (running && (started === 0 || active.size >= options.concurrency)) {
            await nap(options.pollMs)
          }
        }
      })()
    },

    /** A delivery was written: look now rather than at the next poll. */
    notify() {
      wake?.()
    },

    /** Stops claiming and waits for the attempts in flight to be recorded. */
    async stop() {
      running = false
      wake?.()
      await loop
      await Promise.allSettled([...active])
    },
  }
}

export type WebhookDispatcher = ReturnType<typeof createWebhookDispatcher>
