/**
 * Scale-out benchmarks: one imagegate on the backends several instances share (PostgreSQL,
 * Redis, an S3-compatible server, all on loopback) next to one on the embedded default (SQLite
 * and blobs in the data dir, limits in the process), both measured in the same run:
 *
 * - generation overhead p50 at concurrency 1 (gpt-image-1 on the fake upstream, a different
 *   real encoder's 1024×1024 PNG every call), each server's p50 minus the direct call's, in the
 *   same rotated rounds;
 * - the authenticated, rate-limited metadata GET at concurrency 1;
 * - 64 KiB uploads (real encoders' PNGs, distinct every upload) into S3, against a bare loop
 *   that PUTs the same objects to the same server with the same SDK.
 *
 * The database is a fresh one on the machine's PostgreSQL (127.0.0.1:5432), the Redis keys go
 * under a prefix of the run's own, and the S3 server (s3rver) is started here; all are removed
 * afterwards.
 */
import { randomBytes } from 'node:crypto'
import path from 'node:path'
import { generateApiKey } from '../services/api/src/access/api-key-format.ts'
import { connectRedis, openRedis } from '../services/api/src/access/redis-client.ts'
import { createTestDatabase } from '../services/api/src/testing/postgres.ts'
import {
  deleteKeysUnder,
  TEST_REDIS_URL,
  uniqueKeyPrefix,
} from '../services/api/src/testing/redis.ts'
import { startS3TestServer } from '../services/api/src/testing/s3-server.ts'
import { s3Env } from '../test/support/s3-env.ts'
import type { SuiteContext } from './lib/context.ts'
import { keepAlive, sendUpload } from './lib/http.ts'
import { loadOnce, type ServerLoadRun, summarizeLoad } from './lib/loadgen.ts'
import type { PhaseRuns } from './lib/phases.ts'
import { photoPool } from './lib/photo-pool.ts'
import { distinctUpload, photoUploadPool } from './lib/photo-uploads.ts'
import {
  CLIENT_CORE,
  cpuMsOf,
  type Imagegate,
  runWorker,
  SERVER_CORE,
  startImagegate,
  startService,
} from './lib/procs.ts'
import type { Row } from './lib/report.ts'
import { median, round, type Summary } from './lib/stats.ts'

const GROUP = 'scale'
const REPEATS = 3
const UPLOAD_CONCURRENCY = 16
const TARGETS = { overheadRatio: 1.5, metadataAddedMs: 1, uploadRatio: 0.5 }

type Latency = {
  totalOps: number
  rounds: { direct: Summary; gateway: Summary; minimal: Summary }[]
}

export type S3Target = {
  endpoint: string
  region: string
  bucket: string
  credentials: { accessKeyId: string; secretAccessKey: string }
}

/** Runs `work` with everything the scaled server needs, and removes it all afterwards. */
export async function withSharedBackends<T>(
  work: (shared: { env: Record<string, string>; s3: S3Target }) => Promise<T>,
) {
  const database = await createTestDatabase()
  const s3 = await startS3TestServer({ lifetimeMs: 60 * 60_000 })
  const keyPrefix = uniqueKeyPrefix()
  try {
    return await work({
      env: {
        IMAGEGATE_DATABASE_URL: database.url,
        ...s3Env(s3).env,
        IMAGEGATE_REDIS_URL: TEST_REDIS_URL,
        IMAGEGATE_REDIS_KEY_PREFIX: keyPrefix,
        IMAGEGATE_URL_SIGNING_SECRET: randomBytes(32).toString('hex'),
        IMAGEGATE_BOOTSTRAP_ADMIN_KEY: generateApiKey((size) => randomBytes(size)).key,
      },
      s3: {
        endpoint: s3.endpoint,
        region: s3.region,
        bucket: s3.bucket,
        credentials: s3.credentials,
      },
    })
  } finally {
    await s3.stop()
    await database.drop()
    const redis = openRedis(TEST_REDIS_URL)
    try {
      await connectRedis(redis)
      await deleteKeysUnder(redis, keyPrefix)
    } finally {
      redis.disconnect()
    }
  }
}

async function uploadOne(server: Imagegate): Promise<string> {
  const bytes = distinctUpload(await photoUploadPool(), `metadata-${server.pid}`, 0)
  const agent = keepAlive(1)
  try {
    const reply = await sendUpload(agent, server.url, server.auth, bytes, { keepBody: true })
    if (reply.status !== 201) {
      throw new Error(`upload answered ${reply.status}: ${reply.body.toString().slice(0, 300)}`)
    }
    return (JSON.parse(reply.body.toString()) as { id: string }).id
  } finally {
    agent.destroy()
  }
}

