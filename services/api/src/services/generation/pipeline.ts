import { InsufficientCreditsError } from '../../access/ledger-errors.ts'
import type { Reservation } from '../../access/ledger-types.ts'
import type { JobHold } from '../../db/jobs/job-queue.ts'
import type { GenerationRow } from '../../db/schema/index.ts'
import { fromAccessError } from '../../errors/access-errors.ts'
import {
  type BillingDeps,
  type ChargeContext,
  createBilling,
  type Settlement,
  settlementFor,
} from './billing.ts'
import { createExecutor, type ExecuteDeps, type JobRun } from './execute.ts'
import { toAppError } from './failures.ts'
import { type PrepareDeps, prepareGeneration, withRefinementDefaults } from './prepare.ts'
import { recordRefusal } from './record.ts'
import type {
  GenerationInput,
  GenerationOutcome,
  PartialImageSink,
  PreparedGeneration,
} from './types.ts'

export type GenerationPipelineDeps = ExecuteDeps &
  PrepareDeps &
  BillingDeps & {
    /** A fresh ledger reference, for a request that came without a ChargeContext. */
    newReference: () => string
    /** 400 unsafe_webhook_url unless a request's `webhook_url` may be sent to (DNS included). */
    checkWebhookUrl?: (url: string, param: string) => Promise<void>
  }

/** A prepared generation whose worst case is held: what is left is to run it and settle. */
export type HeldGeneration = {
  prepared: PreparedGeneration
  /** Charges what the outcome cost (or, when the caller commits, leaves it for that commit). */
  settle(outcome: GenerationOutcome): Promise<void>
  /** Gives the hold back after a failure (or leaves that to the caller's commit). */
  release(): Promise<void>
}

/**
 * The one path of a generation: prepare (defaults, resolve, plan, price) once, hold the worst
 * case, execute (dispatch, store, record), settle what came back. Not enough credits: 402
 * insufficient_credits with cost and balance, before any upstream call. Free models (the local
 * renderer, mock mode) never touch the ledger.
 */
