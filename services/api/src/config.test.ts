import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from './config.ts'

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig({})
    expect(config).toMatchObject({ port: 8787, host: '127.0.0.1', logLevel: 'info' })
    expect(config.dataDir).toBe(path.resolve('./data'))
  })

  it('reads the fixed variable names', () => {
    const config = loadConfig({
      PORT: '9000',
      HOST: '0.0.0.0',
      IMAGEGATE_DATA_DIR: '/tmp/ig',
      IMAGEGATE_LOG_LEVEL: 'debug',
    })
    expect(config).toMatchObject({
      port: 9000,
      host: '0.0.0.0',
      dataDir: '/tmp/ig',
      logLevel: 'debug',
    })
  })

  it('bounds bodies and slow clients by default, and reads the limits from the environment', () => {
    expect(loadConfig({})).toMatchObject({
      maxJsonBytes: 1024 * 1024,
      server: {
        headersTimeoutMs: 10_000,
        requestTimeoutMs: 300_000,
        bodyMinBytesPerSecond: 1024,
        bodyRateWindowMs: 10_000,
        keepAliveTimeoutMs: 5_000,
        maxConnections: 1024,
      },
    })
    const config = loadConfig({
      IMAGEGATE_MAX_JSON_BYTES: '65536',
      IMAGEGATE_HEADERS_TIMEOUT_MS: '2000',
      IMAGEGATE_REQUEST_TIMEOUT_MS: '30000',
      IMAGEGATE_BODY_MIN_BYTES_PER_SECOND: '0',
      IMAGEGATE_BODY_RATE_WINDOW_MS: '3000',
      IMAGEGATE_KEEP_ALIVE_TIMEOUT_MS: '1000',
      IMAGEGATE_MAX_CONNECTIONS: '50',
    })
    expect(config.maxJsonBytes).toBe(65536)
    expect(config.server).toEqual({
      headersTimeoutMs: 2000,
      requestTimeoutMs: 30_000,
      bodyMinBytesPerSecond: 0,
      bodyRateWindowMs: 3000,
      keepAliveTimeoutMs: 1000,
      maxConnections: 50,
    })
  })

  it('refuses bootstrap credits the ledger cannot book', () => {
    expect(() => loadConfig({ IMAGEGATE_BOOTSTRAP_CREDITS: '0.0001' })).toThrow(
      /IMAGEGATE_BOOTSTRAP_CREDITS="0.0001"/,
    )
    expect(loadConfig({ IMAGEGATE_BOOTSTRAP_CREDITS: '0.07' }).bootstrapCredits).toBe(0.07)
  })

  it('refuses a headers timeout longer than the request timeout', () => {
    expect(() =>
      loadConfig({ IMAGEGATE_HEADERS_TIMEOUT_MS: '60000', IMAGEGATE_REQUEST_TIMEOUT_MS: '30000' }),
    ).toThrow(/IMAGEGATE_HEADERS_TIMEOUT_MS=60000/)
  })

  it('lists every bad variable in one error', () => {
    let thrown: unknown
    try {
      loadConfig({ PORT: 'eighty', IMAGEGATE_LOG_LEVEL: 'loud', IMAGEGATE_MOCK_IMAGES: 'maybe' })
    } catch (err) {
      thrown = err
    }
    expect(thrown).toBeInstanceOf(ConfigError)
    const problems = (thrown as ConfigError).problems
    expect(problems).toHaveLength(3)
    expect(problems.join('\n')).toMatch(/PORT="eighty"/)
    expect(problems.join('\n')).toMatch(/IMAGEGATE_LOG_LEVEL="loud"/)
    expect(problems.join('\n')).toMatch(/IMAGEGATE_MOCK_IMAGES="maybe"/)
  })
})

describe('IMAGEGATE_TRUSTED_PROXIES', () => {
  it('is empty by default: the connection peer is the client', () => {
    expect(loadConfig({}).trustedProxies).toEqual([])
    expect(loadConfig({ IMAGEGATE_TRUSTED_PROXIES: ' ' }).trustedProxies).toEqual([])
  })

  it('takes comma-separated IPv4 and IPv6 addresses and CIDR blocks', () => {
    const config = loadConfig({
      IMAGEGATE_TRUSTED_PROXIES: '127.0.0.1, 10.0.0.0/8,::1 ,2001:db8::/32,',
    })
    expect(config.trustedProxies.map((range) => [range.version, range.prefix])).toEqual([
      [4, 32],
      [4, 8],
      [6, 128],
      [6, 32],
    ])
  })

  it('names every bad entry at start', () => {
    let thrown: unknown
    try {
      loadConfig({ IMAGEGATE_TRUSTED_PROXIES: '10.0.0.1/8, proxy.internal, ::1/129, 10.0.0.0/8' })
    } catch (err) {
      thrown = err
    }
    expect(thrown).toBeInstanceOf(ConfigError)
    const problems = (thrown as ConfigError).problems
    expect(problems).toHaveLength(3)
    expect(problems[0]).toMatch(/^IMAGEGATE_TRUSTED_PROXIES=".*": '10\.0\.0\.1\/8' has bits set/)
    expect(problems[1]).toContain("'proxy.internal' is not an IPv4 or IPv6 address or CIDR block")
    expect(problems[2]).toContain("'::1/129': the prefix length must be a number from 0 to 128")
  })
})

describe('IMAGEGATE_REDIS_URL', () => {
  it('is unset by default: limits stay in the process', () => {
    expect(loadConfig({}).redis).toBeUndefined()
  })

  it('takes redis:// and rediss:// URLs, with a key prefix', () => {
    expect(loadConfig({ IMAGEGATE_REDIS_URL: 'redis://10.0.0.5:6379/2' }).redis).toEqual({
      url: 'redis://10.0.0.5:6379/2',
      keyPrefix: 'imagegate:',
    })
    expect(
      loadConfig({
        IMAGEGATE_REDIS_URL: 'rediss://:secret@cache.example:6380',
        IMAGEGATE_REDIS_KEY_PREFIX: 'eu-1:',
      }).redis,
    ).toEqual({ url: 'rediss://:secret@cache.example:6380', keyPrefix: 'eu-1:' })
  })

  it('refuses any other URL at start, by name', () => {
    for (const url of ['http://127.0.0.1:6379', '127.0.0.1:6379', 'redis']) {
      expect(() => loadConfig({ IMAGEGATE_REDIS_URL: url })).toThrow(
        /IMAGEGATE_REDIS_URL=.*must be a redis:\/\/ or rediss:\/\/ URL/,
      )
    }
  })
})
