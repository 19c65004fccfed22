import type { AssetRow } from '../db/schema/index.ts'
import type { Asset } from '../schemas/asset.ts'

export function assetUri(id: string) {
  return `imagegate://assets/${id}`
}

export function assetContentPath(id: string) {
  return `/v1/assets/${id}/content`
}

/** The wire form of an asset row: absent optional columns are omitted, never null. */
export function toAssetDto(row: AssetRow): Asset {
  return {
    id: row.id,
    workspaceId: row.workspaceId,
    kind: row.kind,
    mediaType: row.mediaType as Asset['mediaType'],
    contentHash: row.contentHash,
    sizeBytes: row.sizeBytes,
    ...(row.width === null ? {} : { width: row.width }),
    ...(row.height === null ? {} : { height: row.height }),
    ...(row.description === null ? {} : { description: row.description }),
    folderPath: row.folderPath,
    ...(row.sourceTaskId === null ? {} : { sourceTaskId: row.sourceTaskId }),
    ...(row.sourceAgentImUserId === null ? {} : { sourceAgentImUserId: row.sourceAgentImUserId }),
    uri: assetUri(row.id),
    cdnUrl: assetContentPath(row.id),
    createdAt: row.createdAt,
  }
}
