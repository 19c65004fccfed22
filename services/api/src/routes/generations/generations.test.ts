import { createHash } from 'node:crypto'
import type { ImagegateError } from '@imagegate/client'
import { afterEach, describe, expect, it } from 'vitest'
import { createLocalProvider } from '../../providers/local.ts'
import { type ImageProvider, UpstreamFailure } from '../../providers/types.ts'
import { createTestApp, type TestApp } from '../../testing/test-app.ts'

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')

/**
 * The local renderer, except that prompts starting with "fail:" get a 500-like ambiguous
 * failure and prompts starting with "flaky:" get one 503 before they succeed.
 */
function scriptedLocal(): ImageProvider {
  const local = createLocalProvider()
  const seen = new Set<string>()
  return {
    name: 'local',
    async generate(request) {
      if (request.prompt.startsWith('fail:')) {
        throw new UpstreamFailure('ambiguous', 'local', 'HTTP 500: the server had an error', {
          status: 500,
        })
      }
      if (request.prompt.startsWith('flaky:') && !seen.has(request.prompt)) {
        seen.add(request.prompt)
        throw new UpstreamFailure('unavailable', 'local', 'HTTP 503: overloaded', { status: 503 })
      }
      return local.generate(request)
    },
  }
}

describe('generation records', async () => {
  let t: TestApp
  afterEach(async () => {
    await t.close()
  })

  // random 0 makes every full-jitter backoff 0 ms, so a retry costs no wall time.
  const open = async (env: Record<string, string> = {}) =>
    await createTestApp({ env, providers: { local: scriptedLocal() }, random: () => 0 })

  const generate = (body: Record<string, unknown>) =>
    t.client.POST('/v1/images/generations', { body: { size: '256x256', ...body } as never })

  const attempt = (body: Record<string, unknown>) =>
    generate(body).then(
      () => undefined,
      (err: unknown) => err as ImagegateError,
    )

  it('records a succeeded generation with what was asked, every attempt, timings and cost', async () => {
    t = await open()
    // The retry budget starts empty and earns 10 retries/s: a gateway 0 ms old has none to spend.
    await new Promise((resolve) => setTimeout(resolve, 150))
    const prompt = 'flaky: a windmill'
    const { data } = await generate({ prompt, n: 2, seed: 5, style: 'vivid' })
    const { data: record } = await t.client.GET('/v1/generations/{id}', {
      params: { path: { id: data?.generation_id ?? '' } },
    })
    expect(record).toMatchObject({
      id: data?.generation_id,
      status: 'succeeded',
      operation: 'generate',
      prompt,
      promptHash: sha256(prompt),
      model: 'local-sketch',
      provider: 'local',
      size: '256x256',
      seed: 5,
      n: 2,
      parameters: { seed: 5, requestedSize: '256x256', requestedN: 2 },
      assetIds: data?.data.map((image) => image.asset_id),
      inputAssetIds: [],
      warnings: ['style=vivid is not supported by local-sketch; ignored'],
      cost: 0,
      rootGenerationId: data?.generation_id,
    })
    expect(record?.attempts).toEqual([
      {
        attempt: 1,
        startedAt: expect.any(String),
        durationMs: expect.any(Number),
        outcome: 'unavailable',
        status: 503,
      },
      {
        attempt: 2,
        startedAt: expect.any(String),
        durationMs: expect.any(Number),
        outcome: 'success',
        waitedMs: 0,
      },
    ])
    expect(record?.timings).toEqual({ upstreamMs: expect.any(Number), totalMs: expect.any(Number) })
    expect(record?.error).toBeUndefined()
    expect(Date.parse(record?.finishedAt ?? '')).toBeGreaterThanOrEqual(
      Date.parse(record?.createdAt ?? ''),
    )
  })

  it('records a failed generation with its error and the attempt that failed', async () => {
    t = await open()
    const error = await attempt({ prompt: 'fail: a storm' })
    expect(error?.status).toBe(502)
    expect(error?.code).toBe('upstream_error')
    const { data: page } = await t.client.GET('/v1/generations', {
      params: { query: { status: 'failed' } },
    })
    expect(page?.data).toHaveLength(1)
    expect(page?.data[0]).toMatchObject({
      status: 'failed',
      prompt: 'fail: a storm',
      assetIds: [],
      cost: 0,
      attempts: [{ attempt: 1, outcome: 'ambiguous', status: 500 }],
      error: { code: 'upstream_error', message: error?.message },
      timings: { totalMs: expect.any(Number) },
    })
  })

  it('leaves one record per request, successes and failures alike', async () => {
    t = await open()
    await generate({ prompt: 'one' })
    await attempt({ prompt: 'fail: two' })
    await t.client.POST('/v1/skills/image-generate', { body: { prompt: 'three' } })
    await attempt({ prompt: 'fail: four' })
    const { data } = await t.client.GET('/v1/generations')
    expect(data?.data.map((record) => [record.prompt, record.status, record.operation])).toEqual([
      ['fail: four', 'failed', 'generate'],
      ['three', 'succeeded', 'skill'],
      ['fail: two', 'failed', 'generate'],
      ['one', 'succeeded', 'generate'],
    ])
  })

  it('pages newest first with an opaque cursor, without gaps or repeats', async () => {
    t = await open()
    for (let index = 0; index < 5; index++) {
      await generate({ prompt: `page ${index}` })
    }
    const seen: string[] = []
    let cursor: string | undefined
    for (let page = 0; page < 5; page++) {
      const { data } = await t.client.GET('/v1/generations', {
        params: { query: { limit: 2, ...(cursor ? { cursor } : {}) } },
      })
      seen.push(...(data?.data ?? []).map((record) => record.prompt))
      expect(data?.data.length).toBe(data?.hasMore ? 2 : 1)
      if (!data?.hasMore) {
        expect(data?.nextCursor).toBeNull()
        break
      }
      cursor = data.nextCursor ?? undefined
    }
    expect(seen).toEqual(['page 4', 'page 3', 'page 2', 'page 1', 'page 0'])
  })

  it('filters by status, model, provider and creation time', async () => {
    t = await open({ IMAGEGATE_MOCK_IMAGES: 'true' })
    await generate({ prompt: 'sketch' })
    await generate({ prompt: 'mocked gpt', model: 'gpt-image-1' })
    await attempt({ prompt: 'fail: sketch' })
    const list = async (query: Record<string, string>) => {
      const { data } = await t.client.GET('/v1/generations', { params: { query } })
      return data?.data.map((record) => record.prompt)
    }
    expect(await list({ status: 'succeeded' })).toEqual(['mocked gpt', 'sketch'])
    expect(await list({ status: 'failed' })).toEqual(['fail: sketch'])
    expect(await list({ model: 'gpt-image-1' })).toEqual(['mocked gpt'])
    expect(await list({ model: 'local-sketch', status: 'succeeded' })).toEqual(['sketch'])
    // Mock mode answers from the local renderer, and the record says so.
    expect(await list({ provider: 'local' })).toHaveLength(3)
    expect(await list({ provider: 'openai' })).toEqual([])
    const all = (await t.client.GET('/v1/generations')).data?.data ?? []
    const middle = all[1]?.createdAt ?? ''
    expect(await list({ createdAfter: middle })).toEqual(
      all.filter((record) => record.createdAt >= middle).map((record) => record.prompt),
    )
    expect(await list({ createdBefore: '2000-01-01T00:00:00.000Z' })).toEqual([])
  })

  it('compares creation times as instants, whatever their spelling', async () => {
    t = await createTestApp({ clock: { now: () => new Date('2026-11-21T10:00:00.000Z') } })
    await generate({ prompt: 'on the second' })
    const list = async (query: Record<string, string>) =>
      (await t.client.GET('/v1/generations', { params: { query } })).data?.data.length
    expect(await list({ createdAfter: '2026-11-21T10:00:00Z' })).toBe(1)
    expect(await list({ createdAfter: '2026-11-21T10:00:00.5Z' })).toBe(0)
    expect(await list({ createdBefore: '2026-11-21T10:00:00Z' })).toBe(1)
    expect(await list({ createdBefore: '2026-11-21T09:59:59.9Z' })).toBe(0)
  })

  it.each([
    ['an unknown id', '/v1/generations/gen_01J9Z7Q8R4M2XK5T3B6N8V0WQB', 404, 'not_found'],
    ['a cursor this server never issued', '/v1/generations?cursor=bm9wZQ', 400, 'invalid_request'],
    ['an unknown status', '/v1/generations?status=paused', 400, 'invalid_request'],
    ['a limit out of range', '/v1/generations?limit=0', 400, 'invalid_request'],
  ])('answers %s with the error object', async (_name, url, status, code) => {
    t = await open()
    const response = await t.app.request(url)
    expect(response.status).toBe(status)
    expect(await response.json()).toEqual({
      error: expect.objectContaining({ code, requestId: response.headers.get('x-request-id') }),
    })
  })

  it('never sends the stored model turn to clients', async () => {
    t = await open()
    const { data } = await generate({ prompt: 'turn' })
    const id = data?.generation_id ?? ''
    await t.deps.generationsRepo.update(id, {
      modelTurn: [{ parts: [{ thoughtSignature: 'c2VjcmV0' }] }],
    })
    const text = await (await t.app.request(`/v1/generations/${id}`)).text()
    expect(text).not.toContain('c2VjcmV0')
    expect(text).not.toContain('modelTurn')
  })

  it('records the generations a stopped process left running as failed, and only those', async () => {
    t = await open()
    const { data } = await generate({ prompt: 'finished' })
    const finished = data?.generation_id ?? ''
    // What a process killed mid-generation leaves behind: the row it wrote before dispatch.
    const { data: copy } = await t.client.GET('/v1/generations/{id}', {
      params: { path: { id: finished } },
    })
    const left = await t.deps.generationsRepo.insert({
      id: 'gen_left_running',
      workspaceId: 'default',
      status: 'running',
      operation: 'generate',
      prompt: 'cut short',
      promptHash: sha256('cut short'),
      model: copy?.model ?? '',
      provider: copy?.provider ?? '',
      n: 1,
      parameters: {},
      assetIds: [],
      attempts: [],
      warnings: [],
      costCents: 0,
      inputAssetIds: [],
      rootGenerationId: 'gen_left_running',
      createdAt: new Date().toISOString(),
    })
    expect(left.status).toBe('running')

    expect(await t.deps.failInterruptedGenerations('start-up')).toBe(1)
    const { data: failed } = await t.client.GET('/v1/generations/{id}', {
      params: { path: { id: left.id } },
    })
    expect(failed).toMatchObject({
      status: 'failed',
      cost: 0,
      error: {
        code: 'internal_error',
        message: expect.stringContaining('imagegate stopped before this generation finished'),
      },
    })
    expect(Date.parse(failed?.finishedAt ?? '')).not.toBeNaN()
    const { data: untouched } = await t.client.GET('/v1/generations/{id}', {
      params: { path: { id: finished } },
    })
    expect(untouched).toEqual(copy)
    expect(await t.deps.failInterruptedGenerations('start-up')).toBe(0)
  })
})

describe('requests refused before a provider is called', () => {
  it('leave a failed record with the error', async () => {
    const t = await createTestApp()
    try {
      const failure = await t.client
        .POST('/v1/images/generations', { body: { prompt: 'a heron', model: 'no-such-model' } })
        .catch((err: unknown) => err as ImagegateError)
      expect((failure as ImagegateError).code).toBe('model_not_found')
      const { data } = await t.client.GET('/v1/generations', {
        params: { query: { status: 'failed' } },
      })
      expect(data?.data).toHaveLength(1)
      expect(data?.data[0]).toMatchObject({
        status: 'failed',
        model: 'no-such-model',
        provider: 'none',
        promptHash: sha256('a heron'),
        attempts: [],
        error: { code: 'model_not_found' },
      })
    } finally {
      await t.close()
    }
  })
})
