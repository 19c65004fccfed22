import type { Logger } from 'pino'
import type { Clock } from '../ids.ts'
import { WEBHOOK_RETRY_WINDOW_MS } from '../webhooks/retry-schedule.ts'
import type { WebhookStore } from '../webhooks/store.ts'
import { type AnnounceRecordedDeps, announceRecorded } from './announce-recorded.ts'

export type WebhookRecoveryDeps = AnnounceRecordedDeps & {
  store: Pick<WebhookStore, 'unannounced'>
  clock: Clock
  log: Pick<Logger, 'info' | 'error'>
}

export type WebhookRecoveryOptions = {
  /** Generations read and announced per query. */
  batchSize: number
  /** At most this many per pass: a backlog is worked off over several passes. */
  maxPerPass: number
}

/** Generations that finished longer ago than this are not announced late any more. */
export const RECOVERY_HORIZON_MS = WEBHOOK_RETRY_WINDOW_MS

/**
 * Writes the announcements that were owed but never written: a generation's final status is
 * committed before its announcement (the outbox rows and the `announced_at` mark, one commit
 * of their own), so a crash between the two, a failed write, or a generation closed by the
 * interrupted-generation sweep (failRunning, which announces nothing itself) leaves a finished
 * generation without its mark. A pass finds those that finished within the last 24 hours (the
 * retry window) and announces each from its record, as its end would have been announced, to
 * the endpoints subscribed now and the request's own URL.
 *
 * Safe to run anywhere, at once: the announcement is idempotent per generation, target and
 * event (the outbox's unique keys), so a pass racing the normal path, or another instance's
 * pass, gives one delivery per target. `graceMs` leaves alone what finished that recently: the
 * normal path is likely still writing it.
 */
export function createWebhookRecovery(deps: WebhookRecoveryDeps, options: WebhookRecoveryOptions) {
  let running: Promise<number> | undefined

  async function pass(graceMs: number): Promise<number> {
    const now = deps.clock.now().getTime()
    const from = new Date(now - RECOVERY_HORIZON_MS).toISOString()
    const to = new Date(now - graceMs).toISOString()
    let announced = 0
    let afterId: string | undefined
    while (announced < options.maxPerPass) {
      const limit = Math.min(options.batchSize, options.maxPerPass - announced)
      const batch = await deps.store.unannounced(from, to, { limit, afterId })
      for (const owed of batch) {
        afterId = owed.generationId
        try {
          await announceRecorded(deps, owed)
          announced += 1
        } catch (err) {
          // Left unmarked: the next pass tries again.
          deps.log.error(
            { err, generationId: owed.generationId },
            'owed webhook announcement not written',
          )
        }
      }
      if (batch.length < limit) {
        break
      }
    }
    if (announced > 0) {
      deps.log.info({ announced }, 'owed webhook announcements written')
    }
    return announced
  }

  return {
    /**
     * One bounded pass; answers how many generations it announced. A pass asked for while one
     * runs joins it rather than starting a second.
     */
    run(graceMs: number): Promise<number> {
      running ??= pass(graceMs).finally(() => {
        running = undefined
      })
      return running
    },
  }
}

export type WebhookRecovery = ReturnType<typeof createWebhookRecovery>
