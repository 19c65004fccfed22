/**
 * Load generator for POST /v1/images/generations, against imagegate and against the fake
 * upstream directly (the baseline), with a distinct prompt on every request.
 *
 * latency: sequential pairs (direct, gateway), the order alternating, in rounds; the answer's
 *   body is read to the last byte in both cases. Also collects `x-imagegate-overhead-ms`.
 * throughput: `concurrency` lanes against one target for a fixed time, warm-up first.
 */
import { keepAlive, send } from '../lib/http.ts'
import { type PhaseOptions, runPhases } from '../lib/phases.ts'
import { summarize } from '../lib/stats.ts'

type Target = { url: string; headers: Record<string, string> }
type LatencyInput = {
  mode: 'latency'
  direct: Target
  gateway: Target
  runId: string
  warmup: number
  rounds: number
  pairs: number
  /** Stop a round early once it has run this long. */
  roundMaxMs: number
}
type ThroughputInput = PhaseOptions & { mode: 'throughput'; target: Target; runId: string }

const input = JSON.parse(process.argv[2] ?? '{}') as LatencyInput | ThroughputInput

function body(prompt: string) {
  return Buffer.from(JSON.stringify({ model: 'gpt-image-1', prompt, size: '1024x1024' }))
}

async function call(agent: ReturnType<typeof keepAlive>, target: Target, prompt: string) {
  const payload = body(prompt)
  const reply = await send(agent, target.url, {
    method: 'POST',
    headers: {
      ...target.headers,
      'content-type': 'application/json',
      'content-length': payload.byteLength,
    },
    body: [payload],
    keepBody: true,
  })
  if (reply.status !== 200) {
    throw new Error(`HTTP ${reply.status}: ${reply.body.toString().slice(0, 300)}`)
  }
  const overhead = Number(reply.headers['x-imagegate-overhead-ms'])
  return { ms: reply.ms, overheadHeaderMs: Number.isFinite(overhead) ? overhead : undefined }
}

async function latency(options: LatencyInput) {
  const directAgent = keepAlive(1)
  const gatewayAgent = keepAlive(1)
  const prompt = (round: number | string, index: number) =>
    `bench ${options.runId} round ${round} #${index}: a lighthouse on a cliff at dusk`
  for (let index = 0; index < options.warmup; index++) {
    await call(directAgent, options.direct, prompt('warmup', index))
    await call(gatewayAgent, options.gateway, prompt('warmup', index))
  }
  const rounds = []
  const allDirect: number[] = []
  const allGateway: number[] = []
  const allHeader: number[] = []
  const pairDifferences: number[] = []
  for (let round = 0; round < options.rounds; round++) {
    const direct: number[] = []
    const gateway: number[] = []
    const started = performance.now()
    for (let index = 0; index < options.pairs; index++) {
      if (performance.now() - started > options.roundMaxMs) {
        break
      }
      const order = index % 2 === 0 ? ['direct', 'gateway'] : ['gateway', 'direct']
      for (const which of order) {
        if (which === 'direct') {
          direct.push((await call(directAgent, options.direct, prompt(round, index))).ms)
        } else {
          const answer = await call(gatewayAgent, options.gateway, prompt(round, index))
          gateway.push(answer.ms)
          if (answer.overheadHeaderMs !== undefined) {
            allHeader.push(answer.overheadHeaderMs)
          }
        }
      }
    }
    allDirect.push(...direct)
    allGateway.push(...gateway)
    // Back-to-back pairs: the gateway call minus the direct call made next to it.
    pairDifferences.push(...gateway.map((ms, index) => ms - (direct[index] ?? Number.NaN)))
    rounds.push({ direct: summarize(direct), gateway: summarize(gateway) })
  }
  directAgent.destroy()
  gatewayAgent.destroy()
  return {
    rounds,
    /** Gateway calls, warm-up included. */
    totalOps: options.warmup + allGateway.length,
    direct: summarize(allDirect),
    gateway: summarize(allGateway),
    overheadHeader: summarize(allHeader),
    pairDifference: summarize(pairDifferences.filter(Number.isFinite)),
  }
}

async function throughput(options: ThroughputInput) {
  const agent = keepAlive(options.concurrency)
  const { runs, totalOps } = await runPhases(options, async (sequence) => {
    await call(agent, options.target, `bench ${options.runId} load #${sequence}: a red bicycle`)
    return 0
  })
  agent.destroy()
  return { runs, totalOps }
}

const result = input.mode === 'latency' ? await latency(input) : await throughput(input)
console.log(JSON.stringify(result))
