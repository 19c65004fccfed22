import type {
  ApiKeyRow,
  AssetRow,
  apiKeys,
  assets,
  GenerationRow,
  NewGeneration,
  WorkspaceRow,
} from './schema/index.ts'

/**
 * The repository ports: what services ask of the metadata store, each with an adapter per
 * backend (db/repositories/ on SQLite, db/pg-repositories/ on PostgreSQL) and one shared test
 * suite. Rows have the shape of the SQLite schema's rows (db/schema/); the PostgreSQL adapters
 * answer the same shape. Every method is one statement or one commit.
 */

export type NewApiKey = typeof apiKeys.$inferInsert
export type NewAsset = typeof assets.$inferInsert

export type ApiKeysRepository = {
  insert(row: NewApiKey): Promise<ApiKeyRow>
  /** The live (not revoked) key with this sha256, if any. */
  findActiveByHash(keyHash: string): Promise<ApiKeyRow | undefined>
  get(id: string): Promise<ApiKeyRow | undefined>
  /** Oldest first (ids are time-ordered). */
  listByWorkspace(workspaceId: string): Promise<ApiKeyRow[]>
  /** Marks the key revoked (once); answers the row as it now stands. */
  revoke(id: string, at: string): Promise<ApiKeyRow | undefined>
  /** Live keys that hold the admin scope, in any workspace. */
  countActiveAdmins(): Promise<number>
}

/** A workspace's first grant: `units` (when above 0) under `reference`, once. */
export type InitialGrant = { units: number; reference: string }

export type WorkspacesRepository = {
  get(id: string): Promise<WorkspaceRow | undefined>
  /** Oldest first. */
  list(): Promise<WorkspaceRow[]>
  /**
   * The workspace, its credit account and its initial grant in one commit, so no crash leaves a
   * workspace without the credits it was created with. If the grant's reference was granted
   * already (a retry of the same request), answers that workspace and creates nothing.
   */
  createFunded(row: WorkspaceRow, grant: InitialGrant): Promise<WorkspaceRow>
}

/** What bootstrap commits: workspace, account, grant and admin key, all or nothing. */
export type BootstrapPlan = {
  workspace: WorkspaceRow
  grant: InitialGrant
  key: NewApiKey
  /** Runs inside the commit, before it: a failure rolls everything back. */
  beforeCommit(): void
}

export type BootstrapRepository = {
  /**
   * Commits `plan` unless a live admin key exists; answers whether it did. However many
   * instances call this at once on one database, at most one commits.
   */
  bootstrapAdmin(plan: BootstrapPlan): Promise<boolean>
}

export type AssetFilter = {
  kind?: string
  folderPath?: string
  sourceTaskId?: string
  mediaType?: string
  createdAfter?: string
  createdBefore?: string
}

export type AssetsRepository = {
  /** Inserts unless the workspace already has these bytes; answers the row that stands. */
  insertOrGet(row: NewAsset): Promise<{ asset: AssetRow; created: boolean }>
  get(workspaceId: string, id: string): Promise<AssetRow | undefined>
  /** Newest first, keyset on the time-ordered id; `limit + 1` rows, to tell if there are more. */
  list(
    workspaceId: string,
    filter: AssetFilter,
    page: { limit: number; beforeId?: string | undefined },
  ): Promise<AssetRow[]>
  delete(workspaceId: string, id: string): Promise<AssetRow | undefined>
  /** Whether any workspace still references these bytes (the GC's mark phase). */
  isHashReferenced(contentHash: string): Promise<boolean>
  /**
   * The workspace an asset belongs to, by id alone. Only a signed URL needs this: it carries no
   * API key, so the asset's own row says whose it is (asset ids are random and global).
   */
  workspaceOf(assetId: string): Promise<string | undefined>
}

export type GenerationFilter = {
  status?: GenerationRow['status']
  model?: string
  provider?: string
  rootId?: string
  createdAfter?: string
  createdBefore?: string
}

export type GenerationsRepository = {
  insert(row: NewGeneration): Promise<GenerationRow>
  update(id: string, changes: Partial<NewGeneration>): Promise<void>
  /** `update` and `get` in one statement; undefined when there is no such id. */
  updateReturning(id: string, changes: Partial<NewGeneration>): Promise<GenerationRow | undefined>
  get(workspaceId: string, id: string): Promise<GenerationRow | undefined>
  /** The newest generation of the workspace that returned this asset. */
  findByAsset(workspaceId: string, assetId: string): Promise<GenerationRow | undefined>
  /**
   * Marks every generation still `running` or `queued` that no unfinished job owns as failed
   * with `error`, and answers how many. With `createdBefore`, only those created before that
   * instant: on a database other processes share, theirs are live, so the bound must be one no
   * live generation can be older than (now minus the longest a generation may run, as the
   * ledger's stale-hold sweep uses). Without it, every one: only for a moment when no process
   * runs any (deps.ts, on SQLite, where one process owns the file).
   */
  failRunning(
    error: { code: string; message: string },
    finishedAt: string,
    scope?: { createdBefore?: string },
  ): Promise<number>
  /** Newest first by id; a chain (rootId) oldest first. `limit + 1` rows. */
  list(
    workspaceId: string,
    filter: GenerationFilter,
    page: { limit: number; afterId?: string | undefined },
  ): Promise<GenerationRow[]>
}
