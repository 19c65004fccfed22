import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import Sqlite from 'better-sqlite3'
import { blobPathIn, storeFiles } from './store-files.ts'

export type AuditedAsset = {
  id: string
  workspaceId: string
  contentHash: string
  sizeBytes: number
}

/**
 * Looks at a data dir the way an operator would after a crash, with the server stopped: SQLite's
 * own integrity check, every asset row, and for each row whether its blob exists and re-hashes.
 */
export function auditDataDir(dataDir: string) {
  const sqlite = new Sqlite(path.join(dataDir, 'imagegate.db'), {
    readonly: true,
    fileMustExist: true,
  })
  let integrity: unknown
  let rows: AuditedAsset[]
  try {
    integrity = sqlite.pragma('integrity_check', { simple: true })
    rows = sqlite
      .prepare(
        'select id, workspace_id as workspaceId, content_hash as contentHash, size_bytes as sizeBytes from assets',
      )
      .all() as AuditedAsset[]
  } finally {
    sqlite.close()
  }
  const blobRoot = path.join(dataDir, 'blobs')
  const rowsWithoutValidBlob = rows.filter((row) => {
    const blobPath = blobPathIn(blobRoot, row.contentHash)
    if (!existsSync(blobPath)) {
      return true
    }
    const bytes = readFileSync(blobPath)
    return (
      bytes.byteLength !== row.sizeBytes ||
      createHash('sha256').update(bytes).digest('hex') !== row.contentHash
    )
  })
  return { integrity, rows, rowsWithoutValidBlob, files: storeFiles(blobRoot) }
}
