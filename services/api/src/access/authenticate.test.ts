import { describe, expect, it, vi } from 'vitest'
import { manualClock } from '../providers/resilience/testing/manual-clock.ts'
import { createAuthFailureLimiter } from './auth-failures.ts'
import { authenticateWithLockout } from './authenticate.ts'
import { createMemoryGcraStore } from './gcra-store.ts'

const GOOD = 'Bearer good'
const authenticate = async (authorization: string | undefined) =>
  authorization === GOOD ? { keyId: 'key_good' } : undefined

function setup() {
  const clock = manualClock()
  const failures = createAuthFailureLimiter({
    store: createMemoryGcraStore({ clock }),
    limits: { maxFailures: 10, windowMs: 60_000 },
  })
  const attempt = (authorization: string | undefined, address = '203.0.113.7') =>
    authenticateWithLockout(authenticate, failures, { authorization, address: () => address })
  return { clock, failures, attempt }
}

describe('authenticateWithLockout', () => {
  it('20 junk keys then a valid key from the same address: 10 × 401, 10 × 429, then served', async () => {
    const { attempt } = setup()
    const junk = []
    for (let index = 0; index < 20; index++) {
      junk.push(await attempt(`Bearer junk-${index}`))
    }
    expect(junk.slice(0, 10)).toEqual(Array(10).fill({ ok: false, locked: false }))
    for (const refused of junk.slice(10)) {
      expect(refused).toMatchObject({ ok: false, locked: true, retryAfterMs: 6000 })
    }
    expect(await attempt(GOOD)).toEqual({ ok: true, principal: { keyId: 'key_good' } })
  })

  it('keeps refusing junk from the throttled address while valid keys are served', async () => {
    const { attempt } = setup()
    for (let index = 0; index < 10; index++) {
      await attempt('Bearer junk')
    }
    for (let round = 0; round < 5; round++) {
      expect((await attempt(GOOD)).ok).toBe(true)
      expect(await attempt('Bearer junk')).toMatchObject({ ok: false, locked: true })
      expect(await attempt(undefined)).toMatchObject({ ok: false, locked: true })
    }
  })

  it('a success resets nothing: one valid key does not buy an attacker more guesses', async () => {
    const { attempt, clock } = setup()
    let unauthorized = 0
    // A minute of a valid key sent before every pair of guesses.
    for (let second = 0; second < 60; second++) {
      expect((await attempt(GOOD)).ok).toBe(true)
      for (const guess of ['a', 'b']) {
        const result = await attempt(`Bearer guess-${second}-${guess}`)
        unauthorized += !result.ok && !result.locked ? 1 : 0
      }
      clock.advance(1000)
    }
    // The burst of 10, then one every 6 s as the budget refills; the other ~100 were 429s.
    expect(unauthorized).toBeGreaterThanOrEqual(10)
    expect(unauthorized).toBeLessThanOrEqual(20)
  })

  it('counts failures per address: another address is not throttled', async () => {
    const { attempt } = setup()
    for (let index = 0; index < 10; index++) {
      await attempt('Bearer junk', '203.0.113.7')
    }
    expect(await attempt('Bearer junk', '203.0.113.7')).toMatchObject({ locked: true })
    expect(await attempt('Bearer junk', '198.51.100.1')).toEqual({ ok: false, locked: false })
  })

  it('does not resolve the address for a valid key', async () => {
    const { failures } = setup()
    const address = vi.fn(() => '203.0.113.7')
    await authenticateWithLockout(authenticate, failures, { authorization: GOOD, address })
    expect(address).not.toHaveBeenCalled()
    await authenticateWithLockout(authenticate, failures, { authorization: 'Bearer junk', address })
    expect(address).toHaveBeenCalledTimes(1)
  })

  it('does not extend the throttling for requests refused while throttled', async () => {
    const { attempt, clock } = setup()
    for (let index = 0; index < 10; index++) {
      await attempt('Bearer junk')
    }
    for (let index = 0; index < 50; index++) {
      clock.advance(100)
      expect(await attempt('Bearer junk')).toMatchObject({ locked: true })
    }
    clock.advance(1000)
    expect(await attempt('Bearer junk')).toEqual({ ok: false, locked: false })
  })
})
