/**
 * Load generator for POST /v1/images/generations, against imagegate and against the fake
 * upstream directly (the baseline), with a distinct prompt on every request.
 *
 * latency: sequential pairs (direct, gateway), the order alternating, in rounds; the answer's
 *   body is read to the last byte in both cases. Also collects `x-imagegate-overhead-ms`. With
 *   `minimal` (the minimal gateway, see minimal-gateway.ts) each pair becomes a triple, in an
 *   order that rotates, so all three see the same moments of the machine.
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
  minimal?: Target
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
  const targets = { direct: options.direct, gateway: options.gateway, minimal: options.minimal }
  type Which = keyof typeof targets
  const agents = { direct: keepAlive(1), gateway: keepAlive(1), minimal: keepAlive(1) }
  const order: Which[] = options.minimal ? ['direct', 'gateway', 'minimal'] : ['direct', 'gateway']
  const prompt = (round: number | string, index: number) =>
    `bench ${options.runId} round ${round} #${index}: a lighthouse on a cliff at dusk`
  for (let index = 0; index < options.warmup; index++) {
    for (const which of order) {
      await call(agents[which], targets[which] as Target, prompt('warmup', index))
    }
  }
  const rounds = []
  const allHeader: number[] = []
  const all = { direct: [] as number[], gateway: [] as number[], minimal: [] as number[] }
  const pairDifferences: number[] = []
  const minimalPairDifferences: number[] = []
  for (let round = 0; round < options.rounds; round++) {
    const times = { direct: [] as number[], gateway: [] as number[], minimal: [] as number[] }
    const started = performance.now()
    for (let index = 0; index < options.pairs; index++) {
      if (performance.now() - started > options.roundMaxMs) {
        break
      }
      // Rotated by one each time, so every target goes first, second (and third) alike.
      const shift = index % order.length
      for (const which of [...order.slice(shift), ...order.slice(0, shift)]) {
        const answer = await call(agents[which], targets[which] as Target, prompt(round, index))
        times[which].push(answer.ms)
        if (which === 'gateway' && answer.overheadHeaderMs !== undefined) {
          allHeader.push(answer.overheadHeaderMs)
        }
      }
    }
    for (const which of order) {
      all[which].push(...times[which])
    }
    // Back-to-back pairs: each call minus the direct call made next to it.
    const minusDirect = (calls: number[]) =>
      calls.map((ms, index) => ms - (times.direct[index] ?? Number.NaN))
    pairDifferences.push(...minusDirect(times.gateway))
    minimalPairDifferences.push(...minusDirect(times.minimal))
    rounds.push({
      direct: summarize(times.direct),
      gateway: summarize(times.gateway),
      ...(options.minimal ? { minimal: summarize(times.minimal) } : {}),
    })
  }
  for (const agent of Object.values(agents)) {
    agent.destroy()
  }
  return {
    rounds,
    /** Gateway calls, warm-up included. */
    totalOps: options.warmup + all.gateway.length,
    direct: summarize(all.direct),
    gateway: summarize(all.gateway),
    ...(options.minimal ? { minimal: summarize(all.minimal) } : {}),
    overheadHeader: summarize(allHeader),
    pairDifference: summarize(pairDifferences.filter(Number.isFinite)),
    ...(options.minimal
      ? { minimalPairDifference: summarize(minimalPairDifferences.filter(Number.isFinite)) }
      : {}),
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
