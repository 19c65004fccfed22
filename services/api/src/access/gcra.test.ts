import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { gcraDecide, gcraParams } from './gcra.ts'
import { referenceGcra } from './testing/reference-gcra.ts'

const perMinute10 = gcraParams({ quota: 10, windowMs: 60_000 })

describe('gcraParams', () => {
  it('derives T, the burst and the capacity', () => {
    expect(perMinute10).toEqual({ emissionMs: 6000, burst: 10, capacityMs: 60_000 })
    expect(gcraParams({ quota: 10, windowMs: 60_000, burst: 2 }).capacityMs).toBe(12_000)
  })

  it.each([
    { quota: 0, windowMs: 1000 },
    { quota: 1.5, windowMs: 1000 },
    { quota: 1, windowMs: 0 },
    { quota: 1, windowMs: Number.NaN },
    { quota: 1, windowMs: 1000, burst: 0 },
  ])('refuses %j', (limit) => {
    expect(() => gcraParams(limit)).toThrow(RangeError)
  })
})

describe('gcraDecide', () => {
  it('lets a full burst through, then spaces requests T apart', () => {
    let tat = 0
    const remaining: number[] = []
    for (let index = 0; index < 10; index += 1) {
      const decision = gcraDecide(tat, 1000, perMinute10)
      expect(decision.allowed).toBe(true)
      tat = decision.tat
      remaining.push(decision.remaining)
    }
    expect(remaining).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0])
    const refused = gcraDecide(tat, 1000, perMinute10)
    expect(refused).toMatchObject({ allowed: false, retryAfterMs: 6000, remaining: 0 })
    expect(refused.tat).toBe(tat)
    expect(gcraDecide(tat, 6999, perMinute10).allowed).toBe(false)
    expect(gcraDecide(tat, 7000, perMinute10).allowed).toBe(true)
  })

  it('reports the time to the next unit and to a full bucket', () => {
    const fresh = gcraDecide(0, 1000, perMinute10)
    expect(fresh).toMatchObject({ remaining: 9, nextUnitMs: 6000, resetMs: 6000 })
    const idle = gcraDecide(0, 1000, perMinute10, 0)
    expect(idle).toMatchObject({ allowed: true, remaining: 10, nextUnitMs: 0, resetMs: 0 })
    const halfway = gcraDecide(fresh.tat, 4000, perMinute10, 0)
    expect(halfway).toMatchObject({ remaining: 9, nextUnitMs: 3000, resetMs: 3000 })
  })

  it('charges k units at once, all or nothing', () => {
    const spent = gcraDecide(0, 0, perMinute10, 7)
    expect(spent).toMatchObject({ allowed: true, remaining: 3, tat: 42_000 })
    const tooMany = gcraDecide(spent.tat, 0, perMinute10, 4)
    expect(tooMany).toMatchObject({ allowed: false, remaining: 3, retryAfterMs: 6000 })
    expect(tooMany.tat).toBe(spent.tat)
    expect(gcraDecide(spent.tat, 0, perMinute10, 3)).toMatchObject({ allowed: true, remaining: 0 })
  })

  it('never admits a cost above the burst', () => {
    const decision = gcraDecide(0, 0, perMinute10, 11)
    expect(decision.allowed).toBe(false)
    expect(decision.allowed === false && decision.retryAfterMs).toBe(Number.POSITIVE_INFINITY)
  })

  it('refuses negative and fractional costs', () => {
    expect(() => gcraDecide(0, 0, perMinute10, -1)).toThrow(RangeError)
    expect(() => gcraDecide(0, 0, perMinute10, 0.5)).toThrow(RangeError)
  })

  it('agrees with the reference simulator on 10,000 random arrival sequences (q=10, w=60)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 5000 }), { maxLength: 200 }), (gaps) => {
        let tat = 0
        let ref = 0
        let now = 0
        for (const gap of gaps) {
          now += gap
          const actual = gcraDecide(tat, now, perMinute10)
          const expected = referenceGcra(ref, now, 6000, 54_000)
          expect(actual.allowed).toBe(expected.ok)
          if (expected.ok) {
            expect(actual.remaining).toBe(expected.remaining)
          } else if (!actual.allowed) {
            expect(actual.retryAfterMs).toBe(expected.retryAfterMs)
          }
          tat = actual.tat
          ref = expected.tat
        }
      }),
      { numRuns: 10_000 },
    )
  })

  it('treats a cost of k like k unit requests at the same instant, all or nothing', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 120_000 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 20_000 }), fc.integer({ min: 1, max: 25 })), {
          maxLength: 60,
        }),
        (quota, windowMs, steps) => {
          const params = gcraParams({ quota, windowMs })
          const tau = params.emissionMs * (quota - 1)
          let tat = 0
          let model = 0
          let now = 0
          for (const [gap, cost] of steps) {
            now += gap
            let trial = model
            let ok = true
            for (let unit = 0; unit < cost && ok; unit += 1) {
              const step = referenceGcra(trial, now, params.emissionMs, tau)
              ok = step.ok
              trial = step.tat
            }
            const decision = gcraDecide(tat, now, params, cost)
            expect(decision.allowed).toBe(ok)
            if (ok) {
              model = trial
            }
            tat = decision.tat
            expect(tat).toBe(model)
          }
        },
      ),
      { numRuns: 2000 },
    )
  })

  it('never lets more than burst + elapsed/T units through, whatever the quota', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1, max: 100_000 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 0, max: 5 })), {
          maxLength: 100,
        }),
        (quota, windowMs, steps) => {
          const params = gcraParams({ quota, windowMs })
          let tat = 0
          let now = 0
          let admitted = 0
          for (const [gap, cost] of steps) {
            now += gap
            const decision = gcraDecide(tat, now, params, cost)
            if (decision.allowed) {
              admitted += cost
            }
            tat = decision.tat
            expect(admitted).toBeLessThanOrEqual(quota + Math.floor(now / params.emissionMs))
            expect(params.emissionMs * quota).toBeGreaterThanOrEqual(windowMs)
          }
        },
      ),
      { numRuns: 2000 },
    )
  })

  it('rounds T up to a whole millisecond (7 per minute: one unit per 8,572 ms)', () => {
    const params = gcraParams({ quota: 7, windowMs: 60_000 })
    expect(params.emissionMs).toBe(8572)
    let tat = 0
    for (let index = 0; index < 7; index += 1) {
      tat = gcraDecide(tat, 0, params).tat
    }
    expect(gcraDecide(tat, 8571, params).allowed).toBe(false)
    expect(gcraDecide(tat, 8572, params).allowed).toBe(true)
  })

  it('refuses a fractional now', () => {
    expect(() => gcraDecide(0, 0.5, perMinute10)).toThrow(RangeError)
  })
})
