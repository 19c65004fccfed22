import { afterEach, describe, expect, it } from 'vitest'
import { type AccessTestApp, createAccessTestApp } from '../testing/access.ts'
import { noisePng, uploadRequest } from '../testing/assets.ts'

let t: AccessTestApp
afterEach(async () => {
  await t.close()
})

/** Every route that takes the id of a workspace's resource, with the variants of each. */
const idRoutes = (ids: { asset: string; hash: string; generation: string }) =>
  [
    ['GET', `/v1/assets/${ids.asset}`, {}],
    ['DELETE', `/v1/assets/${ids.asset}`, {}],
    ['GET', `/v1/assets/${ids.asset}/content`, {}],
    ['HEAD', `/v1/assets/${ids.asset}/content`, {}],
    ['GET', `/v1/assets/${ids.asset}/content`, { range: 'bytes=0-9' }],
    ['GET', `/v1/assets/${ids.asset}/content`, { 'if-none-match': `"${ids.hash}"` }],
    ['GET', `/v1/generations/${ids.generation}`, {}],
  ] as const

// One suite, both metadata backends: the workspace boundary is in every repository's queries.
describe.each(['sqlite', 'postgres'] as const)(
  'S1 on %s: the ids of another workspace are 404 on every route',
  (database) => {
    it('for generate, read and admin keys of workspace B on the ids of workspace A', async () => {
      t = await createAccessTestApp({ database })
      const a = await t.newWorkspace('A')
      const b = await t.newWorkspace('B')
      const keyA = await t.newKey(a, ['generate'])
      const generated = await t.call('POST', '/v1/images/generations', {
        key: keyA,
        body: { model: 'local-sketch', prompt: 'only for A', size: '256x256' },
      })
      const answer = (await generated.json()) as {
        generation_id: string
        data: { asset_id: string; content_hash: string }[]
      }
      const upload = uploadRequest(await noisePng('A upload', 16))
      upload.headers.set('authorization', `Bearer ${keyA}`)
      const uploaded = (await (await t.hono.fetch(upload)).json()) as {
        id: string
        contentHash: string
      }
      const targets = [
        {
          asset: answer.data[0]?.asset_id ?? '',
          hash: answer.data[0]?.content_hash ?? '',
          generation: answer.generation_id,
        },
        { asset: uploaded.id, hash: uploaded.contentHash, generation: answer.generation_id },
      ]
      const read = await t.newKey(b, ['read'])
      const strangers = [
        read,
        await t.newKey(b, ['generate']),
        await t.newKey(b, ['admin']),
        t.key, // the bootstrap admin key, of workspace default
      ]
      const missing = {
        asset: 'ast_01J9Z7Q8R4M2XK5T3B6N8V0WQA',
        hash: '0'.repeat(64),
        generation: 'gen_01J9Z7Q8R4M2XK5T3B6N8V0WQB',
      }
      for (const key of strangers) {
        for (const ids of targets) {
          for (const [index, [method, path, headers]] of idRoutes(ids).entries()) {
            const response = await t.call(method, path, { key, headers })
            // A read key may not delete anything: 403 insufficient_scope, for any id at all, so
            // it says nothing about this one. Every other answer is the 404 of a missing id.
            const [, missingPath] = idRoutes(missing)[index] as readonly [string, string, object]
            const forMissing = await t.call(method, missingPath, { key, headers })
            const expected = key === read && method === 'DELETE' ? 403 : 404
            expect({ method, path, headers, status: response.status }).toEqual({
              method,
              path,
              headers,
              status: expected,
            })
            expect(forMissing.status).toBe(expected)
          }
        }
        const listed = (await (await t.call('GET', '/v1/assets', { key })).json()) as {
          data: unknown[]
        }
        expect(listed.data).toEqual([])
        const generations = (await (await t.call('GET', '/v1/generations', { key })).json()) as {
          data: unknown[]
        }
        expect(generations.data).toEqual([])
      }
      // Untouched, and still A's.
      for (const ids of targets) {
        expect((await t.call('GET', `/v1/assets/${ids.asset}`, { key: keyA })).status).toBe(200)
      }
      expect(
        (await t.call('GET', `/v1/generations/${answer.generation_id}`, { key: keyA })).status,
      ).toBe(200)
    })

    it('ids are random, never sequential', async () => {
      t = await createAccessTestApp({ database })
      const first = await t.newWorkspace('one')
      const second = await t.newWorkspace('two')
      expect(first).toMatch(/^ws_[0-9A-Z]{26}$/)
      // ULIDs: a millisecond timestamp then 80 random bits; the random parts differ.
      expect(first.slice(13)).not.toBe(second.slice(13))
    })
  },
)
