import { describe, expect, it } from 'vitest'
import { DEFAULT_SERVER_LIMITS, loadConfig } from '../../config.ts'
import { serverOptions } from './limits.ts'

describe('server limits', () => {
  it('are the configuration’s defaults', () => {
    expect(loadConfig({}).server).toEqual(DEFAULT_SERVER_LIMITS)
  })

  it('check timeouts often enough that a slow header is closed near its timeout', () => {
    expect(serverOptions(DEFAULT_SERVER_LIMITS)).toEqual({
      headersTimeout: 10_000,
      requestTimeout: 300_000,
      keepAliveTimeout: 5_000,
      connectionsCheckingInterval: 1000,
    })
    expect(
      serverOptions({ ...DEFAULT_SERVER_LIMITS, headersTimeoutMs: 1000 })
        .connectionsCheckingInterval,
    ).toBe(250)
    expect(
      serverOptions({ ...DEFAULT_SERVER_LIMITS, headersTimeoutMs: 1 }).connectionsCheckingInterval,
    ).toBe(50)
  })
})
