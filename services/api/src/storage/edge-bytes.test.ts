import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createEdgeBytes } from './edge-bytes.ts'

describe('createEdgeBytes', () => {
  it('keeps exactly the first and last bytes, whatever the chunking', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 12 }),
        fc.integer({ min: 1, max: 32 }),
        (chunks, limit) => {
          const edges = createEdgeBytes(limit)
          for (const chunk of chunks) {
            edges.add(chunk)
          }
          const all = chunks.flatMap((chunk) => [...chunk])
          expect([...edges.head()]).toEqual(all.slice(0, limit))
          expect([...edges.tail()]).toEqual(all.slice(Math.max(0, all.length - limit)))
        },
      ),
    )
  })

  it('is empty for an empty stream', () => {
    const edges = createEdgeBytes()
    expect(edges.head().byteLength).toBe(0)
    expect(edges.tail().byteLength).toBe(0)
  })
})
