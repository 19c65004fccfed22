import { randomUUID } from 'node:crypto'
import { describe, expect, inject, it } from 'vitest'
import { asciiGif, sha256Hex } from '../../services/api/src/testing/images.ts'
import { loadSpecValidator } from '../support/spec-validator.ts'

/**
 * The real server's answers validated strictly (ajv, JSON Schema 2020-12, formats checked,
 * closed objects closed) against the committed document: what Prism's proxy lets through
 * unchecked, such as an answer no `allOf` of two closed objects could ever match, fails here.
 */
const serverUrl = inject('serverUrl')
const validator = loadSpecValidator()

async function call(
  method: string,
  pathTemplate: string,
  options: {
    params?: Record<string, string>
    query?: string
    json?: unknown
    body?: BodyInit
    headers?: Record<string, string>
  } = {},
) {
  let url = pathTemplate
  for (const [name, value] of Object.entries(options.params ?? {})) {
    url = url.replace(`{${name}}`, encodeURIComponent(value))
  }
  const headers: Record<string, string> = {
    authorization: `Bearer ${inject('serverKey')}`,
    ...(options.json === undefined ? {} : { 'content-type': 'application/json' }),
    ...options.headers,
  }
  const response = await fetch(`${serverUrl}${url}${options.query ?? ''}`, {
    method,
    headers,
    body: options.json === undefined ? options.body : JSON.stringify(options.json),
  })
  const text = await response.text()
  const body: unknown = text === '' ? undefined : JSON.parse(text)
  const problems = validator.problems(method, pathTemplate, response.status, body)
  expect(problems, `${method} ${url} → ${response.status} ${text.slice(0, 500)}`).toEqual([])
  return { status: response.status, body: body as Record<string, unknown> }
}

describe('answers of the real server under strict JSON Schema validation (ajv 2020-12)', () => {
  it('admin routes: workspaces, keys (ApiKeyCreated), credits and usage', async () => {
    const created = await call('POST', '/v1/workspaces', {
      json: { name: `strict ${randomUUID()}`, initialCredits: 0.07 },
    })
    expect(created.status).toBe(201)
    expect(created.body.balance).toBe(0.07)
    const id = created.body.id as string
    const key = await call('POST', '/v1/workspaces/{id}/keys', {
      params: { id },
      json: { name: 'strict', scopes: ['generate'], rateLimits: { imagesPerMinute: 5 } },
    })
    expect(key.status).toBe(201)
    expect(key.body.key).toMatch(/^igk_/)
    expect((await call('GET', '/v1/workspaces/{id}/keys', { params: { id } })).status).toBe(200)
    const granted = await call('POST', '/v1/workspaces/{id}/credits', {
      params: { id },
      json: { amount: 16.7 },
      headers: { 'idempotency-key': randomUUID() },
    })
    expect(granted.body).toMatchObject({ granted: 16.7, balance: 16.77 })
    const dust = await call('POST', '/v1/workspaces/{id}/credits', {
      params: { id },
      json: { amount: 0.0001 },
    })
    expect(dust.status).toBe(400)
    expect((await call('GET', '/v1/workspaces/{id}/usage', { params: { id } })).status).toBe(200)
    expect((await call('GET', '/v1/workspaces')).status).toBe(200)
    const revoked = await call('DELETE', '/v1/keys/{keyId}', {
      params: { keyId: key.body.id as string },
    })
    expect(revoked.status).toBe(204)
    const missing = await call('GET', '/v1/workspaces/{id}/usage', { params: { id: 'ws_nope' } })
    expect(missing.status).toBe(404)
  })

  it('generation, skill, models and generation records', async () => {
    const generated = await call('POST', '/v1/images/generations', {
      json: { prompt: 'strict', size: '256x256', response_format: 'url' },
    })
    expect(generated.status).toBe(200)
    const skill = await call('POST', '/v1/skills/image-generate', {
      json: { prompt: 'strict skill' },
    })
    expect(skill.status).toBe(200)
    const refused = await call('POST', '/v1/skills/image-generate', { json: { prompt: '' } })
    expect(refused.status).toBe(400)
    expect((await call('GET', '/v1/models')).status).toBe(200)
    const page = await call('GET', '/v1/generations', { query: '?limit=2' })
    const first = (page.body.data as { id: string }[])[0] as { id: string }
    expect((await call('GET', '/v1/generations/{id}', { params: { id: first.id } })).status).toBe(
      200,
    )
  })

  it('assets: upload, list, get; 415 for a body that is not multipart', async () => {
    const bytes = asciiGif(`strict ${randomUUID()}`)
    const form = new FormData()
    form.append('file', new Blob([new Uint8Array(bytes)], { type: 'image/gif' }), 'strict.gif')
    const uploaded = await call('POST', '/v1/assets', {
      body: form,
      headers: { 'x-content-sha256': sha256Hex(bytes) },
    })
    expect(uploaded.status).toBe(201)
    const id = uploaded.body.id as string
    expect((await call('GET', '/v1/assets/{id}', { params: { id } })).status).toBe(200)
    expect((await call('GET', '/v1/assets', { query: '?limit=1' })).status).toBe(200)
    const notMultipart = await call('POST', '/v1/assets', {
      json: { file: 'not a form' },
      headers: { 'x-content-sha256': sha256Hex(bytes) },
    })
    expect(notMultipart.status).toBe(415)
  })

  it('413 for a JSON body over the limit, on every JSON operation', async () => {
    const huge = { prompt: 'x'.repeat(2 * 1024 * 1024) }
    for (const [method, path] of [
      ['POST', '/v1/images/generations'],
      ['POST', '/v1/skills/image-generate'],
      ['POST', '/v1/workspaces'],
    ] as const) {
      expect((await call(method, path, { json: huge })).status).toBe(413)
    }
  })
})

