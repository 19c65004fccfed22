import { Writable } from 'node:stream'
import pino from 'pino'
import { describe, expect, it, vi } from 'vitest'
import { lazyChildLogger } from './request-log.ts'

function capture() {
  const lines: Record<string, unknown>[] = []
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>)
      done()
    },
  })
  return { lines, logger: pino({ level: 'info' }, stream) }
}

describe('lazyChildLogger', () => {
  it('makes no child until it logs', () => {
    const { logger } = capture()
    const child = vi.spyOn(logger, 'child')
    lazyChildLogger(logger, { requestId: 'req_1' })
    expect(child).not.toHaveBeenCalled()
  })

  it('logs as the child would, with its bindings, and makes the child once', async () => {
    const { lines, logger } = capture()
    const child = vi.spyOn(logger, 'child')
    const log = lazyChildLogger(logger, { requestId: 'req_2' })
    log.info({ status: 200 }, 'request')
    log.warn('second')
    await new Promise((resolve) => setImmediate(resolve))
    expect(child).toHaveBeenCalledTimes(1)
    expect(lines).toMatchObject([
      { requestId: 'req_2', status: 200, msg: 'request', level: 30 },
      { requestId: 'req_2', msg: 'second', level: 40 },
    ])
    expect(log.isLevelEnabled('debug')).toBe(false)
    expect(log.child({ step: 'inner' }).bindings()).toMatchObject({
      requestId: 'req_2',
      step: 'inner',
    })
  })
})
