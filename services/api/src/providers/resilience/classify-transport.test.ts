import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { classifyTransportError } from './classify-transport.ts'

function systemError(code: string, syscall?: string) {
  return new TypeError('fetch failed', {
    cause: Object.assign(new Error(code), { code, syscall }),
  })
}

async function fetchError(url: string, init?: RequestInit): Promise<unknown> {
  try {
    await fetch(url, init)
  } catch (error) {
    return error
  }
  throw new Error('expected fetch to fail')
}

describe('classifyTransportError', () => {
  let server: Server | undefined
  afterEach(async () => {
    await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined))
    server = undefined
  })

  it.each([
    ['ENOTFOUND', 'getaddrinfo'],
    ['EAI_AGAIN', 'getaddrinfo'],
    ['ECONNREFUSED', 'connect'],
    ['UND_ERR_CONNECT_TIMEOUT', undefined],
    ['ETIMEDOUT', 'connect'],
    ['CERT_HAS_EXPIRED', undefined],
    ['ERR_TLS_CERT_ALTNAME_INVALID', undefined],
  ])('%s (%s) was never sent', (code, syscall) => {
    expect(classifyTransportError(systemError(code, syscall))).toBe('not_sent')
  })

  it.each([
    ['ECONNRESET', 'read'],
    ['EPIPE', 'write'],
    ['UND_ERR_SOCKET', undefined],
    ['UND_ERR_HEADERS_TIMEOUT', undefined],
    ['UND_ERR_BODY_TIMEOUT', undefined],
  ])('%s (%s) may have been processed', (code, syscall) => {
    expect(classifyTransportError(systemError(code, syscall))).toBe('ambiguous')
  })

  it('looks inside the AggregateError of a Happy Eyeballs connect', () => {
    const perAddress = [
      Object.assign(new Error('connect ECONNREFUSED ::1:443'), { code: 'ECONNREFUSED' }),
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:443'), { code: 'ECONNREFUSED' }),
    ]
    const error = new TypeError('fetch failed', { cause: new AggregateError(perAddress) })
    expect(classifyTransportError(error)).toBe('not_sent')
  })

  it('treats anything unrecognised, and cyclic causes, as ambiguous', () => {
    const cyclic: { cause?: unknown } = {}
    cyclic.cause = cyclic
    expect(classifyTransportError(new Error('boom'))).toBe('ambiguous')
    expect(classifyTransportError('boom')).toBe('ambiguous')
    expect(classifyTransportError(cyclic)).toBe('ambiguous')
  })

  it("reads Node fetch's real error for a refused connection as not sent", async () => {
    server = createServer()
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as AddressInfo
    await new Promise((resolve) => server?.close(resolve))
    server = undefined
    const error = await fetchError(`http://127.0.0.1:${port}/`)
    expect(classifyTransportError(error)).toBe('not_sent')
  })

  it("reads Node fetch's real error for a socket dropped after the body arrived as ambiguous", async () => {
    server = createServer((request) => {
      request.resume()
      request.on('end', () => request.socket.destroy())
    })
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as AddressInfo
    const error = await fetchError(`http://127.0.0.1:${port}/`, { method: 'POST', body: '{}' })
    expect(classifyTransportError(error)).toBe('ambiguous')
  })
})
