import { describe, expect, it } from 'vitest'
import { createRetryBudget } from './retry-budget.ts'
import { manualClock } from './testing/manual-clock.ts'

describe('retry budget', () => {
  it('starts empty and earns one retry per five requests', () => {
    const clock = manualClock()
    const budget = createRetryBudget({ clock })
    expect(budget.tryWithdraw()).toBe(false)
    for (let i = 0; i < 4; i++) {
      budget.deposit()
    }
    expect(budget.tryWithdraw()).toBe(false)
    budget.deposit()
    expect(budget.tryWithdraw()).toBe(true)
    expect(budget.tryWithdraw()).toBe(false)
  })

  it('earns ten retries per second without traffic', async () => {
    const clock = manualClock()
    const budget = createRetryBudget({ clock })
    clock.advance(99)
    expect(budget.tryWithdraw()).toBe(false)
    clock.advance(1)
    expect(budget.tryWithdraw()).toBe(true)
    clock.advance(1_000)
    expect(await budget.balance()).toBe(10)
  })

  it('banks at most maxBalance retries however long it stays quiet', async () => {
    const clock = manualClock()
    const budget = createRetryBudget({ clock, maxBalance: 100 })
    clock.advance(3_600_000)
    for (let i = 0; i < 1_000; i++) {
      budget.deposit()
    }
    expect(await budget.balance()).toBe(100)
  })

  it('ignores a clock that steps backwards', async () => {
    const clock = manualClock(10_000)
    const budget = createRetryBudget({ clock })
    clock.advance(1_000)
    expect(await budget.balance()).toBe(10)
    clock.set(0)
    expect(await budget.balance()).toBe(10)
    clock.set(11_100)
    expect(await budget.balance()).toBe(11)
  })

  it('never grants more than 20% of requests plus 10/s, whatever the interleaving', () => {
    const clock = manualClock()
    const budget = createRetryBudget({ clock })
    let requests = 0
    let granted = 0
    // 5 s of a 200 req/s stream in which every request asks for two retries.
    for (let ms = 0; ms < 5_000; ms += 5) {
      clock.set(1_700_000_000_000 + ms)
      budget.deposit()
      requests += 1
      granted += Number(budget.tryWithdraw()) + Number(budget.tryWithdraw())
    }
    expect(granted).toBeLessThanOrEqual(0.2 * requests + 10 * 5)
    expect(granted).toBeGreaterThan(0.9 * (0.2 * requests + 10 * 5))
  })
})
