/**
 * The disk baseline for uploads, in-process, no HTTP: the same distinct PNG bodies as the upload
 * client, each hashed while written to a temp file, fsynced, renamed into a two-level shard
 * directory (`ab/cd/<rest>`, created durably like the store's), and the directory fsynced.
 */
import { createHash } from 'node:crypto'
import { mkdir, open, rename } from 'node:fs/promises'
import path from 'node:path'
import { blobPlace, fsyncDir, makeDirDurably } from '../lib/durable-dirs.ts'
import { type PhaseOptions, runPhases } from '../lib/phases.ts'
import { fixedPart, planPng, variablePart } from '../lib/png.ts'

type Input = PhaseOptions & { dir: string; sizeBytes: number; seed: string }

const input = JSON.parse(process.argv[2] ?? '{}') as Input
/** Like a socket delivers a big body: in pieces, each hashed and written as it arrives. */
const WRITE_PIECE = 64 * 1024

const plan = planPng(input.sizeBytes, input.seed)
const fixed = fixedPart(plan)
const tmpDir = path.join(input.dir, 'tmp')
const blobsDir = path.join(input.dir, 'sha256')
await mkdir(tmpDir, { recursive: true })
await mkdir(blobsDir, { recursive: true })

const { runs, totalOps } = await runPhases(input, async (sequence) => {
  const tempPath = path.join(tmpDir, `${process.pid}-${sequence}.part`)
  const handle = await open(tempPath, 'wx', 0o444)
  const hash = createHash('sha256')
  try {
    for (const piece of [fixed.bytes, variablePart(sequence)]) {
      for (let offset = 0; offset < piece.byteLength; offset += WRITE_PIECE) {
        const slice = piece.subarray(offset, offset + WRITE_PIECE)
        hash.update(slice)
        await handle.write(slice)
      }
    }
    await handle.sync()
  } finally {
    await handle.close()
  }
  const sha256 = hash.digest('hex')
  const { shardDir, blobPath } = blobPlace(blobsDir, sha256)
  await makeDirDurably(shardDir)
  await rename(tempPath, blobPath)
  await fsyncDir(shardDir)
  return plan.totalBytes
})
console.log(JSON.stringify({ runs, totalOps }))
