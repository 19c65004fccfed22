import { describe, expect, it } from 'vitest'
import { createEventStream, eventFrame } from './sse.ts'

const text = (pieces: readonly Uint8Array[]) => Buffer.concat(pieces).toString('utf8')

describe('event streams', () => {
  it('frames an event as an event line, one data line and a blank line', () => {
    const frame = eventFrame('image_generation.completed', [
      Buffer.from('{"b64_json":"'),
      Buffer.from('QUJD'),
      Buffer.from('"}'),
    ])
    expect(text(frame)).toBe('event: image_generation.completed\ndata: {"b64_json":"QUJD"}\n\n')
  })

  it('writes a comment line whenever nothing was sent for the keep-alive interval', async () => {
    const events = createEventStream({ keepAliveMs: 20 })
    const body = new Response(events.body).text()
    await new Promise((resolve) => setTimeout(resolve, 70))
    events.send(eventFrame('ping', [Buffer.from('{}')]))
    events.close()
    const frames = (await body).split('\n\n')
    expect(frames.filter((frame) => frame === ': keep-alive').length).toBeGreaterThanOrEqual(2)
    expect(frames.at(-2)).toBe('event: ping\ndata: {}')
    expect(events.open).toBe(false)
  })

  it('writes no comment line inside a frame sent in pieces', async () => {
    const events = createEventStream({ keepAliveMs: 10 })
    const body = new Response(events.body).text()
    events.send([Buffer.from('event: partial\ndata: {"b64_json":"QU')], { more: true })
    await new Promise((resolve) => setTimeout(resolve, 50))
    events.send([Buffer.from('JD')], { more: true })
    await new Promise((resolve) => setTimeout(resolve, 50))
    events.send([Buffer.from('"}\n\n')])
    await new Promise((resolve) => setTimeout(resolve, 50))
    events.close()
    const frames = (await body).split('\n\n')
    expect(frames[0]).toBe('event: partial\ndata: {"b64_json":"QUJD"}')
    expect(frames.slice(1, -1).every((frame) => frame === ': keep-alive')).toBe(true)
    expect(frames.length).toBeGreaterThan(2)
  })

  it('drops what is sent after the reader went away, and sends no more comments', async () => {
    const events = createEventStream({ keepAliveMs: 10 })
    const reader = events.body.getReader()
    events.send(eventFrame('first', [Buffer.from('1')]))
    await reader.read()
    await reader.cancel()
    expect(events.open).toBe(false)
    events.send(eventFrame('second', [Buffer.from('2')]))
    events.close()
    await new Promise((resolve) => setTimeout(resolve, 30))
  })
})
