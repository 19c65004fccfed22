import { and, desc, eq, gte, lt, lte, sql } from 'drizzle-orm'
import type { Db } from '../client.ts'
import type { AssetsRepository } from '../ports.ts'
import { assets } from '../schema/index.ts'
import { storedInstant } from './stored-instant.ts'

/** Which optional conditions a list query has; each combination is prepared once. */
const LIST_FILTERS = [
  'beforeId',
  'kind',
  'folderPath',
  'sourceTaskId',
  'mediaType',
  'createdAfter',
  'createdBefore',
] as const

type ListParams = Record<(typeof LIST_FILTERS)[number], string | undefined>

/**
 * Every query of the asset routes is built and prepared once, on first use, with placeholders:
 * rebuilding a drizzle query and re-preparing its statement on each call cost tens of µs of CPU
 * (the upload path ran three such queries; the hot GET lookup ~70 µs before it was prepared).
 */
export function createAssetsRepository(db: Db): AssetsRepository {
  const placeholder = (name: string) => sql.placeholder(name)
  const prepareById = () =>
    db
      .select()
      .from(assets)
      .where(
        and(eq(assets.workspaceId, placeholder('workspaceId')), eq(assets.id, placeholder('id'))),
      )
      .prepare()
  const prepareInsert = () =>
    db
      .insert(assets)
      .values({
        id: placeholder('id'),
        workspaceId: placeholder('workspaceId'),
        kind: placeholder('kind'),
        mediaType: placeholder('mediaType'),
        contentHash: placeholder('contentHash'),
        sizeBytes: placeholder('sizeBytes'),
        width: placeholder('width'),
        height: placeholder('height'),
        description: placeholder('description'),
        folderPath: placeholder('folderPath'),
        sourceTaskId: placeholder('sourceTaskId'),
        sourceAgentImUserId: placeholder('sourceAgentImUserId'),
        createdAt: placeholder('createdAt'),
      })
      .onConflictDoNothing()
      .returning()
      .prepare()
  const prepareByHash = () =>
    db
      .select()
      .from(assets)
      .where(
        and(
          eq(assets.workspaceId, placeholder('workspaceId')),
          eq(assets.contentHash, placeholder('contentHash')),
        ),
      )
      .prepare()
  const prepareDelete = () =>
    db
      .delete(assets)
      .where(
        and(eq(assets.workspaceId, placeholder('workspaceId')), eq(assets.id, placeholder('id'))),
      )
      .returning()
      .prepare()
  const prepareReferenced = () =>
    db
      .select({ one: sql<number>`1` })
      .from(assets)
      .where(eq(assets.contentHash, placeholder('contentHash')))
      .limit(1)
      .prepare()
  const prepareWorkspaceOf = () =>
    db
      .select({ workspaceId: assets.workspaceId })
      .from(assets)
      .where(eq(assets.id, placeholder('id')))
      .prepare()
  const prepareList = (present: ReadonlySet<string>) => {
    const conditions = [eq(assets.workspaceId, placeholder('workspaceId'))]
    if (present.has('beforeId')) {
      conditions.push(lt(assets.id, placeholder('beforeId')))
    }
    if (present.has('kind')) {
      conditions.push(eq(assets.kind, placeholder('kind')))
    }
    if (present.has('folderPath')) {
      // A byte-wise range, not LIKE: case-sensitive (paths are) and served by the folder index.
      conditions.push(gte(assets.folderPath, placeholder('folderPath')))
      conditions.push(lt(assets.folderPath, placeholder('folderPathEnd')))
    }
    if (present.has('sourceTaskId')) {
      conditions.push(eq(assets.sourceTaskId, placeholder('sourceTaskId')))
    }
    if (present.has('mediaType')) {
      conditions.push(eq(assets.mediaType, placeholder('mediaType')))
    }
    if (present.has('createdAfter')) {
      conditions.push(gte(assets.createdAt, placeholder('createdAfter')))
    }
    if (present.has('createdBefore')) {
      conditions.push(lte(assets.createdAt, placeholder('createdBefore')))
    }
    return db
      .select()
      .from(assets)
      .where(and(...conditions))
      .orderBy(desc(assets.id))
      .limit(placeholder('limit'))
      .prepare()
  }
  let byId: ReturnType<typeof prepareById> | undefined
  let insert: ReturnType<typeof prepareInsert> | undefined
  let byHash: ReturnType<typeof prepareByHash> | undefined
  let deleteById: ReturnType<typeof prepareDelete> | undefined
  let referenced: ReturnType<typeof prepareReferenced> | undefined
  let workspaceOf: ReturnType<typeof prepareWorkspaceOf> | undefined
  const lists = new Map<string, ReturnType<typeof prepareList>>()

  return {
    async insertOrGet(row) {
      insert ??= prepareInsert()
      const inserted = insert.get({
        id: row.id,
        workspaceId: row.workspaceId,
        kind: row.kind,
        mediaType: row.mediaType,
        contentHash: row.contentHash,
        sizeBytes: row.sizeBytes,
        width: row.width ?? null,
        height: row.height ?? null,
        description: row.description ?? null,
        folderPath: row.folderPath,
        sourceTaskId: row.sourceTaskId ?? null,
        sourceAgentImUserId: row.sourceAgentImUserId ?? null,
        createdAt: row.createdAt,
      })
      if (inserted) {
        return { asset: inserted, created: true }
      }
      byHash ??= prepareByHash()
      const existing = byHash.get({ workspaceId: row.workspaceId, contentHash: row.contentHash })
      if (!existing) {
        throw new Error('asset insert conflicted but no row stands')
      }
      return { asset: existing, created: false }
    },

    async get(workspaceId, id) {
      byId ??= prepareById()
      return byId.get({ workspaceId, id })
    },

    /** Keyset on the time-ordered id: each page costs the same however many rows exist. */
    async list(workspaceId, filter, page) {
      const params: ListParams = {
        beforeId: page.beforeId || undefined,
        kind: filter.kind || undefined,
        folderPath: filter.folderPath || undefined,
        sourceTaskId: filter.sourceTaskId || undefined,
        mediaType: filter.mediaType || undefined,
        createdAfter: filter.createdAfter ? storedInstant(filter.createdAfter) : undefined,
        createdBefore: filter.createdBefore ? storedInstant(filter.createdBefore) : undefined,
      }
      const present = LIST_FILTERS.filter((name) => params[name] !== undefined)
      const key = present.join(',')
      let query = lists.get(key)
      if (!query) {
        query = prepareList(new Set(present))
        lists.set(key, query)
      }
      return query.all({
        ...params,
        workspaceId,
        folderPathEnd:
          params.folderPath === undefined ? undefined : `${params.folderPath}\u{10FFFF}`,
        limit: page.limit + 1,
      })
    },

    async delete(workspaceId, id) {
      deleteById ??= prepareDelete()
      return deleteById.get({ workspaceId, id })
    },

    async isHashReferenced(contentHash) {
      referenced ??= prepareReferenced()
      return referenced.get({ contentHash }) !== undefined
    },

    async workspaceOf(assetId) {
      workspaceOf ??= prepareWorkspaceOf()
      return workspaceOf.get({ id: assetId })?.workspaceId
    },
  }
}
