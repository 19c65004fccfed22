import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { freePort, repoRoot, spawnUntil, stop } from '../support/processes.ts'

/**
 * Guards the guard: a proxy given a spec that disagrees with the server must flag the answer.
 * Without this, a misconfigured proxy would let every off-spec response through silently.
 */
describe('prism proxy --errors', () => {
  const scratch = mkdtempSync(path.join(tmpdir(), 'imagegate-mutated-spec-'))
  let cleanup: (() => Promise<void>) | undefined

  afterAll(async () => {
    await cleanup?.()
    rmSync(scratch, { recursive: true, force: true })
  })

  it('turns an off-spec answer into a 500 with sl-violations', async () => {
    const spec = JSON.parse(readFileSync(path.join(repoRoot, 'openapi/openapi.json'), 'utf8'))
    spec.components.schemas.Health.properties.status.enum = ['fine']
    const mutated = path.join(scratch, 'openapi.json')
    writeFileSync(mutated, JSON.stringify(spec))
    const port = await freePort()
    const { child } = await spawnUntil(
      path.join(repoRoot, 'node_modules/.bin/prism'),
      ['proxy', '-h', '127.0.0.1', '-p', String(port), '--errors', mutated, inject('serverUrl')],
      { ready: /Prism is listening/, env: { SCARF_ANALYTICS: 'false' }, timeoutMs: 60_000 },
    )
    cleanup = () => stop(child)
    const response = await fetch(`http://127.0.0.1:${port}/healthz`)
    expect(response.status).toBe(500)
    expect(response.headers.get('sl-violations')).toContain('enum')
  })
})
