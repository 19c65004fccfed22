import { describe, expect, it } from 'vitest'
import { MIN_RELEASED_BYTES, releaseArrayBuffers } from './release-buffers.ts'

describe('releaseArrayBuffers', () => {
  it('detaches large buffers: their views read nothing afterwards', () => {
    const buffer = new ArrayBuffer(MIN_RELEASED_BYTES)
    const view = new Uint8Array(buffer, 10, 100)
    releaseArrayBuffers([buffer])
    expect(buffer.byteLength).toBe(0)
    expect(view.byteLength).toBe(0)
    expect(view[0]).toBeUndefined()
  })

  it('leaves small buffers, shared memory and Node’s pool alone', () => {
    const small = new ArrayBuffer(MIN_RELEASED_BYTES - 1)
    const shared = new SharedArrayBuffer(MIN_RELEASED_BYTES)
    const pooled = Buffer.from('a string small enough for the shared pool')
    releaseArrayBuffers([small, shared, pooled.buffer])
    expect(small.byteLength).toBe(MIN_RELEASED_BYTES - 1)
    expect(shared.byteLength).toBe(MIN_RELEASED_BYTES)
    expect(pooled.toString()).toBe('a string small enough for the shared pool')
  })

  it('takes the same buffer twice, and one already released, without complaint', () => {
    const buffer = new ArrayBuffer(MIN_RELEASED_BYTES * 2)
    releaseArrayBuffers([buffer, buffer])
    expect(() => releaseArrayBuffers([buffer])).not.toThrow()
    expect(buffer.byteLength).toBe(0)
  })
})
