/**
 * Load generator for POST /v1/assets (run pinned to the client core). Every upload is distinct
 * bytes: one noise PNG plan whose trailing tEXt marker carries a counter, so the digest of each
 * upload costs hashing ~50 bytes on top of a saved hash state.
 */
import { keepAlive, multipartFrame, send } from '../lib/http.ts'
import { type PhaseOptions, runPhases } from '../lib/phases.ts'
import { fixedPart, planPng, variablePart } from '../lib/png.ts'

type Input = PhaseOptions & {
  url: string
  sizeBytes: number
  seed: string
  headers?: Record<string, string>
}

const input = JSON.parse(process.argv[2] ?? '{}') as Input
const plan = planPng(input.sizeBytes, input.seed)
const fixed = fixedPart(plan)
const frame = multipartFrame(plan.totalBytes)
const agent = keepAlive(input.concurrency)
const statuses: Record<string, number> = {}

const { runs, totalOps } = await runPhases(input, async (sequence) => {
  const variable = variablePart(sequence)
  const sha256 = fixed.hashState.copy().update(variable).digest('hex')
  const reply = await send(agent, `${input.url}/v1/assets`, {
    method: 'POST',
    headers: {
      ...input.headers,
      'content-type': frame.contentType,
      'content-length': frame.contentLength,
      'x-content-sha256': sha256,
    },
    body: [frame.preamble, fixed.bytes, variable, frame.epilogue],
    keepBody: true,
  })
  statuses[reply.status] = (statuses[reply.status] ?? 0) + 1
  if (reply.status !== 201) {
    throw new Error(`HTTP ${reply.status}: ${reply.body.toString().slice(0, 300)}`)
  }
  return plan.totalBytes
})
agent.destroy()
console.log(JSON.stringify({ runs, totalOps, statuses }))
