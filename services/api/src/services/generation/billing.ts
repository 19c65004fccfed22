import type Sqlite from 'better-sqlite3'
import { creditsToUnits } from '../../access/credit-units.ts'
import { createGroupCommit } from '../../access/group-commit.ts'
import type { CreditLedger } from '../../access/ledger.ts'
import type { Reservation } from '../../access/ledger-types.ts'

/**
 * What the caller's layer tells a charged request, framework-neutral: the HTTP idempotency
 * middleware builds one per request.
 */
export type ChargeContext = {
  /** The ledger reference of this attempt: the idempotency attempt token, or the request id. */
  reference: string
  /**
   * One name for every attempt of one logical request (`idem:<first claim ms>:<key>`, or the
   * request id without a key): a write keyed on it happens once even if a crash made the
   * client retry, e.g. a credit grant.
   */
  requestReference: string
  /** An earlier attempt of the same request whose lease ran out (it crashed): its hold goes. */
  supersededReference?: string
  /** Spends `images` from the images-per-minute limits, or throws 429 rate_limited. */
  limitImages?(images: number): Promise<void>
  /**
   * Present when the caller commits the answer itself (an idempotency claim): the charge hands
   * it `close` instead of settling at once, and the caller runs `close` inside the transaction
   * that keeps or drops the answer, telling it whether the answer was kept. Absent: the charge
   * settles (or releases) on its own as soon as the generation ends.
   */
  onCommit?(close: (answerKept: boolean) => void): void
}

/** What the images that came back cost, in ledger units. */
export type Settlement = { units: number; images: number }

export type BillingDeps = {
  ledger: CreditLedger
  /** The ledger's connection: the superseded release and the new hold commit together. */
  durable: Sqlite.Database
}

/**
 * Credits around a generation: the worst case is held before dispatch, the images actually
 * returned are charged, and a failure gives everything back.
 */
export function createBilling(deps: BillingDeps) {
  const { ledger } = deps
  /**
   * The hold and the settlement (or release) of concurrent requests commit together, one fsync
   * per turn of the event loop (access/group-commit.ts); each still awaits its own commit, so a
   * hold is durable before its provider call and a settlement before its answer.
   */
  const commit = createGroupCommit(deps.durable)

  return {
    /**
     * The superseded attempt's release and the new hold, in one savepoint of one commit;
     * undefined when nothing is held (a free model). Throws InsufficientCreditsError.
     */
    async hold(
      workspaceId: string,
      charge: ChargeContext,
      units: number,
      modelId: string,
    ): Promise<Reservation | undefined> {
      if (units === 0 && !charge.supersededReference) {
        return undefined
      }
      return commit(() => {
        if (charge.supersededReference) {
          ledger.releaseHeldByReference(charge.supersededReference)
        }
        return units > 0
          ? ledger.reserve(workspaceId, units, charge.reference, { model: modelId })
          : undefined
      })
    },

    async settle(reservation: Reservation, settlement: Settlement): Promise<void> {
      await commit(() =>
        ledger.settle(reservation.id, settlement.units, { images: settlement.images }),
      )
    },

    async release(reservation: Reservation): Promise<void> {
      await commit(() => ledger.release(reservation.id))
    },

    /**
     * Settles or releases inside a transaction the caller already holds (no commit of its own):
     * settled when there is something to charge, released otherwise.
     */
    close(reservation: Reservation, settlement: Settlement | undefined): void {
      if (settlement) {
        ledger.settle(reservation.id, settlement.units, { images: settlement.images })
      } else {
        ledger.release(reservation.id)
      }
    },
  }
}

/** What a generation that cost `costCents` is charged, never more than was held. */
export function settlementFor(
  reservation: Reservation,
  costCents: number,
  images: number,
): Settlement {
  return { units: Math.min(reservation.amount, creditsToUnits(costCents)), images }
}

export type Billing = ReturnType<typeof createBilling>
