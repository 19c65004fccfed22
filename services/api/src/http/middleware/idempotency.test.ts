import { createHash } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { manualClock } from '../../providers/resilience/testing/manual-clock.ts'
import { UpstreamFailure } from '../../providers/types.ts'
import { type AccessTestApp, createAccessTestApp, GPT_IMAGE_1_PRICE } from '../../testing/access.ts'
import { noisePng, sha256Hex, uploadRequest } from '../../testing/assets.ts'

let t: AccessTestApp
afterEach(async () => {
  await t.close()
})

const sha256 = (bytes: ArrayBuffer) =>
  createHash('sha256').update(new Uint8Array(bytes)).digest('hex')
const paid = { model: 'gpt-image-1', prompt: 'a fox, once', size: '1024x1024', n: 1 }

async function paidWorkspace(credits = 100) {
  const ws = await t.newWorkspace('Idempotent', credits)
  return { ws, key: await t.newKey(ws, ['generate']) }
}

function generate(key: string, idempotencyKey: string | undefined, body: unknown = paid) {
  return t.call('POST', '/v1/images/generations', {
    key,
    body,
    headers: idempotencyKey === undefined ? {} : { 'idempotency-key': idempotencyKey },
  })
}

type Snapshot = { status: number; sha256: string; headers: Record<string, string> }
async function snapshot(response: Response): Promise<Snapshot> {
  const headers: Record<string, string> = {}
  response.headers.forEach((value, name) => {
    if (!['x-request-id', 'idempotent-replayed'].includes(name) && !/ratelimit/.test(name)) {
      headers[name] = value
    }
  })
  return { status: response.status, sha256: sha256(await response.arrayBuffer()), headers }
}

