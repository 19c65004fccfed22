import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  InsufficientCreditsError,
  ReservationClosedError,
  ReservationConflictError,
  ReservationNotFoundError,
} from './ledger-errors.ts'
import { ledgerFixture } from './testing/ledger-fixture.ts'

describe('CreditLedger', () => {
  it('grants credits; a referenced grant counts once', () => {
    const { ledger } = ledgerFixture()
    expect(ledger.balance('ws')).toBe(0)
    expect(ledger.grant('ws', 100)).toEqual({ granted: true, balance: 100 })
    expect(ledger.grant('ws', 50, { reference: 'grant-1' })).toEqual({
      granted: true,
      balance: 150,
    })
    expect(ledger.grant('ws', 50, { reference: 'grant-1' })).toEqual({
      granted: false,
      balance: 150,
    })
    expect(() => ledger.grant('ws', 0)).toThrow(RangeError)
    expect(() => ledger.grant('ws', -5)).toThrow(RangeError)
    expect(() => ledger.grant('ws', 1.5)).toThrow(RangeError)
  })

  it('reserves, then settles the actual amount and gives the difference back', () => {
    const { ledger } = ledgerFixture()
    ledger.grant('ws', 100)
    const reservation = ledger.reserve('ws', 30, 'req_1', { model: 'gpt-image-1' })
    expect(reservation).toMatchObject({ amount: 30, state: 'held', model: 'gpt-image-1' })
    expect(ledger.balance('ws')).toBe(70)
    const settled = ledger.settle(reservation.id, 20, { images: 2 })
    expect(settled).toMatchObject({ refunded: 10, balance: 80 })
    expect(settled.reservation).toMatchObject({ state: 'settled', settledAmount: 20, images: 2 })
  })

  it('releases the whole hold on failure', () => {
    const { ledger } = ledgerFixture()
    ledger.grant('ws', 100)
    const reservation = ledger.reserve('ws', 30, 'req_1')
    expect(ledger.release(reservation.id)).toMatchObject({ refunded: 30, balance: 100 })
    expect(ledger.getReservation(reservation.id)?.state).toBe('released')
  })

  it('refuses a second settle, a settle after release, and a release after settle', () => {
    const { ledger, count } = ledgerFixture()
    ledger.grant('ws', 100)
    const settled = ledger.reserve('ws', 30, 'req_1')
    ledger.settle(settled.id, 30)
    expect(() => ledger.settle(settled.id, 30)).toThrow(ReservationClosedError)
    expect(() => ledger.release(settled.id)).toThrow(ReservationClosedError)
    const released = ledger.reserve('ws', 30, 'req_2')
    ledger.release(released.id)
    expect(() => ledger.settle(released.id, 0)).toThrow(ReservationClosedError)
    expect(() => ledger.release(released.id)).toThrow(ReservationClosedError)
    expect(() => ledger.settle('rsv_missing', 0)).toThrow(ReservationNotFoundError)
    expect(ledger.balance('ws')).toBe(70)
    expect(
      count("SELECT COUNT(*) AS n FROM credit_ledger WHERE kind IN ('settle','release')"),
    ).toBe(2)
  })

  it('refuses to settle more than was held', () => {
    const { ledger } = ledgerFixture()
    ledger.grant('ws', 100)
    const reservation = ledger.reserve('ws', 30, 'req_1')
    expect(() => ledger.settle(reservation.id, 31)).toThrow(RangeError)
    expect(ledger.getReservation(reservation.id)?.state).toBe('held')
  })

  it('refuses a reservation the balance cannot cover, with cost and balance', () => {
    const { ledger, count } = ledgerFixture()
    ledger.grant('ws', 10)
    let error: unknown
    try {
      ledger.reserve('ws', 11, 'req_1')
    } catch (thrown) {
      error = thrown
    }
    expect(error).toBeInstanceOf(InsufficientCreditsError)
    expect(error).toMatchObject({ workspaceId: 'ws', cost: 11, balance: 10 })
    expect(() => ledger.reserve('nobody', 1, 'req_2')).toThrow(InsufficientCreditsError)
    expect(count('SELECT COUNT(*) AS n FROM credit_reservations')).toBe(0)
  })

  it('reserves zero-cost requests even with nothing granted', () => {
    const { ledger } = ledgerFixture()
    const reservation = ledger.reserve('fresh', 0, 'req_1', { model: 'local' })
    expect(ledger.settle(reservation.id, 0, { images: 1 })).toMatchObject({ balance: 0 })
  })

  it('never debits twice for one reference', () => {
    const { ledger, count } = ledgerFixture()
    ledger.grant('ws', 100)
    const first = ledger.reserve('ws', 30, 'tok_1')
    const again = ledger.reserve('ws', 30, 'tok_1')
    expect(again.id).toBe(first.id)
    expect(ledger.balance('ws')).toBe(70)
    expect(() => ledger.reserve('ws', 40, 'tok_1')).toThrow(ReservationConflictError)
    expect(() => ledger.reserve('other', 30, 'tok_1')).toThrow(ReservationConflictError)
    ledger.settle(first.id, 30)
    expect(() => ledger.reserve('ws', 30, 'tok_1')).toThrow(ReservationConflictError)
    expect(count("SELECT COUNT(*) AS n FROM credit_ledger WHERE kind = 'reserve'")).toBe(1)
  })

  it('D2: balance 100, cost 7, 50 parallel reservations → 14 succeed, balance 2', async () => {
    const { ledger, count } = ledgerFixture()
    ledger.grant('ws', 100)
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, async (_, index) => {
        await Promise.resolve()
        return ledger.reserve('ws', 7, `req_${index}`)
      }),
    )
    const refused = results.filter((result) => result.status === 'rejected')
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(14)
    expect(refused).toHaveLength(36)
    for (const result of refused) {
      expect(result.status === 'rejected' && result.reason).toBeInstanceOf(InsufficientCreditsError)
    }
    expect(ledger.balance('ws')).toBe(2)
    expect(count("SELECT COUNT(*) AS n FROM credit_ledger WHERE kind = 'reserve'")).toBe(14)
    expect(ledger.audit()).toEqual([])
  })

  it('keeps the ledger append-only', () => {
    const { ledger, sqlite } = ledgerFixture()
    ledger.grant('ws', 100)
    expect(() => sqlite.prepare('UPDATE credit_ledger SET delta = 1000').run()).toThrow(
      /append-only/,
    )
    expect(() => sqlite.prepare('DELETE FROM credit_ledger').run()).toThrow(/append-only/)
    expect(() =>
      sqlite.prepare("UPDATE credit_accounts SET balance = -1 WHERE workspace_id = 'ws'").run(),
    ).toThrow(/CHECK/)
  })

  it('releases holds left by crashed requests, and only old ones', () => {
    const { ledger, clock } = ledgerFixture()
    ledger.grant('ws', 100)
    const old = ledger.reserve('ws', 10, 'crashed')
    clock.advance(10 * 60_000)
    const recent = ledger.reserve('ws', 10, 'running')
    expect(ledger.releaseStale(new Date(clock.ms() - 5 * 60_000))).toBe(1)
    expect(ledger.getReservation(old.id)?.state).toBe('released')
    expect(ledger.getReservation(recent.id)?.state).toBe('held')
    expect(ledger.balance('ws')).toBe(90)
    expect(ledger.releaseHeldByReference('running')).toBe(true)
    expect(ledger.releaseHeldByReference('running')).toBe(false)
    expect(ledger.releaseHeldByReference('never-seen')).toBe(false)
    expect(ledger.balance('ws')).toBe(100)
  })

  it('summarises usage by UTC day and model', () => {
    const { ledger, clock } = ledgerFixture()
    ledger.grant('ws', 1000)
    let request = 0
    const spend = (model: string, held: number, actual: number, images: number) => {
      request += 1
      const reservation = ledger.reserve('ws', held, `req_${request}`, { model })
      ledger.settle(reservation.id, actual, { images })
    }
    spend('gpt-image-1', 100, 80, 2)
    spend('gpt-image-1', 50, 50, 1)
    spend('local', 0, 0, 4)
    ledger.release(ledger.reserve('ws', 100, 'failed', { model: 'gpt-image-1' }).id)
    clock.advance(24 * 60 * 60_000)
    spend('gpt-image-1', 40, 40, 1)
    ledger.reserve('ws', 25, 'in-flight', { model: 'gpt-image-1' })
    ledger.grant('other', 5)
    expect(ledger.usageSummary('ws')).toEqual({
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
    expect(ledger.usageSummary('nobody')).toMatchObject({
      balance: 0,
      granted: 0,
      byDayAndModel: [],
    })
  })

  it('never goes negative and always matches its ledger (property)', () => {
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
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const { ledger } = ledgerFixture()
        let model = 0
        const held: { id: string; amount: number }[] = []
        ops.forEach((step, index) => {
          if (step.kind === 'grant') {
            ledger.grant('ws', step.amount)
            model += step.amount
          } else if (step.kind === 'reserve') {
            if (step.amount <= model) {
              held.push({
                id: ledger.reserve('ws', step.amount, `r${index}`).id,
                amount: step.amount,
              })
              model -= step.amount
            } else {
              expect(() => ledger.reserve('ws', step.amount, `r${index}`)).toThrow(
                InsufficientCreditsError,
              )
            }
          } else if (held.length > 0) {
            const [target] = held.splice(step.pick % held.length, 1)
            if (!target) {
              return
            }
            if (step.kind === 'settle') {
              const actual = Math.floor(target.amount * step.fraction)
              ledger.settle(target.id, actual)
              model += target.amount - actual
            } else {
              ledger.release(target.id)
              model += target.amount
            }
          }
          expect(ledger.balance('ws')).toBe(model)
          expect(ledger.balance('ws')).toBeGreaterThanOrEqual(0)
        })
        expect(ledger.audit()).toEqual([])
      }),
      { numRuns: 300 },
    )
  })
})
