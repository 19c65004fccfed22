import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import type { ManualClock } from '../../providers/resilience/testing/manual-clock.ts'
import type { Ledger } from '../ledger.ts'
import {
  InsufficientCreditsError,
  ReservationClosedError,
  ReservationConflictError,
  ReservationNotFoundError,
} from '../ledger-errors.ts'

/** The workspaces the suite books on; a backend with foreign keys creates them first. */
export const LEDGER_SUITE_WORKSPACES = ['ws', 'other', 'nobody', 'fresh']

export type LedgerFixture = {
  ledger: Ledger
  /** Starts at 2030-01-01T12:00:00Z. */
  clock: ManualClock
  /** Ledger rows of `kind`, or reservations in `state`, counted in the backend's own tables. */
  entries(kind: 'grant' | 'reserve' | 'settle' | 'release'): Promise<number>
  reservations(): Promise<number>
  close(): Promise<void>
}

/**
 * The Ledger contract as one suite that every backend must pass: grants, the reserve → settle |
 * release life cycle, one debit per reference, no overdraft under concurrent holds, stale-hold
 * release, usage, and a property test against a model of the balance.
 */
export function describeLedger(name: string, makeFixture: () => Promise<LedgerFixture>) {
  describe(`Ledger contract: ${name}`, () => {
    const open: LedgerFixture[] = []
    const ledgerFixture = async () => {
      const fixture = await makeFixture()
      open.push(fixture)
      return fixture
    }
    afterEach(async () => {
      await Promise.all(open.splice(0).map((fixture) => fixture.close()))
    })
    ledgerCases(ledgerFixture)
  })
}

