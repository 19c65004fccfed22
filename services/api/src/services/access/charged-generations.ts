import type Sqlite from 'better-sqlite3'
import { creditsToUnits } from '../../access/credit-units.ts'
import { fromAccessError } from '../../access/errors.ts'
import { createGroupCommit } from '../../access/group-commit.ts'
import type { CreditLedger } from '../../access/ledger.ts'
import { InsufficientCreditsError } from '../../access/ledger-errors.ts'
import type { Catalog } from '../../catalog/catalog.ts'
import type {
  GenerationInput,
  GenerationOutcome,
  GenerationService,
} from '../generation/generate.ts'
import { planGeneration } from '../generation/plan.ts'

/**
 * What the HTTP layer tells a charged request, and what it hears back. Framework-neutral: the
 * idempotency middleware builds one per request and closes `pending` in the same commit as the
 * stored answer.
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
  /**
   * True when an idempotency claim owns the request: the settlement is then left in `pending`
   * for the middleware to commit together with the stored answer.
   */
  settleLater: boolean
  /** Spends `images` from the images-per-minute limits, or throws 429 rate_limited. */
  limitImages?(images: number): void
  pending?: PendingCharge
}

export type PendingCharge = {
  reservationId: string
  /** Set once the images are stored: what they cost. Absent: the generation failed. */
  settle?: { units: number; images: number }
}

export type ChargedGenerationsDeps = {
  generations: GenerationService
  catalog: Catalog
  ledger: CreditLedger
  /** The ledger's connection: the superseded release and the new hold commit together. */
  durable: Sqlite.Database
  /** Mock mode answers every model from the local renderer, for free. */
  mockImages: boolean
  /** A fresh ledger reference, for a request that came without a ChargeContext. */
  newReference: () => string
}

/**
 * Credits around `generations.generate`: the worst case (price × n) is held before dispatch,
 * the images actually returned are charged, and a failure gives everything back. Not enough
 * credits: 402 insufficient_credits with cost and balance, before any upstream call. Free
 * models (the local renderer, mock mode) never touch the ledger.
 */
export function createChargedGenerations(deps: ChargedGenerationsDeps) {
  const { ledger } = deps
  /**
   * The hold and the settlement (or release) of concurrent requests commit together, one fsync
   * per turn of the event loop (access/group-commit.ts); each still awaits its own commit, so a
   * hold is durable before its provider call and a settlement before its answer.
   */
  const commit = createGroupCommit(deps.durable)

  /** Model and worst-case cost, or undefined when the request is refused anyway. */
  function quote(input: GenerationInput) {
    try {
      const model = deps.catalog.resolve(input.model)
      const plan = planGeneration(model, input)
      const units = deps.mockImages ? 0 : creditsToUnits(plan.unitCostCents * plan.n)
      return { modelId: model.id, images: plan.n, units }
    } catch {
      // generations.generate refuses it again, with the same error, and records the refusal.
      return undefined
    }
  }

  /** The superseded attempt's release and the new hold, in one savepoint of one commit. */
  async function hold(workspaceId: string, charge: ChargeContext, units: number, modelId: string) {
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
  }

  return {
    /**
     * `generations.generate` with credits. `charge` comes from the idempotency layer
     * (`c.get('charge')`); without one the request is charged on its own, settled at once.
     */
    async generate(
      given: ChargeContext | undefined,
      workspaceId: string,
      input: GenerationInput,
    ): Promise<GenerationOutcome> {
      const charge: ChargeContext = given ?? {
        reference: deps.newReference(),
        requestReference: '',
        settleLater: false,
      }
      const quoted = quote(input)
      if (!quoted) {
        return deps.generations.generate(workspaceId, input)
      }
      charge.limitImages?.(quoted.images)
      let reservation: Awaited<ReturnType<typeof hold>>
      try {
        reservation = await hold(workspaceId, charge, quoted.units, quoted.modelId)
      } catch (err) {
        if (err instanceof InsufficientCreditsError) {
          // A refusal like any other before dispatch: the request still leaves its record.
          deps.generations.recordRefusal(
            workspaceId,
            { ...input, model: quoted.modelId },
            fromAccessError(err),
          )
        }
        throw err
      }
      if (!reservation) {
        return deps.generations.generate(workspaceId, input)
      }
      const pending: PendingCharge = { reservationId: reservation.id }
      if (charge.settleLater) {
        charge.pending = pending
      }
      let outcome: GenerationOutcome
      try {
        outcome = await deps.generations.generate(workspaceId, input)
      } catch (err) {
        if (!charge.settleLater) {
          await commit(() => ledger.release(reservation.id))
        }
        throw err
      }
      pending.settle = {
        units: Math.min(reservation.amount, creditsToUnits(outcome.generation.costCents)),
        images: outcome.images.length,
      }
      if (!charge.settleLater) {
        const { units, images } = pending.settle
        await commit(() => ledger.settle(reservation.id, units, { images }))
      }
      return outcome
    },

    /**
     * Closes a pending charge inside the idempotency commit: settled when the answer is kept and
     * the images were made, released otherwise (a failure, or an answer that is not kept).
     */
    close(pending: PendingCharge | undefined, answerKept: boolean) {
      if (!pending) {
        return
      }
      if (answerKept && pending.settle) {
        ledger.settle(pending.reservationId, pending.settle.units, {
          images: pending.settle.images,
        })
      } else {
        ledger.release(pending.reservationId)
      }
    },
  }
}

export type ChargedGenerations = ReturnType<typeof createChargedGenerations>
