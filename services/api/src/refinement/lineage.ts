import { BrokenLineageError, ChainTooLongError, LineageCycleError } from './errors.ts'

/**
 * Walks a generation's parent links up to the root and returns the chain root first: the steps a
 * refinement of `leafId` replays. Loading is injected (the generations repository, scoped to the
 * caller's workspace), so an id of another workspace is simply missing. The walk stops as soon as
 * the chain cannot fit `maxTurns` (earlier steps + the new request): it loads at most
 * `maxTurns` generations, however long the chain is.
 */

export type LineageNode = { id: string; parentGenerationId?: string | null | undefined }

export async function loadLineage<Node extends LineageNode>(
  leafId: string,
  load: (generationId: string) => Promise<Node | undefined>,
  options: { maxTurns: number },
): Promise<Node[]> {
  if (!Number.isInteger(options.maxTurns) || options.maxTurns < 1) {
    throw new RangeError(`maxTurns must be a positive integer, got ${options.maxTurns}`)
  }
  const maxSteps = options.maxTurns - 1
  const leafFirst: Node[] = []
  const seen = new Set<string>()
  let nextId: string | null | undefined = leafId
  while (nextId) {
    if (seen.has(nextId)) {
      throw new LineageCycleError(nextId)
    }
    seen.add(nextId)
    const node: Node | undefined = await load(nextId)
    if (!node) {
      throw new BrokenLineageError(nextId, leafFirst.length)
    }
    leafFirst.push(node)
    nextId = node.parentGenerationId
    if (leafFirst.length > maxSteps) {
      // Counted exactly when this node is the root; otherwise the chain goes on further up.
      throw new ChainTooLongError(leafFirst.length + 1, options.maxTurns, Boolean(nextId))
    }
  }
  return leafFirst.reverse()
}