function ledgerCases(ledgerFixture: () => Promise<LedgerFixture>) {
  it('grants credits; a referenced grant counts once', async () => {
    const { ledger } = await ledgerFixture()
    expect(await ledger.balance('ws')).toBe(0)
    expect(await ledger.grant('ws', 100)).toEqual({ granted: true, balance: 100 })
    expect(await ledger.grant('ws', 50, { reference: 'grant-1' })).toEqual({
      granted: true,
      balance: 150,
    })
    expect(await ledger.grant('ws', 50, { reference: 'grant-1' })).toEqual({
      granted: false,
      balance: 150,
    })
    expect(await ledger.grantedTo('grant-1')).toBe('ws')
    expect(await ledger.grantedTo('grant-2')).toBeUndefined()
    await expect(ledger.grant('ws', 0)).rejects.toThrow(RangeError)
    await expect(ledger.grant('ws', -5)).rejects.toThrow(RangeError)
    await expect(ledger.grant('ws', 1.5)).rejects.toThrow(RangeError)
  })

  it('reserves, then settles the actual amount and gives the difference back', async () => {
    const { ledger } = await ledgerFixture()
    await ledger.grant('ws', 100)
    const reservation = await ledger.reserve('ws', 30, 'req_1', { model: 'gpt-image-1' })
    expect(reservation).toMatchObject({ amount: 30, state: 'held', model: 'gpt-image-1' })
    expect(await ledger.balance('ws')).toBe(70)
    const settled = await ledger.settle(reservation.id, 20, { images: 2 })
    expect(settled).toMatchObject({ refunded: 10, balance: 80 })
    expect(settled.reservation).toMatchObject({ state: 'settled', settledAmount: 20, images: 2 })
  })

  it('releases the whole hold on failure', async () => {
    const { ledger } = await ledgerFixture()
    await ledger.grant('ws', 100)
    const reservation = await ledger.reserve('ws', 30, 'req_1')
    expect(await ledger.release(reservation.id)).toMatchObject({ refunded: 30, balance: 100 })
    expect((await ledger.getReservation(reservation.id))?.state).toBe('released')
  })

  it('refuses a second settle, a settle after release, and a release after settle', async () => {
    const { ledger, entries } = await ledgerFixture()
    await ledger.grant('ws', 100)
    const settled = await ledger.reserve('ws', 30, 'req_1')
    await ledger.settle(settled.id, 30)
    await expect(ledger.settle(settled.id, 30)).rejects.toThrow(ReservationClosedError)
    await expect(ledger.release(settled.id)).rejects.toThrow(ReservationClosedError)
    const released = await ledger.reserve('ws', 30, 'req_2')
    await ledger.release(released.id)
    await expect(ledger.settle(released.id, 0)).rejects.toThrow(ReservationClosedError)
    await expect(ledger.release(released.id)).rejects.toThrow(ReservationClosedError)
    await expect(ledger.settle('rsv_missing', 0)).rejects.toThrow(ReservationNotFoundError)
    expect(await ledger.balance('ws')).toBe(70)
    expect((await entries('settle')) + (await entries('release'))).toBe(2)
  })

  it('refuses to settle more than was held', async () => {
    const { ledger } = await ledgerFixture()
    await ledger.grant('ws', 100)
    const reservation = await ledger.reserve('ws', 30, 'req_1')
    await expect(ledger.settle(reservation.id, 31)).rejects.toThrow(RangeError)
    expect((await ledger.getReservation(reservation.id))?.state).toBe('held')
  })

  it('refuses a reservation the balance cannot cover, with cost and balance', async () => {
    const { ledger, reservations } = await ledgerFixture()
    await ledger.grant('ws', 10)
    const error = await ledger.reserve('ws', 11, 'req_1').catch((thrown: unknown) => thrown)
    expect(error).toBeInstanceOf(InsufficientCreditsError)
    expect(error).toMatchObject({ workspaceId: 'ws', cost: 11, balance: 10 })
    await expect(ledger.reserve('nobody', 1, 'req_2')).rejects.toThrow(InsufficientCreditsError)
    expect(await reservations()).toBe(0)
  })

  it('reserves zero-cost requests even with nothing granted', async () => {
    const { ledger } = await ledgerFixture()
    const reservation = await ledger.reserve('fresh', 0, 'req_1', { model: 'local' })
    expect(await ledger.settle(reservation.id, 0, { images: 1 })).toMatchObject({ balance: 0 })
  })

  it('never debits twice for one reference', async () => {
    const { ledger, entries } = await ledgerFixture()
    await ledger.grant('ws', 100)
    const first = await ledger.reserve('ws', 30, 'tok_1')
    const again = await ledger.reserve('ws', 30, 'tok_1')
    expect(again.id).toBe(first.id)
    expect(await ledger.balance('ws')).toBe(70)
    await expect(ledger.reserve('ws', 40, 'tok_1')).rejects.toThrow(ReservationConflictError)
    await expect(ledger.reserve('other', 30, 'tok_1')).rejects.toThrow(ReservationConflictError)
    await ledger.settle(first.id, 30)
    await expect(ledger.reserve('ws', 30, 'tok_1')).rejects.toThrow(ReservationConflictError)
    expect(await entries('reserve')).toBe(1)
  })

  it('releases a superseded hold in the commit that makes the new one', async () => {
    const { ledger } = await ledgerFixture()
    await ledger.grant('ws', 10)
    const crashed = await ledger.reserve('ws', 7, 'att_1')
    // Without the release there would not be enough for the second hold.
    const retry = await ledger.reserve('ws', 7, 'att_2', { supersedes: 'att_1' })
    expect((await ledger.getReservation(crashed.id))?.state).toBe('released')
    expect(retry.state).toBe('held')
    expect(await ledger.balance('ws')).toBe(3)
    // A refused hold rolls its release back too.
    await expect(ledger.reserve('ws', 20, 'att_3', { supersedes: 'att_2' })).rejects.toThrow(
      InsufficientCreditsError,
    )
    expect((await ledger.getReservation(retry.id))?.state).toBe('held')
  })

  it('D2: balance 100, cost 7, 50 parallel reservations → 14 succeed, balance 2', async () => {
    const { ledger, entries } = await ledgerFixture()
    await ledger.grant('ws', 100)
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, index) => ledger.reserve('ws', 7, `req_${index}`)),
    )
    const refused = results.filter((result) => result.status === 'rejected')
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(14)
    expect(refused).toHaveLength(36)
    for (const result of refused) {
      expect(result.status === 'rejected' && result.reason).toBeInstanceOf(InsufficientCreditsError)
    }
    expect(await ledger.balance('ws')).toBe(2)
    expect(await entries('reserve')).toBe(14)
    expect(await ledger.audit()).toEqual([])
  })

  it('releases holds left by crashed requests, and only old ones', async () => {
    const { ledger, clock } = await ledgerFixture()
    await ledger.grant('ws', 100)
    const old = await ledger.reserve('ws', 10, 'crashed')
    clock.advance(10 * 60_000)
    const recent = await ledger.reserve('ws', 10, 'running')
    expect(await ledger.releaseStale(new Date(clock.ms() - 5 * 60_000))).toBe(1)
    expect((await ledger.getReservation(old.id))?.state).toBe('released')
    expect((await ledger.getReservation(recent.id))?.state).toBe('held')
    expect(await ledger.balance('ws')).toBe(90)
    expect(await ledger.releaseHeldByReference('running')).toBe(true)
    expect(await ledger.releaseHeldByReference('running')).toBe(false)
    expect(await ledger.releaseHeldByReference('never-seen')).toBe(false)
    expect(await ledger.balance('ws')).toBe(100)
  })

  it('summarises usage by UTC day and model', async () => {
    const { ledger, clock } = await ledgerFixture()
    await ledger.grant('ws', 1000)
    let request = 0
    const spend = async (model: string, held: number, actual: number, images: number) => {
      request += 1
      const reservation = await ledger.reserve('ws', held, `req_${request}`, { model })
      await ledger.settle(reservation.id, actual, { images })
    }
    await spend('gpt-image-1', 100, 80, 2)
    await spend('gpt-image-1', 50, 50, 1)
    await spend('local', 0, 0, 4)
    await ledger.release((await ledger.reserve('ws', 100, 'failed', { model: 'gpt-image-1' })).id)
    clock.advance(24 * 60 * 60_000)
    await spend('gpt-image-1', 40, 40, 1)
    await ledger.reserve('ws', 25, 'in-flight', { model: 'gpt-image-1' })
    await ledger.grant('other', 5)
    expect(await ledger.usageSummary('ws')).toEqual({
      workspaceId: 'ws',
      balance: 1000 - 80 - 50 - 40 - 25,
      granted: 1000,
      spent: 170,
      held: 25,
      byDayAndModel: [
        { day: '2030-01-01', model: 'gpt-image-1', requests: 2, images: 3, spent: 130 },
        { day: '2030-01-01', model: 'local', requests: 1, images: 4, spent: 0 },
        { day: '2030-01-02', model: 'gpt-image-1', requests: 1, images: 1, spent: 40 },
      ],
    })
    expect(await ledger.usageSummary('nobody')).toMatchObject({
      balance: 0,
      granted: 0,
      byDayAndModel: [],
    })
  })

  it('never goes negative and always matches its ledger (property)', async () => {
    type Op =
      | { kind: 'grant'; amount: number }
      | { kind: 'reserve'; amount: number }
      | { kind: 'settle'; pick: number; fraction: number }
      | { kind: 'release'; pick: number }
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ kind: fc.constant('grant' as const), amount: fc.integer({ min: 1, max: 50 }) }),
      fc.record({ kind: fc.constant('reserve' as const), amount: fc.integer({ min: 0, max: 60 }) }),
      fc.record({
        kind: fc.constant('settle' as const),
        pick: fc.nat(),
        fraction: fc.double({ min: 0, max: 1, noNaN: true }),
      }),
      fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }),
    )
    // One fixture for every run: each run books on a workspace of its own.
    const { ledger } = await ledgerFixture()
    let run = 0
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 40 }), async (ops) => {
        run += 1
        const ws = LEDGER_SUITE_WORKSPACES[run % LEDGER_SUITE_WORKSPACES.length] as string
        let model = await ledger.balance(ws)
        const held: { id: string; amount: number }[] = []
        for (const [index, step] of ops.entries()) {
          const reference = `run${run}_${index}`
          if (step.kind === 'grant') {
            await ledger.grant(ws, step.amount)
            model += step.amount
          } else if (step.kind === 'reserve') {
            if (step.amount <= model) {
              const reservation = await ledger.reserve(ws, step.amount, reference)
              held.push({ id: reservation.id, amount: step.amount })
              model -= step.amount
            } else {
              await expect(ledger.reserve(ws, step.amount, reference)).rejects.toThrow(
                InsufficientCreditsError,
              )
            }
          } else if (held.length > 0) {
            const [target] = held.splice(step.pick % held.length, 1)
            if (!target) {
              continue
            }
            if (step.kind === 'settle') {
              const actual = Math.floor(target.amount * step.fraction)
              await ledger.settle(target.id, actual)
              model += target.amount - actual
            } else {
              await ledger.release(target.id)
              model += target.amount
            }
          }
          expect(await ledger.balance(ws)).toBe(model)
        }
        for (const target of held) {
          await ledger.release(target.id)
        }
        expect(await ledger.audit()).toEqual([])
      }),
      { numRuns: 100 },
    )
  })
}
