import { creditsToUnits } from '../../access/credit-units.ts'
import type { Ledger } from '../../access/ledger.ts'
import type { Reservation, ReservationClose } from '../../access/ledger-types.ts'

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
   * it `closing` instead of settling at once, and the caller asks it, telling it whether the
   * answer is kept, for the ReservationClose to commit together with the answer. Absent: the
   * charge settles (or releases) on its own as soon as the generation ends.
   */
  onCommit?(closing: (answerKept: boolean) => ReservationClose): void
}

/** What the images that came back cost, in ledger units. */
export type Settlement = { units: number; images: number }

export type BillingDeps = { ledger: Ledger }

/**
 * Credits around a generation: the worst case is held before dispatch, the images actually
 * returned are charged, and a failure gives everything back. Each call resolves once its commit
 * is durable, so a hold is durable before its provider call and a settlement before its answer.
 */
export function createBilling(deps: BillingDeps) {
  const { ledger } = deps

  return {
    /**
     * The superseded attempt's release and the new hold, in one commit; undefined when nothing
     * is held (a free model). Throws InsufficientCreditsError.
     */
    async hold(
      workspaceId: string,
      charge: ChargeContext,
      units: number,
      modelId: string,
    ): Promise<Reservation | undefined> {
      if (units === 0) {
        if (charge.supersededReference) {
          await ledger.releaseHeldByReference(charge.supersededReference)
        }
        return undefined
      }
      return ledger.reserve(workspaceId, units, charge.reference, {
        model: modelId,
        ...(charge.supersededReference ? { supersedes: charge.supersededReference } : {}),
      })
    },

    async settle(reservation: Reservation, settlement: Settlement): Promise<void> {
      await ledger.settle(reservation.id, settlement.units, { images: settlement.images })
    },

    async release(reservation: Reservation): Promise<void> {
      await ledger.release(reservation.id)
    },

    /**
     * How to close the hold inside a commit the caller makes: settled when there is something
     * to charge, released otherwise.
     */
    closing(reservation: Reservation, settlement: Settlement | undefined): ReservationClose {
      return settlement
        ? {
            reservationId: reservation.id,
            charge: { units: settlement.units, images: settlement.images },
          }
        : { reservationId: reservation.id }
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