describe('the committed document under ajv', () => {
  it('rejects an answer off the schema: strictness is real', () => {
    const created = {
      id: 'key_01J9Z7Q8R4M2XK5T3B6N8V0WQD',
      workspaceId: 'ws_01J9Z7Q8R4M2XK5T3B6N8V0WQC',
      name: null,
      scopes: ['generate'],
      rateLimits: { requestsPerMinute: 60, imagesPerMinute: 30 },
      displayPrefix: 'igk_4fT9xQ2a',
      last4: 'Zk3P',
      createdAt: '2026-11-21T10:00:00.000Z',
      revokedAt: null,
      key: 'igk_x',
    }
    expect(validator.componentProblems('ApiKeyCreated', created)).toEqual([])
    expect(validator.componentProblems('ApiKeyCreated', { ...created, extra: 1 })).not.toEqual([])
    expect(
      validator.componentProblems('ApiKeyCreated', { ...created, createdAt: 'today' }),
    ).not.toEqual([])
    const { key: _key, ...withoutKey } = created
    expect(validator.componentProblems('ApiKeyCreated', withoutKey)).not.toEqual([])
  })

  it('every component example is valid under its own schema', () => {
    const schemas = validator.spec.components.schemas as Record<string, { example?: unknown }>
    const problems = Object.entries(schemas)
      .filter(([, schema]) => schema.example !== undefined)
      .flatMap(([name, schema]) =>
        validator.componentProblems(name, schema.example).map((problem) => `${name}: ${problem}`),
      )
    expect(problems).toEqual([])
  })

  it('path parameters carry their examples, and each operation its own Idempotency-Key example', () => {
    const idempotencyExamples: string[] = []
    for (const [path, item] of Object.entries(validator.spec.paths)) {
      for (const operation of Object.values(item)) {
        const parameters =
          (operation as { parameters?: Record<string, unknown>[] }).parameters ?? []
        for (const parameter of parameters) {
          if (parameter.in === 'path') {
            expect(parameter.example, `${path} ${String(parameter.name)}`).toBeTypeOf('string')
          }
          if (parameter.name === 'Idempotency-Key') {
            idempotencyExamples.push(parameter.example as string)
          }
        }
      }
    }
    expect(idempotencyExamples.length).toBeGreaterThan(3)
    expect(new Set(idempotencyExamples).size).toBe(idempotencyExamples.length)
  })
})
