import type { Readable } from 'node:stream'
import type { Logger } from 'pino'
import { z } from 'zod'
import type { AssetFilter, AssetsRepository } from '../db/ports.ts'
import type { AssetRow } from '../db/schema/index.ts'
import { AppError, InvalidRequestError, NotFoundError } from '../errors/app-error.ts'
import { refuseNulText } from '../errors/nul-text.ts'
import { invalidRequestFromIssues } from '../errors/zod-issues.ts'
import type { Clock, IdGenerator } from '../ids.ts'
import { inspectImage } from '../images/inspect.ts'
import { checkedWhileRead, createIntegrityCheck, type IntegrityCheck } from '../images/integrity.ts'
import { AssetKindSchema, FolderPathSchema } from '../schemas/asset.ts'
import type { BlobPins, ReleasePin } from '../storage/blob-pins.ts'
import type {
  BlobStore,
  ByteRange,
  ByteSource,
  GuardDelete,
  PutResult,
} from '../storage/blob-store.ts'
import { chunksOf } from '../storage/byte-source.ts'
import { BlobCorruptError, BlobNotFoundError } from '../storage/errors.ts'
import { keysetPage, pageAfter } from './page-cursor.ts'

const DIGEST = /^[0-9a-f]{64}$/

const UploadMetaSchema = z.object({
  kind: AssetKindSchema.default('image'),
  description: z.string().max(2000).optional(),
  folderPath: FolderPathSchema.default('/uploads'),
  sourceTaskId: z.string().min(1).max(200).optional(),
  sourceAgentImUserId: z.string().min(1).max(200).optional(),
})

export type AssetMeta = z.input<typeof UploadMetaSchema>

/**
 * Reads an upload's request for `upload`: passes the file's bytes to `storeFile` as they arrive,
 * then resolves with the text fields and the stored file (undefined when there was none).
 */
export type UploadReceiver = (
  storeFile: (bytes: Readable) => Promise<PutResult>,
) => Promise<{ fields: Record<string, string>; stored: PutResult | undefined }>

export type AssetServiceDeps = {
  repo: AssetsRepository
  blobs: BlobStore
  pins: BlobPins
  ids: IdGenerator
  clock: Clock
  log: Logger
  limits: { maxUploadBytes: number; maxPixels: number }
  /**
   * Keep rows read by `get` (default true). Only right when this process is the database's
   * only writer: with instances sharing a database, another one may delete a kept row.
   */
  cacheRows?: boolean
}

/** Validates the `x-content-sha256` header: required, 64 lowercase hex. */
export function parseDeclaredDigest(header: string | undefined): string {
  if (header === undefined || header === '') {
    throw new AppError('missing_digest', 'The x-content-sha256 header is required', {
      param: 'x-content-sha256',
    })
  }
  if (!DIGEST.test(header)) {
    throw new AppError(
      'invalid_digest',
      'x-content-sha256 must be the sha256 of the file as 64 lowercase hex characters',
      { param: 'x-content-sha256' },
    )
  }
  return header
}

function parseMeta(fields: Record<string, string>) {
  const parsed = UploadMetaSchema.safeParse(fields)
  if (!parsed.success) {
    throw invalidRequestFromIssues(parsed.error.issues)
  }
  refuseNulText(parsed.data)

  return parsed.data
}

/** Rows kept by `get`; a few MB at most. */
const CACHED_ROWS = 4096

