/**
 * The floor for POST /v1/assets: a bare node:http server doing only the steps a verified,
 * durable upload cannot skip, with no framework, no access control and no limits. It streams
 * the one multipart part into a temp file while hashing it, checks the digest header and the PNG
 * signature, fsyncs, renames into the two-level shard directory, fsyncs that directory, inserts
 * the row (SQLite, WAL, synchronous=NORMAL) and answers 201 with a small JSON body.
 * What imagegate does beyond it (sniffing four formats, header dimensions, markup checks, the
 * de-duplication lock, metrics, logs, the full answer) is what the comparison prices.
 */
import { createHash, randomUUID } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { type FileHandle, open, rename, unlink } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import path from 'node:path'
import { blobPlace, fsyncDir, makeDirDurably } from '../lib/durable-dirs.ts'
import { serveOnLoopback } from '../lib/minimal-server.ts'
import { openSqlite } from '../lib/sqlite.ts'

type Input = { dir: string }

const input = JSON.parse(process.argv[2] ?? '{}') as Input
const tmpDir = path.join(input.dir, 'tmp')
const blobsDir = path.join(input.dir, 'sha256')
mkdirSync(tmpDir, { recursive: true })
mkdirSync(blobsDir, { recursive: true })

const sqlite = openSqlite(path.join(input.dir, 'minimal.sqlite'), 'NORMAL')
sqlite.exec(`create table if not exists assets (
  id text primary key, workspace_id text not null, content_hash text not null,
  size_bytes integer not null, media_type text not null, created_at text not null,
  unique (workspace_id, content_hash))`)
const insertAsset = sqlite.prepare(
  "insert into assets values (?, 'default', ?, ?, 'image/png', ?) on conflict do nothing",
)

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
const HEADER_END = Buffer.from('\r\n\r\n')
/** Writes go out in pieces of at least this much, like imagegate's. */
const WRITE_BATCH = 128 * 1024
const shardDirs = new Map<string, Promise<unknown>>()

/**
 * Streams the body's single part into `handle`: the part's headers are skipped, and the last
 * `closing.length` bytes are held back until the end, where the closing delimiter is cut off.
 * Pieces are hashed and written as they are (writev), never copied into one buffer.
 */
async function streamPart(req: IncomingMessage, handle: FileHandle, closing: Buffer) {
  const hash = createHash('sha256')
  let head: Buffer | undefined = Buffer.alloc(0)
  let pending: Buffer[] = []
  let pendingBytes = 0
  let first: Buffer | undefined
  let size = 0
  /** Writes everything pending but its last `keep` bytes. */
  const flush = async (keep: number) => {
    const out: Buffer[] = []
    let outBytes = pendingBytes - keep
    while (outBytes > 0) {
      const piece = pending[0] as Buffer
      if (piece.length <= outBytes) {
        out.push(piece)
        pending.shift()
        outBytes -= piece.length
      } else {
        out.push(piece.subarray(0, outBytes))
        pending[0] = piece.subarray(outBytes)
        outBytes = 0
      }
    }
    pendingBytes = keep
    for (const piece of out) {
      hash.update(piece)
      size += piece.length
    }
    if (out.length > 0) {
      first ??= Buffer.from((out[0] as Buffer).subarray(0, PNG_SIGNATURE.length))
      await handle.writev(out)
    }
  }
  for await (const chunk of req as AsyncIterable<Buffer>) {
    let data = chunk
    if (head !== undefined) {
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk])
      const end = head.indexOf(HEADER_END)
      if (end === -1) {
        continue
      }
      data = head.subarray(end + HEADER_END.length)
      head = undefined
    }
    pending.push(data)
    pendingBytes += data.length
    if (pendingBytes >= WRITE_BATCH + closing.length) {
      await flush(closing.length)
    }
  }
  await flush(closing.length)
  const tail = Buffer.concat(pending, pendingBytes)
  pending = []
  if (!tail.equals(closing)) {
    throw new Error('the body does not end with the closing delimiter')
  }
  return { sha256: hash.digest('hex'), size, first: first ?? Buffer.alloc(0) }
}

async function upload(req: IncomingMessage, res: ServerResponse) {
  const boundary = /boundary=([^;]+)/.exec(req.headers['content-type'] ?? '')?.[1]
  if (boundary === undefined) {
    res.writeHead(400).end()
    return
  }
  const tempPath = path.join(tmpDir, `${randomUUID()}.part`)
  const handle = await open(tempPath, 'wx', 0o444)
  let part: Awaited<ReturnType<typeof streamPart>>
  try {
    part = await streamPart(req, handle, Buffer.from(`\r\n--${boundary}--\r\n`))
    await handle.sync()
  } finally {
    await handle.close()
  }
  if (part.sha256 !== req.headers['x-content-sha256'] || !part.first.equals(PNG_SIGNATURE)) {
    await unlink(tempPath)
    res.writeHead(422).end()
    return
  }
  const { shardDir, blobPath } = blobPlace(blobsDir, part.sha256)
  // Made once per directory, as imagegate's store does.
  let made = shardDirs.get(shardDir)
  if (made === undefined) {
    made = makeDirDurably(shardDir)
    shardDirs.set(shardDir, made)
  }
  await made
  await rename(tempPath, blobPath)
  await fsyncDir(shardDir)
  const id = randomUUID()
  const createdAt = new Date().toISOString()
  insertAsset.run(id, part.sha256, part.size, createdAt)
  const body = JSON.stringify({
    id,
    contentHash: part.sha256,
    sizeBytes: part.size,
    mediaType: 'image/png',
    createdAt,
  })
  res
    .writeHead(201, { 'content-type': 'application/json', 'x-content-sha256': part.sha256 })
    .end(body)
}

serveOnLoopback(upload, () => {
  sqlite.close()
})
