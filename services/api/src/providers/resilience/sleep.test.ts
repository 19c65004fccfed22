import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { systemSleep } from './sleep.ts'

describe('systemSleep', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('resolves after the delay and not before', async () => {
    let done = false
    void systemSleep(1_000).then(() => {
      done = true
    })
    await vi.advanceTimersByTimeAsync(999)
    expect(done).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(done).toBe(true)
  })

  it('resolves early, without rejecting, when the signal aborts, and leaves no timer behind', async () => {
    const controller = new AbortController()
    const waiting = systemSleep(60_000, controller.signal)
    controller.abort()
    await expect(waiting).resolves.toBeUndefined()
    expect(vi.getTimerCount()).toBe(0)
  })

  it('resolves at once for an already aborted signal', async () => {
    await expect(systemSleep(60_000, AbortSignal.abort())).resolves.toBeUndefined()
    expect(vi.getTimerCount()).toBe(0)
  })

  it('chains waits longer than the platform timer limit instead of firing at once', async () => {
    let done = false
    void systemSleep(2 ** 31 + 5_000).then(() => {
      done = true
    })
    await vi.advanceTimersByTimeAsync(2 ** 31)
    expect(done).toBe(false)
    await vi.advanceTimersByTimeAsync(5_000)
    expect(done).toBe(true)
  })
})
