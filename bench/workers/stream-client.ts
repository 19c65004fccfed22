/**
 * The streaming benchmark's client and upstream in one process, so that one clock times both
 * ends: a fake OpenAI upstream that streams `partial_images` partial PNGs (a different
 * photo-like PNG per call and per partial, 20 ms apart) and then the completed image, and a
 * client that asks for them directly and through imagegate, alternately. For every partial image
 * event: the time from the upstream handing it to its socket to the client having its last byte.
 */
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { distinctPngs } from '../../test/fakes/distinct-pngs.ts'
import { startFakeUpstream, type UpstreamCall } from '../../test/fakes/fake-upstream.ts'
import { summarize } from '../lib/stats.ts'

type Input = {
  port: number
  gateway: { url: string; headers: Record<string, string> }
  photoPoolDir: string
  warmup: number
  rounds: number
  partialImages: number
}

const input = JSON.parse(process.argv[2] ?? '{}') as Input
const pool = readdirSync(input.photoPoolDir)
  .filter((name) => name.endsWith('.png'))
  .sort()
  .map((name) => readFileSync(path.join(input.photoPoolDir, name)))
const pngFor = distinctPngs(pool)
let made = 0
const upstream = await startFakeUpstream({
  port: input.port,
  imageBase64For: () => pngFor(made++),
  partialBase64For: () => pngFor(made++),
})
upstream.setDefault({ mode: 'ok', eventDelayMs: 20 })

const now = () => performance.timeOrigin + performance.now()
const BLANK_LINE = Buffer.from('\n\n')

/** Each event's type and the time its last byte arrived (comments skipped). */
async function streamOnce(url: string, headers: Record<string, string>) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({
      model: 'gpt-image-1',
      prompt: 'a lighthouse, streamed',
      stream: true,
      partial_images: input.partialImages,
    }),
  })
  if (!response.ok || !response.body) {
    throw new Error(`${url} answered ${response.status}: ${await response.text()}`)
  }
  const arrived: { type: string; at: number }[] = []
  // The start of the frame being read (for its `event:` line) and whether the last byte seen
  // was a newline: chunks are scanned once, never joined, so reading costs the same per byte.
  let head = ''
  let newline = false
  const reader = response.body.getReader()
  for (;;) {
    const { done, value: chunk } = await reader.read()
    if (done) {
      break
    }
    const at = now()
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    let start = 0
    for (;;) {
      const boundary =
        newline && bytes[start] === 0x0a && start === 0 ? 0 : bytes.indexOf(BLANK_LINE, start)
      if (boundary === -1) {
        if (head.length < 120) {
          head += bytes.toString('latin1', start, Math.min(bytes.length, start + 120))
        }
        break
      }
      head += bytes.toString('latin1', start, Math.min(boundary, start + 120))
      const type = /^event: (\S+)/.exec(head)?.[1]
      if (type) {
        arrived.push({ type, at })
      }
      head = ''
      start = boundary + (boundary === 0 && newline ? 1 : 2)
    }
    newline = bytes[bytes.length - 1] === 0x0a
  }
  return arrived
}

/**
 * Milliseconds from the upstream having sent each partial (its last byte handed to the socket)
 * to the client having it, and from the upstream starting to send it.
 */
async function partialDelays(
  target: 'direct' | 'gateway',
): Promise<{ fromSent: number[]; fromStart: number[] }> {
  const before = upstream.calls.length
  const arrived =
    target === 'direct'
      ? await streamOnce(`${upstream.url}/v1/images/generations`, {})
      : await streamOnce(`${input.gateway.url}/v1/images/generations`, input.gateway.headers)
  const call = upstream.calls[before] as UpstreamCall
  const sent = (call.events ?? []).filter((event) => event.type.endsWith('.partial_image'))
  const received = arrived.filter((event) => event.type.endsWith('.partial_image'))
  if (sent.length !== input.partialImages || received.length !== sent.length) {
    throw new Error(`${target}: ${sent.length} partials sent, ${received.length} received`)
  }
  return {
    fromSent: received.map((event, index) => event.at - (sent[index]?.sentUntil ?? Number.NaN)),
    fromStart: received.map((event, index) => event.at - (sent[index]?.sentAt ?? Number.NaN)),
  }
}

const samples = {
  direct: { fromSent: [] as number[], fromStart: [] as number[] },
  gateway: { fromSent: [] as number[], fromStart: [] as number[] },
}
for (let round = 0; round < input.warmup + input.rounds; round++) {
  for (const target of ['direct', 'gateway'] as const) {
    const delays = await partialDelays(target)
    if (round >= input.warmup) {
      samples[target].fromSent.push(...delays.fromSent)
      samples[target].fromStart.push(...delays.fromStart)
    }
  }
  upstream.calls.length = 0
}
await upstream.close()
const summaries = (of: { fromSent: number[]; fromStart: number[] }) => ({
  fromSent: summarize(of.fromSent),
  fromStart: summarize(of.fromStart),
})
console.log(
  JSON.stringify({ direct: summaries(samples.direct), gateway: summaries(samples.gateway) }),
)
