/**
 * One huge upload, generated on the fly: the deterministic PNG is produced twice from its seed,
 * first only to compute the digest the header needs, then again while it is sent. Neither pass
 * holds more than one 1 MiB piece.
 */
import { createHash } from 'node:crypto'
import { keepAlive, multipartFrame, send } from '../lib/http.ts'
import { planPng, pngPieces } from '../lib/png.ts'

type Input = {
  url: string
  sizeBytes: number
  seed: string
  multipart: boolean
  headers?: Record<string, string>
}

const input = JSON.parse(process.argv[2] ?? '{}') as Input
const plan = planPng(input.sizeBytes, input.seed)

const hashStarted = performance.now()
const hash = createHash('sha256')
let counted = 0
for (const piece of pngPieces(plan, 1)) {
  hash.update(piece)
  counted += piece.byteLength
}
const sha256 = hash.digest('hex')
const hashMs = performance.now() - hashStarted
if (counted !== input.sizeBytes) {
  throw new Error(`generated ${counted} bytes, wanted ${input.sizeBytes}`)
}

const frame = multipartFrame(plan.totalBytes)
function* body() {
  if (input.multipart) {
    yield frame.preamble
  }
  yield* pngPieces(plan, 1)
  if (input.multipart) {
    yield frame.epilogue
  }
}
const agent = keepAlive(1)
const reply = await send(agent, input.url, {
  method: 'POST',
  headers: input.multipart
    ? {
        ...input.headers,
        'content-type': frame.contentType,
        'content-length': frame.contentLength,
        'x-content-sha256': sha256,
      }
    : { 'content-type': 'application/octet-stream', 'content-length': plan.totalBytes },
  body: body(),
  keepBody: true,
})
agent.destroy()
console.log(
  JSON.stringify({
    status: reply.status,
    ms: reply.ms,
    hashMs,
    sha256,
    answer: reply.body.toString().slice(0, 300),
  }),
)
