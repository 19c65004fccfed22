import { describe, expect, it } from 'vitest'
import { createKeyedLock } from './keyed-lock.ts'

const tick = () => new Promise((resolve) => setImmediate(resolve))

describe('createKeyedLock', () => {
  it('runs critical sections for one key one at a time, in arrival order', async () => {
    const withLock = createKeyedLock()
    const events: string[] = []
    const section = (name: string) =>
      withLock('k', async () => {
        events.push(`${name}:start`)
        await tick()
        await tick()
        events.push(`${name}:end`)
      })
    await Promise.all([section('a'), section('b'), section('c')])
    expect(events).toEqual(['a:start', 'a:end', 'b:start', 'b:end', 'c:start', 'c:end'])
  })

  it('lets different keys proceed concurrently', async () => {
    const withLock = createKeyedLock()
    const events: string[] = []
    const section = (key: string) =>
      withLock(key, async () => {
        events.push(`${key}:start`)
        await tick()
        events.push(`${key}:end`)
      })
    await Promise.all([section('x'), section('y')])
    expect(events.slice(0, 2).sort()).toEqual(['x:start', 'y:start'])
  })

  it('releases the key when the critical section throws', async () => {
    const withLock = createKeyedLock()
    await expect(
      withLock('k', async () => {
        throw new Error('boom')
      }),
    ).rejects.toThrow('boom')
    await expect(withLock('k', async () => 'next')).resolves.toBe('next')
  })
})
