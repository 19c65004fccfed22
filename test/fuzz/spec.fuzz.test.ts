import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { asciiGif, noiseJpeg, noisePng, sha256Hex } from '../../services/api/src/testing/images.ts'
import { bearer, startServer, stop } from '../support/processes.ts'
import { residentBytes } from '../support/raw-http.ts'
import type { Schema } from '../support/schema-arbitrary.ts'
import { loadSpecValidator } from '../support/spec-validator.ts'
import { type Answer, answerProblems, reproduction, send } from './exchange.ts'
import {
  createRequestArbitraries,
  type FuzzRequest,
  type FuzzWorld,
  type Operation,
  WEBHOOK_TARGET,
} from './requests.ts'

/**
 * Every operation of the committed document, fuzzed against the real server process: requests
 * generated from its schemas, each answer held to the document strictly. Seeded, so a run is
 * repeatable: IMAGEGATE_FUZZ_SEED picks another seed, IMAGEGATE_FUZZ_RUNS the cases per
 * operation, IMAGEGATE_FUZZ_OPERATION one operation (by operationId) and IMAGEGATE_FUZZ_PATH
 * the path fast-check printed, to replay one failure.
 */
const SEED = Number(process.env.IMAGEGATE_FUZZ_SEED ?? 20261207)
const RUNS = Number(process.env.IMAGEGATE_FUZZ_RUNS ?? 100)
const ONLY = process.env.IMAGEGATE_FUZZ_OPERATION
const REPLAY_PATH = process.env.IMAGEGATE_FUZZ_PATH
/** An operation stops generating new cases past this, so the whole run stays bounded. */
const OPERATION_TIME_LIMIT_MS = Number(process.env.IMAGEGATE_FUZZ_OPERATION_MS ?? 6_000)
/**
 * Growth of the server's resident memory over the run. Measured: about 110 MiB after start and
 * the fixtures, some 20-35 MiB more once every route and the image codecs have been used and the
 * heap has settled, then flat. A body read whole where it should be refused (the 60 MB JSON body
 * that once cost 160 MiB) or a leak per request goes well past 64 MiB within a run.
 */
const MiB = 1024 * 1024
const RSS_GROWTH_LIMIT = 64 * MiB

const validator = loadSpecValidator()
const spec = validator.spec as unknown as {
  paths: Record<string, Record<string, Operation>>
  components: { schemas: Record<string, Schema> }
}

let server: Awaited<ReturnType<typeof startServer>>
let dir: string
let baselineRss = 0
let peakRss = 0
const counts = new Map<string, { cases: number; statuses: Record<number, number> }>()
const world: FuzzWorld = {
  keys: { admin: '', read: '', generate: '' },
  ids: { ast: [], gen: [], ws: [], key: [], whk: [] },
  deletable: { ast: [], key: [], whk: [] },
  files: [],
  models: [],
  etags: [],
  digestOf: sha256Hex,
}

