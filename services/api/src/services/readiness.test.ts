import { describe, expect, it } from 'vitest'
import {
  BackendsUnavailableError,
  checkBackendsAtStart,
  ProbeTimeoutError,
  type ReadinessProbe,
  runProbes,
} from './readiness.ts'

const ok: ReadinessProbe = { name: 'database', check() {} }
const broken: ReadinessProbe = {
  name: 'blobStore',
  target: 's3://blobs/ at http://127.0.0.1:9',
  check: () => Promise.reject(new Error('The object store cannot be reached: ECONNREFUSED')),
}
const hung: ReadinessProbe = { name: 'redis', check: () => new Promise(() => {}) }

describe('runProbes', () => {
  it('reports each probe by name, in order, whether it throws or rejects', async () => {
    const throwing: ReadinessProbe = {
      name: 'dataDir',
      check() {
        throw new Error('EACCES')
      },
    }
    const outcomes = await runProbes([ok, throwing, broken])
    expect(outcomes.map((outcome) => [outcome.name, outcome.ok])).toEqual([
      ['database', true],
      ['dataDir', false],
      ['blobStore', false],
    ])
  })

  it('counts a probe that does not answer in time as failing, without waiting for it', async () => {
    const started = performance.now()
    const [outcome] = await runProbes([hung], 50)
    expect(performance.now() - started).toBeLessThan(1000)
    expect(outcome).toMatchObject({ name: 'redis', ok: false })
    expect(outcome && 'error' in outcome ? outcome.error : undefined).toBeInstanceOf(
      ProbeTimeoutError,
    )
  })
})

describe('checkBackendsAtStart', () => {
  it('passes when every backend answers', async () => {
    await expect(checkBackendsAtStart([ok], 50)).resolves.toBeUndefined()
  })

  it('names every failing backend, what it looked at and why, in one error', async () => {
    const error = await checkBackendsAtStart([ok, broken, hung], 50).catch((err: unknown) => err)
    expect(error).toBeInstanceOf(BackendsUnavailableError)
    expect((error as BackendsUnavailableError).problems).toEqual([
      'blobStore (s3://blobs/ at http://127.0.0.1:9): The object store cannot be reached: ECONNREFUSED',
      'redis: no answer within 50 ms',
    ])
  })
})
