import { describe, expect, it, vi } from 'vitest'
import { deferred } from '../../testing/deferred.ts'
import { createSingleflight } from './singleflight.ts'

describe('singleflight', () => {
  it('runs one execution for concurrent callers of a key and gives them all its result', async () => {
    const group = createSingleflight<string>()
    const upstream = deferred<string>()
    const fn = vi.fn(() => upstream.promise)
    const callers = Array.from({ length: 20 }, () => group.do('sha256:ab', fn))
    upstream.resolve('stored')
    expect(await Promise.all(callers)).toEqual(new Array(20).fill('stored'))
    expect(fn).toHaveBeenCalledTimes(1)
  })

  it('shares the error too', async () => {
    const group = createSingleflight<string>()
    const upstream = deferred<string>()
    const failure = new Error('disk full')
    const first = group.do('k', () => upstream.promise)
    const second = group.do('k', () => Promise.resolve('never'))
    upstream.reject(failure)
    await expect(first).rejects.toBe(failure)
    await expect(second).rejects.toBe(failure)
  })

  it('keeps different keys apart', async () => {
    const group = createSingleflight<string>()
    const a = vi.fn(async () => 'a')
    const b = vi.fn(async () => 'b')
    expect(await Promise.all([group.do('a', a), group.do('b', b)])).toEqual(['a', 'b'])
    expect(a).toHaveBeenCalledTimes(1)
    expect(b).toHaveBeenCalledTimes(1)
  })

  it('forgets a key once its call settles, whether it succeeded or failed', async () => {
    const group = createSingleflight<number>()
    let calls = 0
    const fn = async () => {
      calls += 1
      if (calls === 1) {
        throw new Error('first fails')
      }
      return calls
    }
    await expect(group.do('k', fn)).rejects.toThrow('first fails')
    expect(group.size).toBe(0)
    expect(await group.do('k', fn)).toBe(2)
    expect(await group.do('k', fn)).toBe(3)
    expect(group.size).toBe(0)
  })

  it('lets a caller that awaited the shared result start a fresh call straight away', async () => {
    const group = createSingleflight<number>()
    let calls = 0
    const fn = async () => ++calls
    const first = await group.do('k', fn)
    const second = await group.do('k', fn)
    expect([first, second]).toEqual([1, 2])
  })

  it('turns a synchronous throw into a shared rejection and forgets the key', async () => {
    const group = createSingleflight<string>()
    const fn = (): Promise<string> => {
      throw new Error('sync')
    }
    await expect(group.do('k', fn)).rejects.toThrow('sync')
    expect(group.size).toBe(0)
  })

  it('joins a re-entrant call for the same key instead of starting a second one', async () => {
    const group = createSingleflight<string>()
    let inner: Promise<string> | undefined
    const fn = vi.fn(async () => {
      inner = group.do('k', fn)
      return 'outer'
    })
    expect(await group.do('k', fn)).toBe('outer')
    expect(await inner).toBe('outer')
    expect(fn).toHaveBeenCalledTimes(1)
  })
})