export function createGenerationPipeline(deps: GenerationPipelineDeps) {
  const billing = createBilling(deps)
  const execute = createExecutor(deps)

  /** Prepares a request; a refusal is thrown in the error table's terms, and not recorded. */
  async function prepare(workspaceId: string, input: GenerationInput): Promise<PreparedGeneration> {
    const request = await withRefinementDefaults(deps, workspaceId, input)
    try {
      return prepareGeneration(deps, workspaceId, request)
    } catch (err) {
      throw toAppError(err, request.params)
    }
  }

  /**
   * Spends the images from the caller's rate limits and holds the worst case (releasing a
   * superseded attempt's hold in the same commit). A refusal for credits leaves its record.
   */
  async function reserve(
    prepared: PreparedGeneration,
    charge: ChargeContext,
  ): Promise<Reservation | undefined> {
    await beforeHold(prepared, charge)
    return refusalRecorded(prepared, () =>
      billing.hold(prepared.workspaceId, charge, prepared.units, prepared.model.id),
    )
  }

  /** What is checked and spent before credits are held: the webhook URL, the rate limits. */
  async function beforeHold(prepared: PreparedGeneration, charge: ChargeContext): Promise<void> {
    const { input, plan } = prepared
    if (input.webhookUrl !== undefined) {
      // Before anything is spent: a refused URL costs the caller nothing.
      await deps.checkWebhookUrl?.(
        input.webhookUrl,
        input.operation === 'skill' ? 'webhookUrl' : 'webhook_url',
      )
    }
    await charge.limitImages?.(plan.n)
  }

  /** Runs a hold; a refusal for credits leaves its record, as any refusal before dispatch. */
  async function refusalRecorded<T>(prepared: PreparedGeneration, hold: () => Promise<T>) {
    try {
      return await hold()
    } catch (err) {
      if (err instanceof InsufficientCreditsError) {
        const { workspaceId, input, model } = prepared
        await recordRefusal(deps, workspaceId, { ...input, model: model.id }, fromAccessError(err))
      }
      throw err
    }
  }

  function heldBy(prepared: PreparedGeneration, reservation: Reservation): HeldGeneration {
    return {
      prepared,
      settle: (outcome) => billing.settle(reservation, settlementOf(reservation, outcome)),
      release: () => billing.release(reservation),
    }
  }

  async function hold(
    prepared: PreparedGeneration,
    given: ChargeContext | undefined,
  ): Promise<HeldGeneration> {
    const charge: ChargeContext = given ?? { reference: deps.newReference(), requestReference: '' }
    const reservation = await reserve(prepared, charge)
    if (!reservation) {
      return { prepared, settle: async () => {}, release: async () => {} }
    }
    const held = reservation
    if (!charge.onCommit) {
      return heldBy(prepared, held)
    }
    let made: Settlement | undefined
    charge.onCommit((answerKept) => billing.closing(held, answerKept ? made : undefined))
    return {
      prepared,
      settle: async (outcome) => {
        made = settlementOf(held, outcome)
      },
      release: async () => {},
    }
  }

  /**
   * Holds the worst case for a job (`Prefer: respond-async`) through `accept`, which writes the
   * hold together with the job (JobQueue.accept): checks and spends what a hold needs first,
   * then hands `accept` the hold to make, or undefined for a free model. The hold outlives the
   * request, so it is never left to the caller's commit; `reference` names it after the job.
   */
  async function holdForJob<T>(
    prepared: PreparedGeneration,
    given: ChargeContext | undefined,
    reference: string,
    accept: (hold: JobHold | undefined) => Promise<T>,
  ): Promise<T> {
    const { onCommit: _answerCommit, ...rest } = given ?? { requestReference: '' }
    const charge: ChargeContext = { ...rest, reference }
    await beforeHold(prepared, charge)
    if (prepared.units === 0) {
      if (charge.supersededReference) {
        await deps.ledger.releaseHeldByReference(charge.supersededReference)
      }
      return accept(undefined)
    }
    return refusalRecorded(prepared, () =>
      accept({
        amount: prepared.units,
        reference,
        model: prepared.model.id,
        ...(charge.supersededReference ? { supersedes: charge.supersededReference } : {}),
      }),
    )
  }

  /** A job's held generation, in whichever process runs it, from its stored reservation id. */
  async function resume(
    prepared: PreparedGeneration,
    reservationId: string | null,
  ): Promise<HeldGeneration> {
    const reservation = reservationId ? await deps.ledger.getReservation(reservationId) : undefined
    if (!reservation) {
      return { prepared, settle: async () => {}, release: async () => {} }
    }
    return heldBy(prepared, reservation)
  }

  /**
   * Closes the hold of a job whose run was cut off (its worker died, see services/jobs): a
   * generation recorded as succeeded is charged what it cost, anything else is released. A hold
   * that is already closed stays as it is, so the charge happens once however often this runs.
   */
  async function closeCutOff(
    reservationId: string | null,
    generation: Pick<GenerationRow, 'status' | 'costCents' | 'assetIds'> | undefined,
  ): Promise<void> {
    const reservation = reservationId ? await deps.ledger.getReservation(reservationId) : undefined
    if (reservation?.state !== 'held') {
      return
    }
    if (generation?.status === 'succeeded') {
      await billing.settle(
        reservation,
        settlementFor(reservation, generation.costCents, generation.assetIds.length),
      )
    } else {
      await billing.release(reservation)
    }
  }

  /**
   * Runs a held generation and settles its credits; a failure releases them. A streamed one
   * passes where its partial images go.
   */
  async function complete(
    held: HeldGeneration,
    job?: JobRun,
    partials?: PartialImageSink,
  ): Promise<GenerationOutcome> {
    let outcome: GenerationOutcome
    try {
      outcome = await execute(held.prepared, job, partials)
    } catch (err) {
      await held.release()
      throw err
    }
    await held.settle(outcome)
    return outcome
  }

  async function prepareRecorded(
    workspaceId: string,
    input: GenerationInput,
  ): Promise<PreparedGeneration> {
    const request = await withRefinementDefaults(deps, workspaceId, input)
    try {
      return prepareGeneration(deps, workspaceId, request)
    } catch (err) {
      await recordRefusal(deps, workspaceId, request, err)
      throw toAppError(err, request.params)
    }
  }

  async function generatePrepared(
    prepared: PreparedGeneration,
    charge: ChargeContext | undefined,
  ): Promise<GenerationOutcome> {
    return complete(await hold(prepared, charge))
  }

  return {
    prepare,
    hold,
    holdForJob,
    resume,
    complete,
    closeCutOff,
    generatePrepared,

    /** Prepares a request; a refusal leaves its record, as every generation request does. */
    prepareRecorded,

    /**
     * The entry the routes call: prepares, holds, executes and settles. A request refused while
     * it is prepared leaves its record, as every generation request does. `charge` comes from
     * the caller's layer; without one the request is charged on its own, settled at once.
     */
    async generate(
      workspaceId: string,
      input: GenerationInput,
      charge: ChargeContext | undefined,
    ): Promise<GenerationOutcome> {
      return generatePrepared(await prepareRecorded(workspaceId, input), charge)
    },
  }
}

function settlementOf(reservation: Reservation, outcome: GenerationOutcome): Settlement {
  return settlementFor(reservation, outcome.generation.costCents, outcome.images.length)
}

export type GenerationPipeline = ReturnType<typeof createGenerationPipeline>
