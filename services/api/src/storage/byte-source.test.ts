import { describe, expect, it } from 'vitest'
import { chunksOf } from './byte-source.ts'

const bytes = (...values: number[]) => new Uint8Array(values)

describe('chunksOf', () => {
  it('yields the chunks of an async iterable', async () => {
    async function* source() {
      yield bytes(1)
      yield bytes(2, 3)
    }
    const seen: number[][] = []
    for await (const chunk of chunksOf(source())) {
      seen.push([...chunk])
    }
    expect(seen).toEqual([[1], [2, 3]])
  })

  it('yields the chunks of a web ReadableStream', async () => {
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes(4))
        controller.enqueue(bytes(5))
        controller.close()
      },
    })
    const seen: number[][] = []
    for await (const chunk of chunksOf(stream)) {
      seen.push([...chunk])
    }
    expect(seen).toEqual([[4], [5]])
  })

  it('cancels a web stream when the consumer stops early', async () => {
    let cancelled = false
    let pulls = 0
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulls += 1
        controller.enqueue(bytes(pulls))
      },
      cancel() {
        cancelled = true
      },
    })
    for await (const chunk of chunksOf(stream)) {
      if (chunk[0] === 3) {
        break
      }
    }
    expect(cancelled).toBe(true)
    expect(pulls).toBeLessThan(10)
  })

  it('passes on the error of a failing web stream', async () => {
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.error(new Error('connection reset'))
      },
    })
    await expect(async () => {
      for await (const _ of chunksOf(stream)) {
        // drain
      }
    }).rejects.toThrow('connection reset')
  })
})