async function admin(method: string, route: string, body?: unknown, headers = {}) {
  const response = await fetch(`${server.url}${route}`, {
    method,
    headers: { ...bearer(server.key), 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  return {
    status: response.status,
    // biome-ignore lint/suspicious/noExplicitAny: fixture answers are read field by field
    body: (await response.json()) as any,
    headers: response.headers,
  }
}

async function prepareWorld() {
  const png = await noisePng('fuzz', 16)
  const jpeg = await noiseJpeg('fuzz', 16)
  const gif = asciiGif('fuzz')
  world.files = [
    { filename: 'small.png', type: 'image/png', bytes: png },
    { filename: 'small.jpg', type: 'image/jpeg', bytes: jpeg },
    { filename: 'small.gif', type: 'image/gif', bytes: gif },
    { filename: 'claims-gif.png', type: 'image/gif', bytes: png },
    { filename: 'truncated.png', type: 'image/png', bytes: png.subarray(0, 60) },
    { filename: 'noise.bin', type: 'application/octet-stream', bytes: randomBytes(512) },
    { filename: 'empty.png', type: 'image/png', bytes: new Uint8Array() },
    { filename: 'notes.txt', type: 'text/plain', bytes: new TextEncoder().encode('not an image') },
  ]
  const form = new FormData()
  form.append('file', new Blob([new Uint8Array(png)], { type: 'image/png' }), 'fixture.png')
  const uploaded = await fetch(`${server.url}/v1/assets`, {
    method: 'POST',
    headers: { ...bearer(server.key), 'x-content-sha256': sha256Hex(png) },
    body: form,
  })
  const asset = (await uploaded.json()) as { id: string; contentHash: string }
  const generated = await admin('POST', '/v1/images/generations', {
    prompt: 'a fuzzed lighthouse',
    size: '256x256',
    response_format: 'url',
  })
  const workspaces = await admin('GET', '/v1/workspaces')
  const home = (workspaces.body.data as { id: string; name: string }[])[0]?.id as string
  const other = await admin('POST', '/v1/workspaces', { name: 'fuzz other', initialCredits: 5 })
  const keyWith = async (scopes: string[]) =>
    (await admin('POST', `/v1/workspaces/${home}/keys`, { name: scopes.join('+'), scopes })).body
      .key as string
  world.keys = {
    admin: server.key,
    read: await keyWith(['read']),
    generate: await keyWith(['generate']),
  }
  const content = await fetch(`${server.url}/v1/assets/${asset.id}/content`, {
    headers: bearer(server.key),
  })
  world.etags = [content.headers.get('etag') ?? `"${asset.contentHash}"`]
  await content.arrayBuffer()
  world.models = ((await admin('GET', '/v1/models')).body.data as { id: string }[]).map(
    (model) => model.id,
  )
  // Assets and keys a DELETE may take: the ones above stay, for every later case to use.
  for (const tag of ['one', 'two', 'three']) {
    const bytes = asciiGif(`fuzz deletable ${tag}`)
    const deletable = new FormData()
    deletable.append('file', new Blob([new Uint8Array(bytes)], { type: 'image/gif' }), 'd.gif')
    const answer = await fetch(`${server.url}/v1/assets`, {
      method: 'POST',
      headers: { ...bearer(server.key), 'x-content-sha256': sha256Hex(bytes) },
      body: deletable,
    })
    world.deletable.ast?.push(((await answer.json()) as { id: string }).id)
    const key = await admin('POST', `/v1/workspaces/${home}/keys`, { scopes: ['read'] })
    world.deletable.key?.push(key.body.id)
    const webhook = await admin('POST', `/v1/workspaces/${home}/webhooks`, {
      url: WEBHOOK_TARGET,
      events: ['generation.failed'],
    })
    world.deletable.whk?.push(webhook.body.id)
  }
  const webhook = await admin('POST', `/v1/workspaces/${home}/webhooks`, {
    url: WEBHOOK_TARGET,
    events: ['generation.succeeded', 'generation.failed'],
  })
  expect(webhook.status).toBe(201)
  world.ids.whk?.push(webhook.body.id)
  world.ids.ast?.push(asset.id)
  world.ids.gen?.push(await firstGenerationId())
  world.ids.ws?.push(home, other.body.id)
  expect(uploaded.status).toBe(201)
  expect(generated.status).toBe(200)
  expect(other.status).toBe(201)
}

/**
 * The largest images the generator can ask for, once, before the baseline is taken: the first
 * use of the image codecs and their buffers is a cost of start-up, not growth over the run.
 */
async function warmUp() {
  for (const output_format of ['png', 'jpeg', 'webp']) {
    const answer = await admin('POST', '/v1/images/generations', {
      prompt: 'warm-up',
      size: '1792x1024',
      n: 10,
      output_format,
      response_format: 'b64_json',
    })
    expect(answer.status).toBe(200)
  }
  const form = new FormData()
  form.append('prompt', 'warm-up edit')
  form.append('size', '1792x1024')
  form.append('n', '10')
  form.append(
    'image',
    new Blob([new Uint8Array(world.files[0]?.bytes ?? [])], { type: 'image/png' }),
    'w.png',
  )
  const edit = await fetch(`${server.url}/v1/images/edits`, {
    method: 'POST',
    headers: bearer(server.key),
    body: form,
  })
  await edit.arrayBuffer()
  expect(edit.status).toBe(200)
}

async function firstGenerationId(): Promise<string> {
  return ((await admin('GET', '/v1/generations?limit=1')).body.data as { id: string }[])[0]
    ?.id as string
}

const PINNED = 3
const POOL_SIZE = 40

/** Ids in successful answers feed the pools later cases draw existing ids from. */
function harvest(operationId: string, request: FuzzRequest, answer: Answer) {
  if (answer.status === 204) {
    const gone = request.path.split('?')[0]?.split('/').at(-1)
    for (const pool of [...Object.values(world.ids), ...Object.values(world.deletable)]) {
      const index = pool.indexOf(gone ?? '')
      if (index >= 0) {
        pool.splice(index, 1)
      }
    }
  }
  if (answer.status >= 300 || answer.contentType !== 'application/json') {
    return
  }
  const body = JSON.parse(answer.text) as { id?: string }
  // The fixtures made before the run stay at the front of each pool; harvested ids rotate.
  const add = (pool: string[] | undefined, id: string) => {
    if (pool && !pool.includes(id)) {
      pool.push(id)
      pool.splice(PINNED, Math.max(0, pool.length - POOL_SIZE))
    }
  }
  if (operationId === 'createApiKey' && body.id) {
    add(world.deletable.key, body.id)
    return
  }
  if (operationId === 'createWebhook' && body.id) {
    add(world.deletable.whk, body.id)
    return
  }
  if (operationId === 'uploadAsset' && answer.status === 201 && body.id) {
    add(world.deletable.ast, body.id)
  }
  for (const match of answer.text.matchAll(/"((?:ast|gen|ws)_[0-9A-Z]{26})"/g)) {
    const id = match[1] as string
    add(world.ids[id.slice(0, id.indexOf('_'))], id)
  }
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'imagegate-fuzz-'))
  server = await startServer({
    IMAGEGATE_DATA_DIR: path.join(dir, 'data'),
    IMAGEGATE_MOCK_IMAGES: 'true',
    IMAGEGATE_WEBHOOKS_ALLOW_LOOPBACK: 'true',
    // Bad keys are part of the fuzz; a lockout would turn every later case into a 429.
    IMAGEGATE_AUTH_FAILURES_PER_MINUTE: '1000000',
  })
  await prepareWorld()
  // The baseline is the peak while the largest requests run once: what the heap and the image
  // buffers take at their fullest before garbage collection, not a low point after one.
  const pid = server.child.pid as number
  let warmPeak = residentBytes(pid)
  const sampler = setInterval(() => {
    warmPeak = Math.max(warmPeak, residentBytes(pid))
  }, 20)
  await warmUp().finally(() => clearInterval(sampler))
  baselineRss = Math.max(warmPeak, residentBytes(pid))
  peakRss = baselineRss
  console.log(
    `fuzz: seed ${SEED}, ${RUNS} cases per operation (IMAGEGATE_FUZZ_SEED, IMAGEGATE_FUZZ_RUNS), server RSS ${Math.round(baselineRss / MiB)} MiB`,
  )
})

