import { describe, expect, it } from 'vitest'
import { BrokenLineageError, ChainTooLongError, LineageCycleError } from './errors.ts'
import { type LineageNode, loadLineage } from './lineage.ts'

/** A generations "table" and a loader that records which ids it was asked for. */
function store(nodes: LineageNode[]) {
  const byId = new Map(nodes.map((node) => [node.id, node]))
  const asked: string[] = []
  const load = async (id: string) => {
    asked.push(id)
    return byId.get(id)
  }
  return { load, asked }
}

const chainOf = (length: number): LineageNode[] =>
  Array.from({ length }, (_, index) => ({
    id: `gen_${index}`,
    parentGenerationId: index === 0 ? null : `gen_${index - 1}`,
  }))

describe('loadLineage', () => {
  it('returns parent → child → grandchild, root first', async () => {
    const { load } = store(chainOf(3))
    const lineage = await loadLineage('gen_2', load, { maxTurns: 10 })
    expect(lineage.map((node) => node.id)).toEqual(['gen_0', 'gen_1', 'gen_2'])
  })

  it('returns the single generation of a first step', async () => {
    const { load } = store([{ id: 'gen_root' }])
    expect(await loadLineage('gen_root', load, { maxTurns: 2 })).toEqual([{ id: 'gen_root' }])
  })

  it('accepts a chain that fills maxTurns with the new request', async () => {
    const { load } = store(chainOf(4))
    await expect(loadLineage('gen_3', load, { maxTurns: 5 })).resolves.toHaveLength(4)
  })

  it('counts exactly when the chain is one step too long', async () => {
    const { load } = store(chainOf(4))
    await expect(loadLineage('gen_3', load, { maxTurns: 4 })).rejects.toMatchObject({
      name: 'ChainTooLongError',
      turns: 5,
      maxTurns: 4,
      atLeast: false,
    })
  })

  it('stops after maxTurns loads on a long chain and says "or later"', async () => {
    const { load, asked } = store(chainOf(1000))
    const failure = loadLineage('gen_999', load, { maxTurns: 5 })
    await expect(failure).rejects.toBeInstanceOf(ChainTooLongError)
    await expect(failure).rejects.toMatchObject({ turns: 6, maxTurns: 5, atLeast: true })
    await expect(failure).rejects.toThrow(
      'This refinement would be turn 6 or later of its chain; the model accepts at most 5 turns.',
    )
    expect(asked).toEqual(['gen_999', 'gen_998', 'gen_997', 'gen_996', 'gen_995'])
  })

  it('with maxTurns 1, refuses any refinement of an existing generation', async () => {
    const { load } = store(chainOf(1))
    await expect(loadLineage('gen_0', load, { maxTurns: 1 })).rejects.toMatchObject({
      turns: 2,
      atLeast: false,
    })
  })

  it('reports a missing generation, and a missing ancestor, with its depth', async () => {
    const { load } = store(chainOf(3).slice(1))
    await expect(loadLineage('gen_x', load, { maxTurns: 10 })).rejects.toThrow(
      new BrokenLineageError('gen_x', 0),
    )
    await expect(loadLineage('gen_2', load, { maxTurns: 10 })).rejects.toMatchObject({
      name: 'BrokenLineageError',
      missingId: 'gen_0',
      depth: 2,
      message: "Generation 'gen_0', an ancestor of the requested parent, no longer exists",
    })
    expect(new BrokenLineageError('gen_x', 0).message).toBe("No generation with id 'gen_x'")
  })

  it('detects a cycle instead of looping', async () => {
    const { load } = store([
      { id: 'gen_a', parentGenerationId: 'gen_b' },
      { id: 'gen_b', parentGenerationId: 'gen_a' },
    ])
    await expect(loadLineage('gen_a', load, { maxTurns: 10 })).rejects.toThrow(
      new LineageCycleError('gen_a'),
    )
  })

  it('refuses a maxTurns that is not a positive integer', async () => {
    const { load } = store(chainOf(1))
    await expect(loadLineage('gen_0', load, { maxTurns: 0 })).rejects.toThrow(RangeError)
  })
})
