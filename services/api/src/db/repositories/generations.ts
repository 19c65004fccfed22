import { and, desc, eq, inArray, lt, notExists, sql } from 'drizzle-orm'
import type { Db } from '../client.ts'
import type { GenerationsRepository } from '../ports.ts'
import {
  type GenerationRow,
  generationJobs,
  generations,
  type NewGeneration,
} from '../schema/index.ts'
import { generationListConditions } from './generation-list.ts'
import { storedInstant } from './stored-instant.ts'

/**
 * The generation path's statements (insert, update, get by id) are built and prepared once per
 * set of columns, on first use, with placeholders: rebuilding a drizzle query and re-preparing it
 * on every call cost more than SQLite's own work. Columns a call leaves undefined are left out,
 * as `db.insert(…).values(row)` and `.set(changes)` leave them out.
 */
/**
 * A synchronous insert of generation rows on `db`'s connection, prepared once per set of
 * columns: for a transaction that writes a generation together with other rows (a job's).
 */
export function createGenerationInsert(db: Db): (row: NewGeneration) => GenerationRow {
  const prepare = (columns: string[]) =>
    db
      .insert(generations)
      .values(
        Object.fromEntries(
          columns.map((column) => [column, sql.placeholder(column)]),
        ) as unknown as NewGeneration,
      )
      .returning()
      .prepare()
  const statements = new Map<string, ReturnType<typeof prepare>>()
  return (row) => {
    const columns = Object.keys(row).filter(
      (column) => row[column as keyof NewGeneration] !== undefined,
    )
    const key = columns.join(',')
    let statement = statements.get(key)
    if (!statement) {
      statement = prepare(columns)
      statements.set(key, statement)
    }
    return statement.get(row) as GenerationRow
  }
}

export function createGenerationsRepository(db: Db): GenerationsRepository {
  const placeholder = (name: string) => sql.placeholder(name)
  // drizzle encodes placeholder values with the column's mapping (JSON columns included), but
  // its types admit placeholders in `values` only loosely and in `set` not at all.
  const placeholders = (columns: string[]) =>
    Object.fromEntries(
      columns.map((column) => [column, placeholder(column)]),
    ) as unknown as NewGeneration
  const prepareUpdate = (columns: string[]) =>
    db
      .update(generations)
      .set(placeholders(columns))
      .where(eq(generations.id, placeholder('id')))
      .returning()
      .prepare()
  const prepareById = () =>
    db
      .select()
      .from(generations)
      .where(
        and(
          eq(generations.workspaceId, placeholder('workspaceId')),
          eq(generations.id, placeholder('id')),
        ),
      )
      .prepare()
  const insert = createGenerationInsert(db)
  const updates = new Map<string, ReturnType<typeof prepareUpdate>>()
  let byId: ReturnType<typeof prepareById> | undefined

  function statementFor<S>(
    cache: Map<string, S>,
    values: Record<string, unknown>,
    prepare: (columns: string[]) => S,
  ): S {
    const columns = Object.keys(values).filter((column) => values[column] !== undefined)
    const key = columns.join(',')
    let statement = cache.get(key)
    if (!statement) {
      statement = prepare(columns)
      cache.set(key, statement)
    }
    return statement
  }

  /** Sets the given columns; answers the row as stored, undefined when there is no such id. */
  function updateReturning(id: string, changes: Partial<NewGeneration>) {
    const statement = statementFor(updates, changes, prepareUpdate)
    return statement.get({ ...changes, id }) as GenerationRow | undefined
  }

  return {
    async insert(row) {
      return insert(row)
    },

    async update(id, changes) {
      updateReturning(id, changes)
    },

    /** `update` and `get` in one statement (UPDATE … RETURNING). */
    updateReturning: async (id, changes) => updateReturning(id, changes),

    async get(workspaceId, id) {
      byId ??= prepareById()
      return byId.get({ workspaceId, id })
    },

    /**
     * The newest generation of the workspace that returned this asset. Identical bytes are one
     * asset, so a deterministic renderer can return the same asset from several generations.
     */
    async findByAsset(workspaceId, assetId) {
      return db
        .select()
        .from(generations)
        .where(
          and(
            eq(generations.workspaceId, workspaceId),
            sql`exists (select 1 from json_each(${generations.assetIds}) where json_each.value = ${assetId})`,
          ),
        )
        .orderBy(desc(generations.id))
        .limit(1)
        .get()
    },

    /**
     * Marks every generation still `running` or `queued` that no unfinished job owns (created
     * before `scope.createdBefore`, when given) as failed with `error`, and answers how many.
     * Unbounded only for a moment when this process runs none: at start-up every such row was
     * left by a process that stopped (a crash), and at shutdown by generations the grace period
     * cut short. A job's generation is the job queue's to finish.
     */
    async failRunning(error, finishedAt, scope = {}) {
      return db
        .update(generations)
        .set({ status: 'failed', error, finishedAt })
        .where(
          and(
            inArray(generations.status, ['running', 'queued']),
            scope.createdBefore === undefined
              ? undefined
              : lt(generations.createdAt, storedInstant(scope.createdBefore)),
            notExists(
              db
                .select({ id: generationJobs.generationId })
                .from(generationJobs)
                .where(
                  and(
                    eq(generationJobs.generationId, generations.id),
                    inArray(generationJobs.state, ['queued', 'running']),
                  ),
                ),
            ),
          ),
        )
        .run().changes
    },

    /** Newest first by time-ordered id; a chain (rootId) comes oldest first, in the order it grew. */
    async list(workspaceId, filter, page) {
      const chain = filter.rootId !== undefined
      const conditions = generationListConditions(generations, workspaceId, filter, page.afterId)
      const query = db
        .select()
        .from(generations)
        .where(and(...conditions))
      return (chain ? query.orderBy(generations.id) : query.orderBy(desc(generations.id)))
        .limit(page.limit + 1)
        .all()
    },
  }
}