export async function scaleBenchmarks(context: SuiteContext): Promise<Row[]> {
  const upstream = await startService(CLIENT_CORE, 'bench/workers/fake-upstream.ts', {
    photoPoolDir: await photoPool(context.log),
  })
  try {
    return await withSharedBackends(async (shared) => {
      const providerEnv = {
        IMAGEGATE_OPENAI_API_KEY: 'sk-bench',
        IMAGEGATE_OPENAI_BASE_URL: `${upstream.line}/v1`,
      }
      const embedded = await startImagegate({
        IMAGEGATE_DATA_DIR: path.join(context.workDir, 'scale-embedded'),
        ...providerEnv,
      })
      try {
        const scaled = await startImagegate({
          IMAGEGATE_DATA_DIR: path.join(context.workDir, 'scale-shared'),
          ...providerEnv,
          ...shared.env,
        })
        try {
          return await measure(context, {
            upstream: upstream.line,
            embedded,
            scaled,
            s3: shared.s3,
          })
        } finally {
          await scaled.stop()
        }
      } finally {
        await embedded.stop()
      }
    })
  } finally {
    await upstream.stop()
  }
}

async function measure(
  context: SuiteContext,
  setup: {
    upstream: string
    embedded: Imagegate
    scaled: Imagegate
    s3: S3Target
  },
): Promise<Row[]> {
  const { embedded, scaled } = setup
  const rows: Row[] = []

  // 1. Generation overhead at c=1: direct, embedded and scaled in rotated triples.
  context.log('scale: generation latency, c=1: direct, embedded, PostgreSQL + Redis + S3')
  const generation = (server: Imagegate) => ({
    url: `${server.url}/v1/images/generations`,
    headers: server.auth,
  })
  const latency = await runWorker<Latency>(CLIENT_CORE, 'bench/workers/gen-client.ts', {
    mode: 'latency',
    direct: {
      url: `${setup.upstream}/v1/images/generations`,
      headers: { authorization: 'Bearer sk-bench' },
    },
    gateway: generation(embedded),
    minimal: generation(scaled),
    runId: `${Date.now().toString(36)}-scale`,
    warmup: 5,
    rounds: REPEATS,
    pairs: context.quick ? 25 : 60,
    roundMaxMs: context.quick ? 8000 : 30_000,
  })
  const overhead = (pick: (round: Latency['rounds'][number]) => Summary) =>
    median(latency.rounds.map((round) => pick(round).p50 - round.direct.p50))
  const embeddedOverhead = overhead((round) => round.gateway)
  const scaledOverhead = overhead((round) => round.minimal)
  const perRound = latency.rounds
    .map(
      (round) =>
        `direct ${round.direct.p50}, embedded ${round.gateway.p50}, scaled ${round.minimal.p50}`,
    )
    .join('; ')
  rows.push({
    group: GROUP,
    metric: 'generation overhead p50, c=1, PostgreSQL + Redis + S3',
    value: scaledOverhead,
    unit: 'ms',
    baseline: { value: embeddedOverhead, label: 'embedded SQLite + disk, same rounds' },
    ratio: scaledOverhead / embeddedOverhead,
    target: `≤ ${TARGETS.overheadRatio}x embedded`,
    pass: scaledOverhead <= TARGETS.overheadRatio * embeddedOverhead,
    note:
      'a different 1024×1024 photo-like PNG (~1.5 MB) every call; overhead = server p50 - ' +
      `direct p50 per round, median of ${REPEATS} rounds (n=${latency.rounds[0]?.direct.n} each); ` +
      `p50 per round (ms): ${perRound}`,
  })

  // 2. The authenticated, rate-limited metadata GET at c=1, alternating.
  const phase = { warmupMs: context.quick ? 500 : 1000, durationMs: context.quick ? 2000 : 4000 }
  const embeddedUrl = `${embedded.url}/v1/assets/${await uploadOne(embedded)}`
  const scaledUrl = `${scaled.url}/v1/assets/${await uploadOne(scaled)}`
  const onScaled: ServerLoadRun[] = []
  const onEmbedded: ServerLoadRun[] = []
  for (let repeat = 0; repeat < REPEATS; repeat++) {
    context.log(`scale: metadata GET, c=1 #${repeat + 1}: PostgreSQL + Redis, embedded`)
    onScaled.push(
      await loadOnce(scaledUrl, { ...phase, connections: 1, headers: scaled.auth }, scaled.pid),
    )
    onEmbedded.push(
      await loadOnce(
        embeddedUrl,
        { ...phase, connections: 1, headers: embedded.auth },
        embedded.pid,
      ),
    )
  }
  const scaledGet = summarizeLoad(onScaled, 200)
  const embeddedGet = summarizeLoad(onEmbedded, 200)
  const added = scaledGet.p50Ms - embeddedGet.p50Ms
  const describe = (summary: typeof scaledGet) =>
    `p50 ${round(summary.p50Ms, 3)} ms, p99 ${round(summary.p99Ms, 3)} ms, ` +
    `${round(summary.rps, 0)} req/s, server CPU ${round(summary.serverCpuMsPerOp * 1000, 1)} µs/request, unexpected ${summary.bad}`
  rows.push({
    group: GROUP,
    metric: 'metadata GET p50, auth + rate limit, c=1, PostgreSQL + Redis',
    value: scaledGet.p50Ms,
    unit: 'ms',
    baseline: { value: embeddedGet.p50Ms, label: 'embedded SQLite + in-process limits' },
    ratio: scaledGet.p50Ms / embeddedGet.p50Ms,
    target: `≤ baseline + ${TARGETS.metadataAddedMs} ms`,
    pass: added <= TARGETS.metadataAddedMs && scaledGet.bad === 0 && embeddedGet.bad === 0,
    note: `added ${round(added * 1000, 1)} µs at p50; scaled: ${describe(scaledGet)}; embedded: ${describe(embeddedGet)}`,
  })

  // 3. 64 KiB uploads into S3 against the bare PUT loop, alternating.
  const phases = {
    concurrency: UPLOAD_CONCURRENCY,
    durationMs: context.quick ? 1500 : 4000,
    maxCount: 20_000,
    repeats: 1,
  }
  const throughImagegate: PhaseRuns = { runs: [], totalOps: 0 }
  const bare: PhaseRuns = { runs: [], totalOps: 0 }
  const statuses: Record<string, number> = {}
  const serverCpuMsPerUpload: number[] = []
  const runTag = Date.now().toString(36)
  for (let repeat = 0; repeat < REPEATS; repeat++) {
    context.log(`scale: upload 64 KiB into S3 #${repeat + 1}: imagegate, c=${UPLOAD_CONCURRENCY}`)
    const cpuBefore = cpuMsOf(scaled.pid)
    const uploaded = await runWorker<PhaseRuns & { statuses: Record<string, number> }>(
      CLIENT_CORE,
      'bench/workers/photo-upload-client.ts',
      {
        ...phases,
        warmupMs: repeat === 0 ? 1500 : 300,
        url: scaled.url,
        headers: scaled.auth,
        run: `${runTag}-gw-${repeat}`,
      },
    )
    serverCpuMsPerUpload.push((cpuMsOf(scaled.pid) - cpuBefore) / Math.max(1, uploaded.totalOps))
    throughImagegate.runs.push(...uploaded.runs)
    for (const [status, count] of Object.entries(uploaded.statuses)) {
      statuses[status] = (statuses[status] ?? 0) + count
    }
    context.log(`scale: upload 64 KiB into S3 #${repeat + 1}: bare PUT loop, same SDK`)
    const put = await runWorker<PhaseRuns>(SERVER_CORE, 'bench/workers/s3-bare-put.ts', {
      ...phases,
      warmupMs: repeat === 0 ? 1500 : 300,
      ...setup.s3,
      prefix: `bare-${runTag}/`,
      run: `${runTag}-bare-${repeat}`,
    })
    bare.runs.push(...put.runs)
  }
  const rate = (runs: PhaseRuns) => median(runs.runs.map((run) => run.opsPerSecond))
  const errors = throughImagegate.runs.reduce((sum, run) => sum + run.failures, 0)
  const firstFailure = throughImagegate.runs.find((run) => run.firstFailure)?.firstFailure
  const meanBytes = (runs: PhaseRuns) =>
    runs.runs.reduce((sum, run) => sum + run.bytes, 0) /
    Math.max(
      1,
      runs.runs.reduce((sum, run) => sum + run.count, 0),
    )
  rows.push({
    group: GROUP,
    metric: `upload 64 KiB into S3, c=${UPLOAD_CONCURRENCY}, PostgreSQL + Redis + S3`,
    value: rate(throughImagegate),
    unit: 'uploads/s',
    baseline: { value: rate(bare), label: 'bare PUT loop, same SDK and server' },
    ratio: rate(throughImagegate) / rate(bare),
    target: `≥ ${TARGETS.uploadRatio}x bare PUT loop, 0 errors`,
    pass: rate(throughImagegate) / rate(bare) >= TARGETS.uploadRatio && errors === 0,
    note:
      `runs ${throughImagegate.runs.map((run) => round(run.opsPerSecond, 0)).join(' / ')} uploads/s ` +
      `(bare ${bare.runs.map((run) => round(run.opsPerSecond, 0)).join(' / ')}); ` +
      `mean upload ${round(meanBytes(throughImagegate) / 1024, 1)} KiB (real encoder PNGs, a tEXt marker ` +
      'making each distinct); imagegate latency p50 ' +
      `${throughImagegate.runs[1]?.latencyMs.p50} ms p99 ${throughImagegate.runs[1]?.latencyMs.p99} ms; ` +
      `imagegate CPU per upload ${round(median(serverCpuMsPerUpload), 2)} ms; statuses ${JSON.stringify(statuses)}; ` +
      `errors ${errors}${firstFailure ? ` (${firstFailure})` : ''}; the bare loop runs on the ` +
      "server's core, s3rver, PostgreSQL and Redis are not pinned",
  })
  context.details[GROUP] = {
    latency,
    metadata: { scaled: scaledGet, embedded: embeddedGet },
    uploads: { imagegate: throughImagegate, bare, statuses, serverCpuMsPerUpload },
  }
  return rows
}
