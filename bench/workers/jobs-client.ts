/**
 * Sends `count` POST /v1/images/generations with `Prefer: respond-async`, one after the other on
 * one keep-alive connection, a distinct prompt each, and times each 202 to its last byte.
 * Prints the latencies' summary and the accepted ids.
 */
import { keepAlive, send } from '../lib/http.ts'
import { summarize } from '../lib/stats.ts'

type Input = { url: string; headers: Record<string, string>; count: number; runId: string }

const input = JSON.parse(process.argv[2] ?? '{}') as Input
const agent = keepAlive(1)
const latencies: number[] = []
const ids: string[] = []
for (let index = 0; index < input.count; index++) {
  const payload = Buffer.from(
    JSON.stringify({ model: 'gpt-image-1', prompt: `job ${input.runId} ${index}` }),
  )
  const reply = await send(agent, input.url, {
    method: 'POST',
    headers: {
      ...input.headers,
      prefer: 'respond-async',
      'content-type': 'application/json',
      'content-length': payload.byteLength,
    },
    body: [payload],
    keepBody: true,
  })
  if (reply.status !== 202) {
    throw new Error(`HTTP ${reply.status}: ${reply.body.toString().slice(0, 300)}`)
  }
  latencies.push(reply.ms)
  ids.push((JSON.parse(reply.body.toString()) as { id: string }).id)
}
agent.destroy()
console.log(JSON.stringify({ accepted: summarize(latencies), ids }))
