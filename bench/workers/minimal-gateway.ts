/**
 * The floor for POST /v1/images/generations: a bare node:http server doing only the steps a
 * paid, verified, stored generation cannot skip, with no framework, no validation, no catalog,
 * no retries and no access control. Per request: a credit hold (a FULL commit), the generation
 * row, the upstream call on a keep-alive agent, the base64 image cut out of the answer and
 * decoded, the integrity check (imagegate's own: the PNG's chunks and CRCs walked, no pixel
 * decoded), the bytes hashed and stored (the blob's mtime refreshed when it is already there,
 * else temp file, fsync, rename, directory fsync), the asset row, the settlement (a FULL commit), the generation row finished,
 * and the OpenAI-shaped answer carrying the same base64 text.
 */
import { createHash, randomUUID } from 'node:crypto'
import { mkdirSync, statSync, utimesSync } from 'node:fs'
import { open, rename } from 'node:fs/promises'
import { Agent, type IncomingMessage, request, type ServerResponse } from 'node:http'
import path from 'node:path'
import { assertIntact } from '../../services/api/src/images/integrity.ts'
import { blobPlace, fsyncDir, makeDirDurably } from '../lib/durable-dirs.ts'
import { serveOnLoopback } from '../lib/minimal-server.ts'
import { openSqlite } from '../lib/sqlite.ts'

type Input = { upstream: string; dir: string }

const input = JSON.parse(process.argv[2] ?? '{}') as Input
const upstream = new URL('/v1/images/generations', input.upstream)
const tmpDir = path.join(input.dir, 'tmp')
const blobsDir = path.join(input.dir, 'sha256')
mkdirSync(tmpDir, { recursive: true })
mkdirSync(blobsDir, { recursive: true })

const file = path.join(input.dir, 'minimal.sqlite')
const normal = openSqlite(file, 'NORMAL')
normal.exec(`
  create table if not exists accounts (workspace_id text primary key, balance integer not null);
  create table if not exists ledger (id text primary key, workspace_id text not null,
    amount integer not null, state text not null, created_at text not null);
  create table if not exists generations (id text primary key, workspace_id text not null,
    prompt text not null, parameters text not null, status text not null, asset_id text,
    created_at text not null);
  create table if not exists assets (id text primary key, workspace_id text not null,
    content_hash text not null, size_bytes integer not null, created_at text not null,
    unique (workspace_id, content_hash));
  insert or ignore into accounts values ('default', 1000000000);`)
const durable = openSqlite(file, 'FULL')
const debit = durable.prepare(
  "update accounts set balance = balance - 4 where workspace_id = 'default' and balance >= 4",
)
const insertHold = durable.prepare("insert into ledger values (?, 'default', 4, 'held', ?)")
const settleHold = durable.prepare("update ledger set state = 'settled' where id = ?")
const hold = durable.transaction((id: string) => {
  if (debit.run().changes !== 1) {
    throw new Error('insufficient credits')
  }
  insertHold.run(id, new Date().toISOString())
})
const settle = durable.transaction((id: string) => {
  settleHold.run(id)
})
const insertGeneration = normal.prepare(
  "insert into generations values (?, 'default', ?, ?, 'running', null, ?)",
)
const finishGeneration = normal.prepare(
  "update generations set status = 'succeeded', asset_id = ? where id = ?",
)
const insertAsset = normal.prepare(
  "insert into assets values (?, 'default', ?, ?, ?) on conflict do nothing",
)

const agent = new Agent({ keepAlive: true, maxSockets: 64 })
const B64_KEY = Buffer.from('"b64_json":"')

function readAll(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    stream.on('data', (chunk: Buffer) => chunks.push(chunk))
    stream.on('end', () => resolve(Buffer.concat(chunks)))
    stream.on('error', reject)
  })
}

function callUpstream(body: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const call = request(
      upstream,
      {
        method: 'POST',
        agent,
        headers: {
          authorization: 'Bearer sk-bench',
          'content-type': 'application/json',
          'content-length': body.byteLength,
        },
      },
      (res) => {
        readAll(res).then((answer) => {
          if (res.statusCode !== 200) {
            reject(new Error(`upstream answered ${res.statusCode}`))
          } else {
            resolve(answer)
          }
        }, reject)
      },
    )
    call.on('error', reject)
    call.end(body)
  })
}

async function storeBlob(bytes: Buffer, sha256: string) {
  const { shardDir, blobPath } = blobPlace(blobsDir, sha256)
  if (statSync(blobPath, { throwIfNoEntry: false })?.size === bytes.byteLength) {
    const now = new Date()
    utimesSync(blobPath, now, now)
    return
  }
  const tempPath = path.join(tmpDir, `${randomUUID()}.part`)
  const handle = await open(tempPath, 'wx', 0o444)
  try {
    await handle.write(bytes)
    await handle.sync()
  } finally {
    await handle.close()
  }
  await makeDirDurably(shardDir)
  await rename(tempPath, blobPath)
  await fsyncDir(shardDir)
}

async function generate(req: IncomingMessage, res: ServerResponse) {
  const requestBody = await readAll(req)
  const { prompt, model, size } = JSON.parse(requestBody.toString()) as Record<string, string>
  const id = randomUUID()
  hold(id)
  insertGeneration.run(id, prompt, JSON.stringify({ model, size }), new Date().toISOString())
  const answer = await callUpstream(requestBody)
  const start = answer.indexOf(B64_KEY) + B64_KEY.length
  const end = answer.indexOf(0x22, start)
  if (start < B64_KEY.length || end === -1) {
    throw new Error('no image in the upstream answer')
  }
  const base64 = answer.subarray(start, end)
  const bytes = Buffer.from(base64.toString('latin1'), 'base64')
  // PNG: width and height are the IHDR's first two fields.
  const width = bytes.readUInt32BE(16)
  const height = bytes.readUInt32BE(20)
  await assertIntact(bytes)
  const sha256 = createHash('sha256').update(bytes).digest('hex')
  await storeBlob(bytes, sha256)
  const assetId = randomUUID()
  insertAsset.run(assetId, sha256, bytes.byteLength, new Date().toISOString())
  settle(id)
  finishGeneration.run(assetId, id)
  const head = Buffer.from(`{"created":${Math.floor(Date.now() / 1000)},"data":[{"b64_json":"`)
  const tail = Buffer.from(
    `","asset_id":"${assetId}","content_hash":"${sha256}","media_type":"image/png",` +
      `"width":${width},"height":${height}}],"generation_id":"${id}"}`,
  )
  res.writeHead(200, {
    'content-type': 'application/json',
    'content-length': head.byteLength + base64.byteLength + tail.byteLength,
  })
  res.write(head)
  res.write(base64)
  res.end(tail)
}

serveOnLoopback(generate, () => {
  agent.destroy()
  durable.close()
  normal.close()
})