afterAll(async () => {
  if (server) {
    await stop(server.child)
  }
  if (dir) {
    rmSync(dir, { recursive: true, force: true })
  }
  const summary = [...counts].map(
    ([operation, { cases, statuses }]) => `${operation} ${cases} cases ${JSON.stringify(statuses)}`,
  )
  console.log(
    `fuzz: seed ${SEED}; server RSS ${Math.round(baselineRss / MiB)} → peak ${Math.round(peakRss / MiB)} MiB\n${summary.join('\n')}`,
  )
})

const operations = Object.entries(spec.paths).flatMap(([pathTemplate, item]) =>
  Object.entries(item).map(([method, operation]) => ({ pathTemplate, method, operation })),
)

describe(`every operation of the committed document, fuzzed (seed ${SEED})`, () => {
  const selected = operations
    .filter(({ operation }) => !ONLY || operation.operationId === ONLY)
    .map(
      (entry) =>
        [
          `${entry.operation.operationId}: ${entry.method.toUpperCase()} ${entry.pathTemplate}`,
          entry,
        ] as const,
    )
  it.each(selected)('%s', async (_, { pathTemplate, method, operation }) => {
    const arbitraries = createRequestArbitraries(spec.components.schemas, world)
    const tally = { cases: 0, statuses: {} as Record<number, number> }
    counts.set(operation.operationId, tally)
    const property = fc.asyncProperty(
      arbitraries.forOperation(pathTemplate, method, operation),
      async (request) => {
        let answer: Answer | undefined
        let problems: string[]
        try {
          answer = await send(server.url, request)
          problems = answerProblems(validator, operation, request, answer)
        } catch (error) {
          problems = [`no answer: ${(error as Error).message}`]
        }
        const rss = residentBytes(server.child.pid as number)
        peakRss = Math.max(peakRss, rss)
        if (rss - baselineRss > RSS_GROWTH_LIMIT) {
          problems.push(
            `server RSS grew ${Math.round((rss - baselineRss) / MiB)} MiB (limit ${RSS_GROWTH_LIMIT / MiB})`,
          )
        }
        if (answer) {
          tally.cases += 1
          tally.statuses[answer.status] = (tally.statuses[answer.status] ?? 0) + 1
          harvest(operation.operationId, request, answer)
        }
        if (problems.length > 0) {
          throw new Error(`\n${reproduction(request, answer, problems)}\nseed: ${SEED}`)
        }
      },
    )
    await fc.assert(property, {
      seed: SEED,
      numRuns: RUNS,
      path: REPLAY_PATH,
      interruptAfterTimeLimit: OPERATION_TIME_LIMIT_MS,
    })
    // The generator reaches past validation: some case of every operation is answered 2xx. A
    // cancel succeeds only on a job still queued or running, and with mock images every job
    // ends within milliseconds; its 409 (the generation found, judged finished) is as far past
    // validation as this world lets it go. services/jobs/jobs.test.ts cancels real jobs.
    const reachedPast = (status: number) =>
      status < 300 || (operation.operationId === 'cancelGeneration' && status === 409)
    const succeeded = Object.entries(tally.statuses).filter(([status]) =>
      reachedPast(Number(status)),
    )
    expect(succeeded.length, JSON.stringify(tally.statuses)).toBeGreaterThan(0)
  })
})

