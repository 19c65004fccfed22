/**
 * Typed errors of the refinement building blocks. Plain classes: `to-app-error.ts` alone turns
 * them into the product's error answers.
 */

/** The conversation (earlier steps plus the new request) has more turns than the model allows. */
export class ChainTooLongError extends Error {
  override name = 'ChainTooLongError'
  constructor(
    /** Turns the request would have: earlier steps + 1. A lower bound when `atLeast` is set. */
    readonly turns: number,
    readonly maxTurns: number,
    /** The lineage walk stopped at the limit, so the chain may be longer still. */
    readonly atLeast = false,
  ) {
    super(
      `This refinement would be turn ${atLeast ? `${turns} or later` : turns} of its chain; the model accepts at most ${maxTurns} turns. Start a new chain from the latest image by passing it as an input image instead of a parent`,
    )
  }
}

/** A stored model turn that cannot be sent back as it is (missing, or not a content object). */
export class UnreplayableModelTurnError extends Error {
  override name = 'UnreplayableModelTurnError'
  constructor(
    /** 0-based position of the step in the chain. */
    readonly stepIndex: number,
    readonly generationId: string | undefined,
    readonly problem: string,
  ) {
    super(
      `The stored model turn of step ${stepIndex + 1}${generationId ? ` (generation ${generationId})` : ''} cannot be replayed: ${problem}`,
    )
  }
}

/** A parent named in a lineage does not load (deleted, or never existed in this workspace). */
export class BrokenLineageError extends Error {
  override name = 'BrokenLineageError'
  constructor(
    readonly missingId: string,
    /** 0 for the generation the request named, 1 for its parent, and so on. */
    readonly depth: number,
  ) {
    super(
      depth === 0
        ? `No generation with id '${missingId}'`
        : `Generation '${missingId}', an ancestor of the requested parent, no longer exists`,
    )
  }
}

/** The parent links of a lineage loop back on themselves (corrupt data: never a client error). */
export class LineageCycleError extends Error {
  override name = 'LineageCycleError'
  constructor(readonly repeatedId: string) {
    super(`The lineage of generation '${repeatedId}' loops back on itself`)
  }
}