export function createAssetService(deps: AssetServiceDeps) {
  const { repo, blobs, pins, log, limits } = deps
  /**
   * Asset rows by workspace and id, for `get`: a row never changes once written (there is no
   * update, only `remove`, which drops it here too), and when this process is the database's
   * only writer a kept row is the row. A content GET or 304 then costs no query. Oldest first out.
   */
  const rows = new Map<string, AssetRow>()
  const cachedRows = deps.cacheRows === false ? 0 : CACHED_ROWS
  const rowKey = (workspaceId: string, id: string) => `${workspaceId}\u0000${id}`

  /**
   * Sniffs and measures stored bytes, then records them as an asset of the workspace. `intact`,
   * the integrity check that saw the bytes as they were stored, must pass first.
   */
  async function record(
    workspaceId: string,
    stored: PutResult,
    meta: z.output<typeof UploadMetaSchema>,
    intact?: IntegrityCheck,
  ): Promise<{ asset: AssetRow; created: boolean }> {
    const image = await inspectImage(
      { head: stored.head, tail: stored.tail, path: stored.path },
      { maxPixels: limits.maxPixels },
    )
    intact?.finish()
    return repo.insertOrGet({
      id: deps.ids('ast'),
      workspaceId,
      kind: meta.kind,
      mediaType: image.mediaType,
      contentHash: stored.sha256,
      sizeBytes: stored.sizeBytes,
      width: image.width,
      height: image.height,
      description: meta.description ?? null,
      folderPath: meta.folderPath,
      sourceTaskId: meta.sourceTaskId ?? null,
      sourceAgentImUserId: meta.sourceAgentImUserId ?? null,
      createdAt: deps.clock.now().toISOString(),
    })
  }

  /**
   * Discards run one at a time: each holds a database connection for its pin lock while it asks
   * for another for the reference check, so a burst of them must not take the whole pool.
   */
  let discarding: Promise<void> = Promise.resolve()

  /**
   * Drops bytes this request wrote and nobody references, right away (GC would, later). The
   * caller has released its own pin; a request that pins the digest meanwhile, on any instance,
   * either keeps the bytes or waits for the delete and then stores them again (unlessPinned).
   */
  function discardIfOrphan(stored: PutResult): Promise<void> {
    if (!stored.created) {
      return Promise.resolve()
    }
    discarding = discarding.then(() =>
      pins
        .unlessPinned(stored.sha256, async () => {
          if (!(await repo.isHashReferenced(stored.sha256))) {
            await blobs.delete(stored.sha256)
          }
        })
        .then(
          () => undefined,
          (err: unknown) => log.warn({ err }, 'discard failed'),
        ),
    )
    return discarding
  }

  /**
   * A put that wrote over other bytes it found (PutResult.replaced) looks once more under its
   * pin: a delete that no pin holds back (another process's quarantine of those bytes) may have
   * taken its own. Lost bytes are stored again while they are still at hand.
   */
  async function storedAgainIfLost(
    stored: PutResult,
    source: Uint8Array | ByteSource,
  ): Promise<PutResult> {
    if (stored.replaced !== true || (await blobs.has(stored.sha256))) {
      return stored
    }
    if (!(source instanceof Uint8Array)) {
      throw new Error('stored bytes were deleted before they were recorded')
    }
    return blobs.putBytes(source, { maxBytes: limits.maxUploadBytes })
  }

  /** Lets go of a pin that no longer protects anything, without waiting for it. */
  function releaseLater(release: () => Promise<void>) {
    release().catch((err: unknown) => log.warn({ err }, 'blob pin not released'))
  }

  /**
   * A pin taken for a put's `beforeWrite`, once the bytes are hashed and before the store looks
   * for, writes or refreshes them (or `early`, one already on its way): from then on no GC on
   * any instance can take the blob before the row that names it is committed, so what the put
   * found or wrote is there to reference.
   */
  function pinBeforeWrite(early?: Promise<ReleasePin>) {
    let pinning = early
    pinning?.catch(() => {})
    let failure: unknown
    return {
      beforeWrite: async (sha256: string) => {
        pinning ??= pins.pin(sha256)
        try {
          await pinning
        } catch (error) {
          failure = error
          throw error
        }
      },
      release: (): Promise<void> =>
        pinning === undefined
          ? Promise.resolve()
          : pinning.then(
              (release) => release(),
              () => {},
            ),
      /** What a failed put throws: the pin's own error (a database outage) if that failed it. */
      errorOf: (error: unknown) => failure ?? error,
    }
  }

  return {
    /**
     * POST /v1/assets: uploaded bytes verified against the declared digest. `receive` reads the
     * request (the route parses the multipart body): it hands the file's byte stream to
     * `storeFile` as it arrives and resolves with the text fields and what was stored.
     */
    async upload(workspaceId: string, declaredDigest: string | undefined, receive: UploadReceiver) {
      const expectedSha256 = parseDeclaredDigest(declaredDigest)
      // Taken while the body arrives; the put waits for it before it touches the store.
      const pin = pinBeforeWrite(pins.pin(expectedSha256))
      const intact = createIntegrityCheck({ maxPixels: limits.maxPixels })
      let stored: PutResult | undefined
      try {
        const received = await receive((bytes) =>
          blobs.put(checkedWhileRead(bytes, intact), {
            maxBytes: limits.maxUploadBytes,
            expectedSha256,
            beforeWrite: pin.beforeWrite,
          }),
        )
        stored = received.stored
        if (!stored) {
          throw new InvalidRequestError('The multipart body has no `file` part', { param: 'file' })
        }
        const recorded = await record(workspaceId, stored, parseMeta(received.fields), intact)
        // The row names the blob now: the pin can go without anyone waiting for it.
        releaseLater(pin.release)
        return recorded
      } catch (err) {
        await pin.release()
        if (stored) {
          await discardIfOrphan(stored)
        }
        throw pin.errorOf(err)
      }
    },

    /**
     * Stores bytes that did not come through `upload` (generated images, an edit's input files)
     * as an asset, through the same integrity check. `verified`, when given, is that check run
     * by the caller meanwhile (a generation maps its failure to the provider's fault); it must
     * pass before the row is committed: its failure is the one thrown, and the stored bytes are
     * then discarded unless something else references them.
     */
    async ingest(
      workspaceId: string,
      /** Bytes in memory are hashed first, and not written again if the store has them. */
      source: Uint8Array | ByteSource,
      meta: AssetMeta,
      options: { verified?: Promise<unknown> } = {},
    ) {
      const { verified } = options
      // Awaited below; until then a rejection must not count as unhandled.
      verified?.catch(() => {})
      const intact =
        verified === undefined ? createIntegrityCheck({ maxPixels: limits.maxPixels }) : undefined
      const pin = pinBeforeWrite()
      let stored: PutResult
      try {
        if (source instanceof Uint8Array) {
          intact?.push(source)
          stored = await blobs.putBytes(source, {
            maxBytes: limits.maxUploadBytes,
            beforeWrite: pin.beforeWrite,
          })
        } else {
          stored = await blobs.put(intact ? checkedWhileRead(chunksOf(source), intact) : source, {
            maxBytes: limits.maxUploadBytes,
            beforeWrite: pin.beforeWrite,
          })
        }
      } catch (err) {
        await pin.release()
        await verified
        throw pin.errorOf(err)
      }
      try {
        stored = await storedAgainIfLost(stored, source)
        await verified
        const recorded = await record(workspaceId, stored, UploadMetaSchema.parse(meta), intact)
        // The row names the blob now: the pin can go without anyone waiting for it.
        releaseLater(pin.release)
        return recorded
      } catch (err) {
        await pin.release()
        await discardIfOrphan(stored)
        throw err
      }
    },

    async get(workspaceId: string, id: string): Promise<AssetRow> {
      const key = rowKey(workspaceId, id)
      const kept = rows.get(key)
      if (kept) {
        return kept
      }
      const row = await repo.get(workspaceId, id)
      if (!row) {
        throw new NotFoundError('asset', id)
      }
      if (cachedRows === 0) {
        return row
      }
      if (rows.size >= cachedRows) {
        rows.delete(rows.keys().next().value as string)
      }
      // Shared by every later caller: frozen, so no caller can change what the next one sees.
      rows.set(key, Object.freeze(row))
      return row
    },

    async list(workspaceId: string, filter: AssetFilter, page: { limit: number; cursor?: string }) {
      const beforeId = pageAfter(page.cursor)
      const found = await repo.list(workspaceId, filter, { limit: page.limit, beforeId })
      return keysetPage(found, page.limit)
    },

    async remove(workspaceId: string, id: string): Promise<AssetRow> {
      rows.delete(rowKey(workspaceId, id))
      const row = await repo.delete(workspaceId, id)
      if (!row) {
        throw new NotFoundError('asset', id)
      }
      return row
    },

    /**
     * The verified bytes of an asset; corrupt blobs are never served, and are quarantined while
     * no request on any instance has their digest pinned (an upload of the same bytes may be
     * storing them again).
     */
    async openContent(row: AssetRow, range?: ByteRange) {
      const guardDelete: GuardDelete = (sha256, work) => pins.unlessPinned(sha256, work)
      try {
        return await blobs.openVerified(
          row.contentHash,
          range ? { range, guardDelete } : { guardDelete },
        )
      } catch (err) {
        if (err instanceof BlobCorruptError || err instanceof BlobNotFoundError) {
          log.error(
            { err, assetId: row.id, contentHash: row.contentHash },
            'asset content failed verification; not served',
          )
          throw new AppError('internal_error', 'Internal error', { cause: err })
        }
        throw err
      }
    },

    /**
     * Mark and sweep. A pin counts as a reference, and each delete runs only while the digest
     * is unpinned, holding back new pins (BlobPins.unlessPinned), so no request on any instance
     * that shares the pins is left naming bytes this deletes. Expired pins are purged first.
     */
    async collectGarbage(graceMs: number) {
      await pins.purgeExpired()
      return blobs.collectGarbage({
        graceMs,
        isReferenced: async (sha256) =>
          (await pins.count(sha256)) > 0 || (await repo.isHashReferenced(sha256)),
        guardDelete: (sha256, work) => pins.unlessPinned(sha256, work),
      })
    },
  }
}

export type AssetService = ReturnType<typeof createAssetService>