describe('Idempotency-Key on charged requests', () => {
  it('I1: five sends of one request → one upstream call, one debit, byte-identical answers', async () => {
    t = await createAccessTestApp()
    const { ws, key } = await paidWorkspace()
    const answers: Snapshot[] = []
    const replayed: (string | null)[] = []
    for (let send = 0; send < 5; send++) {
      const response = await generate(key, 'fox-1')
      replayed.push(response.headers.get('idempotent-replayed'))
      answers.push(await snapshot(response))
    }
    expect(answers[0]?.status).toBe(200)
    expect(new Set(answers.map((answer) => JSON.stringify(answer))).size).toBe(1)
    expect(replayed).toEqual([null, 'true', 'true', 'true', 'true'])
    expect(t.paid.calls).toHaveLength(1)
    expect(t.debits(ws)).toBe(1)
    expect(await t.balance(ws)).toBeCloseTo(100 - GPT_IMAGE_1_PRICE, 6)
  })

  it('I1 for the skill and for uploads: replayed byte for byte, done once', async () => {
    t = await createAccessTestApp()
    const { ws, key } = await paidWorkspace()
    const skill = () =>
      t.call('POST', '/v1/skills/image-generate', {
        key,
        body: { prompt: 'skill once', model: 'gpt-image-1', size: '1024x1024' },
        headers: { 'idempotency-key': 'skill-1' },
      })
    const first = await snapshot(await skill())
    expect(first.status).toBe(200)
    expect(await snapshot(await skill())).toEqual(first)
    expect(t.paid.calls).toHaveLength(1)
    expect(t.debits(ws)).toBe(1)

    const bytes = await noisePng('upload once', 16)
    const upload = () => {
      const request = uploadRequest(bytes)
      request.headers.set('authorization', `Bearer ${key}`)
      request.headers.set('idempotency-key', 'upload-1')
      return t.hono.fetch(request)
    }
    const uploaded = await upload()
    expect(uploaded.status).toBe(201)
    const again = await upload()
    expect(again.headers.get('idempotent-replayed')).toBe('true')
    // The replay is the first answer (201 created), not a fresh 200 "already had it".
    expect(await snapshot(again)).toEqual(await snapshot(uploaded))
    expect(sha256Hex(bytes)).toBe(uploaded.headers.get('x-content-sha256'))
  })

  it('I2: the same key on a different body or route → 422, upstream not called', async () => {
    t = await createAccessTestApp()
    const { ws, key } = await paidWorkspace()
    expect((await generate(key, 'fox-2')).status).toBe(200)
    const otherBody = await generate(key, 'fox-2', { ...paid, prompt: 'another fox' })
    expect(otherBody.status).toBe(422)
    expect(((await otherBody.json()) as { error: { code: string } }).error.code).toBe(
      'idempotency_key_reused',
    )
    const otherRoute = await t.call('POST', '/v1/skills/image-generate', {
      key,
      body: paid,
      headers: { 'idempotency-key': 'fox-2' },
    })
    expect(otherRoute.status).toBe(422)
    expect(t.paid.calls).toHaveLength(1)
    expect(t.debits(ws)).toBe(1)
  })

  it('the same body with keys reordered and other spacing is the same request', async () => {
    t = await createAccessTestApp()
    const { key } = await paidWorkspace()
    expect((await generate(key, 'order', paid)).status).toBe(200)
    const reordered = await t.hono.request('/v1/images/generations', {
      method: 'POST',
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': 'application/json',
        'idempotency-key': 'order',
      },
      body: `{ "n": 1, "size": "1024x1024",\n "prompt": "a fox, once", "model": "gpt-image-1" }`,
    })
    expect(reordered.status).toBe(200)
    expect(reordered.headers.get('idempotent-replayed')).toBe('true')
  })

  it('I3: 20 concurrent requests, upstream 500 ms → one upstream call; the rest 409, then replays', async () => {
    t = await createAccessTestApp({ script: { delayMs: 500 } })
    const { ws, key } = await paidWorkspace()
    const responses = await Promise.all(Array.from({ length: 20 }, () => generate(key, 'burst')))
    const statuses = responses.map((response) => response.status).sort()
    expect(statuses).toEqual([200, ...Array(19).fill(409)])
    for (const conflict of responses.filter((response) => response.status === 409)) {
      expect(Number(conflict.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
      expect(conflict.headers.get('x-should-retry')).toBe('true')
      expect(((await conflict.json()) as { error: { code: string } }).error.code).toBe(
        'idempotency_key_in_use',
      )
    }
    const original = await snapshot(
      responses.find((response) => response.status === 200) as Response,
    )
    for (let retry = 0; retry < 3; retry++) {
      expect(await snapshot(await generate(key, 'burst'))).toEqual(original)
    }
    expect(t.paid.calls).toHaveLength(1)
    expect(t.debits(ws)).toBe(1)
  })

  it('I4: after 24 h and a second the key is new again', async () => {
    const clock = manualClock(Date.parse('2030-01-01T00:00:00Z'))
    t = await createAccessTestApp({ clock })
    const { ws, key } = await paidWorkspace()
    expect((await generate(key, 'daily')).status).toBe(200)
    clock.advance(24 * 60 * 60 * 1000 - 1)
    expect((await generate(key, 'daily')).headers.get('idempotent-replayed')).toBe('true')
    clock.advance(1001)
    const fresh = await generate(key, 'daily')
    expect(fresh.status).toBe(200)
    expect(fresh.headers.get('idempotent-replayed')).toBeNull()
    expect(t.paid.calls).toHaveLength(2)
    expect(t.debits(ws)).toBe(2)
  })

  it('I6: the same key in two workspaces names two requests', async () => {
    t = await createAccessTestApp()
    const a = await paidWorkspace()
    const b = await paidWorkspace()
    const first = await generate(a.key, 'shared-key')
    const second = await generate(b.key, 'shared-key', { ...paid, prompt: 'different body' })
    expect([first.status, second.status]).toEqual([200, 200])
    expect(second.headers.get('idempotent-replayed')).toBeNull()
    expect(t.paid.calls).toHaveLength(2)
    expect([t.debits(a.ws), t.debits(b.ws)]).toEqual([1, 1])
  })

  it.each([
    ['empty', ''],
    ['256 characters', 'k'.repeat(256)],
    ['a control character', 'abc\u0001def'],
    ['a non-ASCII character', 'clé'],
    ['a broken quoted string', '"abc'],
  ])('I7: a key with %s is 400 invalid_request, and nothing runs', async (_, value) => {
    t = await createAccessTestApp()
    const { key } = await paidWorkspace()
    const response = await Promise.resolve()
      .then(() =>
        t.hono.request('/v1/images/generations', {
          method: 'POST',
          headers: new Headers([
            ['authorization', `Bearer ${key}`],
            ['content-type', 'application/json'],
            ['idempotency-key', value],
          ]),
          body: JSON.stringify(paid),
        }),
      )
      .catch((err: unknown) => err)
    if (response instanceof Response) {
      expect(response.status).toBe(400)
      const { error } = (await response.json()) as { error: { code: string; param: string } }
      expect(error).toMatchObject({ code: 'invalid_request', param: 'Idempotency-Key' })
    } else {
      // Headers refuses control characters itself: such a key cannot even be sent.
      expect([...value].some((char) => char < ' ' || char > '~')).toBe(true)
    }
    expect(t.paid.calls).toHaveLength(0)
  })

  it('I7: the quoted (structured field) and bare forms are the same key; 255 characters are fine', async () => {
    t = await createAccessTestApp()
    const { key } = await paidWorkspace()
    expect((await generate(key, 'k-42')).status).toBe(200)
    const quoted = await generate(key, '"k-42"')
    expect(quoted.headers.get('idempotent-replayed')).toBe('true')
    expect((await generate(key, 'x'.repeat(255))).status).toBe(200)
    expect(t.paid.calls).toHaveLength(2)
  })

  it('does not keep a digest mismatch: the resend of the intact bytes may use the same key', async () => {
    t = await createAccessTestApp()
    const { key } = await paidWorkspace()
    const bytes = await noisePng('corrupted in flight', 16)
    const send = (digestOf: Uint8Array) => {
      const request = uploadRequest(bytes, { digest: sha256Hex(digestOf) })
      request.headers.set('authorization', `Bearer ${key}`)
      request.headers.set('idempotency-key', 'upload-retry')
      return t.hono.fetch(request)
    }
    const corrupted = Uint8Array.from(bytes)
    corrupted[corrupted.length >> 1] = (corrupted[corrupted.length >> 1] ?? 0) ^ 1
    // The header says what was meant; the bytes that arrived differ.
    const refused = await send(corrupted)
    expect(refused.status).toBe(422)
    expect(refused.headers.get('x-should-retry')).toBe('true')
    const resent = await send(bytes)
    expect(resent.status).toBe(201)
  })

  it('does not keep a 400: the corrected request may use the same key', async () => {
    t = await createAccessTestApp()
    const { key } = await paidWorkspace()
    expect((await generate(key, 'fix-me', { ...paid, n: 99 })).status).toBe(400)
    expect((await generate(key, 'fix-me')).status).toBe(200)
  })

  it('keeps a 402 (top up, then use a new key) and releases a 5xx (the retry runs again)', async () => {
    t = await createAccessTestApp({
      script: {
        fail: () => (failing ? new UpstreamFailure('auth', 'openai', 'bad key') : undefined),
      },
    })
    let failing = false
    const poor = await paidWorkspace(1)
    const refused = await generate(poor.key, 'poor')
    expect(refused.status).toBe(402)
    const body = (await refused.json()) as { error: { cost: number; balance: number } }
    expect(body.error).toMatchObject({ cost: GPT_IMAGE_1_PRICE, balance: 1 })
    expect(refused.headers.get('x-should-retry')).toBe('false')
    expect((await generate(poor.key, 'poor')).headers.get('idempotent-replayed')).toBe('true')
    expect(t.paid.calls).toHaveLength(0)

    const rich = await paidWorkspace(100)
    failing = true
    const failed = await generate(rich.key, 'flaky')
    expect(failed.status).toBeGreaterThanOrEqual(500)
    expect(await t.balance(rich.ws)).toBe(100)
    failing = false
    const retried = await generate(rich.key, 'flaky')
    expect(retried.status).toBe(200)
    expect(retried.headers.get('idempotent-replayed')).toBeNull()
    expect(t.debits(rich.ws)).toBe(1)
  })
})