describe(`paths and methods outside the document (seed ${SEED})`, () => {
  it('answer in the one error shape, never a server error', async () => {
    const segment = fc.oneof(
      fc.constantFrom('v1', 'assets', 'images', '..', '.', '%2e%2e', '%00', '%ZZ', '', 'ü', '~'),
      fc.string({ maxLength: 12 }).map(encodeURIComponent),
    )
    const junk = fc.record({
      method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'),
      path: fc.array(segment, { minLength: 1, maxLength: 5 }).map((parts) => `/${parts.join('/')}`),
    })
    await fc.assert(
      fc.asyncProperty(junk, async ({ method, path }) => {
        const response = await fetch(`${server.url}${path}`, {
          method,
          headers: bearer(server.key),
          signal: AbortSignal.timeout(20_000),
        })
        const text = await response.text()
        const problems: string[] = []
        if (response.status >= 500) {
          problems.push(`server error ${response.status}`)
        }
        if (response.status >= 400 && text !== '') {
          problems.push(...validator.componentProblems('Error', JSON.parse(text)))
        }
        expect(problems, `${method} ${path} → ${response.status} ${text.slice(0, 300)}`).toEqual([])
      }),
      {
        seed: SEED,
        numRuns: RUNS,
        path: REPLAY_PATH,
        interruptAfterTimeLimit: OPERATION_TIME_LIMIT_MS,
      },
    )
  })
})
