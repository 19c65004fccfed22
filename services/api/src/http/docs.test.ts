import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'
import { createTestApp } from '../testing/test-app.ts'

describe('/docs', () => {
  it('serves Swagger UI`s files without loading its browser bundle into the server', async () => {
    const t = await createTestApp()
    try {
      const bundle = await t.app.request('/docs/swagger-ui-bundle.js')
      expect(bundle.status).toBe(200)
      expect(bundle.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
      expect((await bundle.arrayBuffer()).byteLength).toBeGreaterThan(100_000)
      const loaded = Object.keys(createRequire(import.meta.url).cache)
      expect(loaded.filter((file) => file.includes('swagger-ui-dist'))).toEqual([])
    } finally {
      await t.close()
    }
  })
})
