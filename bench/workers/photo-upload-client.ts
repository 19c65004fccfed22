/**
 * Load generator for POST /v1/assets with real encoders' PNGs of about 64 KiB, a different one
 * every upload (lib/photo-uploads.ts), each with its x-content-sha256.
 */
import { keepAlive, sendUpload } from '../lib/http.ts'
import { type PhaseOptions, runPhases } from '../lib/phases.ts'
import { distinctUpload, photoUploadPool } from '../lib/photo-uploads.ts'

type Input = PhaseOptions & { url: string; run: string; headers?: Record<string, string> }

const input = JSON.parse(process.argv[2] ?? '{}') as Input
const pool = await photoUploadPool()
const agent = keepAlive(input.concurrency)
const statuses: Record<string, number> = {}

const { runs, totalOps } = await runPhases(input, async (sequence) => {
  const bytes = distinctUpload(pool, input.run, sequence)
  const reply = await sendUpload(agent, input.url, input.headers ?? {}, bytes, { keepBody: true })
  statuses[reply.status] = (statuses[reply.status] ?? 0) + 1
  if (reply.status !== 201) {
    throw new Error(`HTTP ${reply.status}: ${reply.body.toString().slice(0, 300)}`)
  }
  return bytes.byteLength
})
agent.destroy()
console.log(JSON.stringify({ runs, totalOps, statuses }))
