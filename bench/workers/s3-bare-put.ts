/**
 * The baseline of uploads to S3: a bare loop that PUTs the same distinct ~64 KiB PNGs the upload
 * client sends imagegate (lib/photo-uploads.ts) to the same server, with the same SDK, configured
 * and with the headers as imagegate's store sends them (testing/s3-objects.ts createBarePutter),
 * each under its sha256 as imagegate names blobs. No HTTP server in front, no multipart, no
 * checks, no database: the floor.
 */
import { createHash } from 'node:crypto'
import { createBarePutter } from '../../services/api/src/testing/s3-objects.ts'
import { type PhaseOptions, runPhases } from '../lib/phases.ts'
import { distinctUpload, photoUploadPool } from '../lib/photo-uploads.ts'

type Input = PhaseOptions & {
  endpoint: string
  region: string
  bucket: string
  prefix: string
  credentials: { accessKeyId: string; secretAccessKey: string }
  run: string
}

const input = JSON.parse(process.argv[2] ?? '{}') as Input
const pool = await photoUploadPool()
const putter = createBarePutter(input)

const result = await runPhases(input, async (sequence) => {
  const bytes = distinctUpload(pool, input.run, sequence)
  const key = `${input.prefix}sha256/${createHash('sha256').update(bytes).digest('hex')}`
  await putter.put(key, bytes)
  return bytes.byteLength
})
putter.close()
console.log(JSON.stringify(result))
