import { afterEach, describe, expect, it } from 'vitest'
import type { ReservationClose } from '../../access/ledger-types.ts'
import { UpstreamFailure } from '../../providers/types.ts'
import { type AccessTestApp, createAccessTestApp, GPT_IMAGE_1_PRICE } from '../../testing/access.ts'
import type { ChargeContext } from './billing.ts'
import type { GenerationInput } from './types.ts'

let t: AccessTestApp
afterEach(async () => {
  await t.close()
})

const paid = (n: number): GenerationInput => ({
  model: 'gpt-image-1',
  prompt: 'paid',
  size: '1024x1024',
  n,
  operation: 'generate',
})

type Usage = { balance: number; held: number; spent: number }
const usage = async (ws: string) =>
  (await (await t.call('GET', `/v1/workspaces/${ws}/usage`)).json()) as Usage

/** A charge whose settlement its caller commits, as the idempotency middleware does. */
function committedCharge(reference: string, extra: Partial<ChargeContext> = {}) {
  const registered: ((answerKept: boolean) => ReservationClose)[] = []
  const charge: ChargeContext = {
    reference,
    requestReference: reference,
    ...extra,
    onCommit(closing) {
      registered.push(closing)
    },
  }
  /** What the idempotency store does with the close in its commit. */
  const commit = async (answerKept: boolean) => {
    const { ledger } = t.deps.credits
    for (const closing of registered) {
      const close = closing(answerKept)
      if (close.charge) {
        await ledger.settle(close.reservationId, close.charge.units, {
          images: close.charge.images,
        })
      } else {
        await ledger.release(close.reservationId)
      }
    }
  }
  return { charge, registered, commit }
}

describe('the generation pipeline', () => {
  it('settles at once without a charge, and without onCommit', async () => {
    t = await createAccessTestApp()
    const ws = await t.newWorkspace('Once', 100)
    const outcome = await t.deps.generation.generate(ws, paid(2), undefined)
    expect(outcome.images).toHaveLength(2)
    expect(await t.balance(ws)).toBeCloseTo(100 - 2 * GPT_IMAGE_1_PRICE, 6)
    expect([t.ledgerRows('reserve', ws), t.ledgerRows('settle', ws)]).toEqual([1, 1])
    const limited: number[] = []
    await t.deps.generation.generate(ws, paid(1), {
      reference: 'att_plain',
      requestReference: 'att_plain',
      limitImages: async (images) => {
        limited.push(images)
      },
    })
    expect(limited).toEqual([1])
    expect(t.ledgerRows('settle', ws)).toBe(2)
  })

  it('leaves the settlement to the commit it is handed: settled if the answer is kept', async () => {
    t = await createAccessTestApp({ script: { images: () => 1 } })
    const ws = await t.newWorkspace('Later', 100)
    const { charge, registered, commit } = committedCharge('att_kept')
    const outcome = await t.deps.generation.generate(ws, paid(3), charge)
    expect(outcome.images).toHaveLength(1)
    expect(registered).toHaveLength(1)
    // Nothing moved yet: the worst case is still held until the caller commits.
    expect((await usage(ws)).held).toBeCloseTo(3 * GPT_IMAGE_1_PRICE, 6)
    expect(t.ledgerRows('settle', ws)).toBe(0)
    await commit(true)
    expect(await usage(ws)).toMatchObject({ held: 0 })
    expect(await t.balance(ws)).toBeCloseTo(100 - GPT_IMAGE_1_PRICE, 6)
    expect(t.ledgerRows('settle', ws)).toBe(1)
  })

  it('releases in that commit when the answer is not kept, or the generation failed', async () => {
    t = await createAccessTestApp()
    const ws = await t.newWorkspace('Dropped', 100)
    const dropped = committedCharge('att_dropped')
    await t.deps.generation.generate(ws, paid(1), dropped.charge)
    await dropped.commit(false)
    expect(await t.balance(ws)).toBe(100)
    expect([t.ledgerRows('settle', ws), t.ledgerRows('release', ws)]).toEqual([0, 1])

    t.paid.script.fail = () => new UpstreamFailure('auth', 'openai', 'upstream key revoked')
    const failed = committedCharge('att_failed')
    await expect(t.deps.generation.generate(ws, paid(1), failed.charge)).rejects.toMatchObject({
      code: 'upstream_error',
    })
    // The failure did not release on its own: the commit does, even if it says "kept".
    expect((await usage(ws)).held).toBeCloseTo(GPT_IMAGE_1_PRICE, 6)
    await failed.commit(true)
    expect(await t.balance(ws)).toBe(100)
    expect([t.ledgerRows('settle', ws), t.ledgerRows('release', ws)]).toEqual([0, 2])
  })

  it("releases a superseded attempt's hold in the same commit as the new hold", async () => {
    t = await createAccessTestApp()
    const ws = await t.newWorkspace('Superseded', 100)
    await t.deps.credits.ledger.reserve(ws, 1000, 'att_crashed', { model: 'gpt-image-1' })
    const before = (await usage(ws)).held
    expect(before).toBeGreaterThan(0)
    const { charge, commit } = committedCharge('att_retry', { supersededReference: 'att_crashed' })
    await t.deps.generation.generate(ws, paid(1), charge)
    expect((await usage(ws)).held).toBeCloseTo(GPT_IMAGE_1_PRICE, 6)
    await commit(true)
    expect((await usage(ws)).held).toBe(0)
    expect(await t.deps.credits.ledger.audit()).toEqual([])
  })

  it('records a refusal met while preparing through generate, but not through prepare', async () => {
    t = await createAccessTestApp()
    const ws = await t.newWorkspace('Refused', 100)
    const unknown = { ...paid(1), model: 'nope' }
    await expect(t.deps.generation.prepare(ws, unknown)).rejects.toMatchObject({
      code: 'model_not_found',
    })
    expect((await t.deps.generationsRepo.list(ws, {}, { limit: 10 })).length).toBe(0)
    await expect(t.deps.generation.generate(ws, unknown, undefined)).rejects.toMatchObject({
      code: 'model_not_found',
    })
    const [record] = await t.deps.generationsRepo.list(ws, {}, { limit: 10 })
    expect(record).toMatchObject({ status: 'failed', model: 'nope', provider: 'none' })
    expect(t.ledgerRows('reserve', ws)).toBe(0)
  })

  it('holds and runs apart: hold before execution, settle when complete', async () => {
    t = await createAccessTestApp()
    const ws = await t.newWorkspace('Apart', 100)
    const prepared = await t.deps.generation.prepare(ws, paid(1))
    const held = await t.deps.generation.hold(prepared, undefined)
    expect(t.paid.calls).toHaveLength(0)
    expect((await usage(ws)).held).toBeCloseTo(GPT_IMAGE_1_PRICE, 6)
    await t.deps.generation.complete(held)
    expect(t.paid.calls).toHaveLength(1)
    expect(await usage(ws)).toMatchObject({ held: 0 })
    expect(await t.balance(ws)).toBeCloseTo(100 - GPT_IMAGE_1_PRICE, 6)
  })
})
