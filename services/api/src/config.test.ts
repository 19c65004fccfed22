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
