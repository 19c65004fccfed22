/** One Server-Sent Event as it arrived: its `event` name, if any, and its `data` as bytes. */
export type ReceivedEvent = { event: string | undefined; data: Buffer }

const NEWLINE = 0x0a
const CARRIAGE_RETURN = 0x0d

/**
 * The events of a `text/event-stream` body, each yielded as soon as its blank line arrives.
 * Lines are found with a native search and a line spread over many chunks is joined once, so a
 * megabyte `data:` line of base64 costs one copy. Comments and fields other than `event` and
 * `data` are skipped, as the EventSource parser skips them.
 */
export async function* readEventStream(
  chunks: AsyncIterable<Uint8Array>,
): AsyncGenerator<ReceivedEvent> {
  let pending: Buffer[] = []
  let event: string | undefined
  let data: Buffer[] = []

  function takeLine(line: Buffer): ReceivedEvent | undefined {
    const end = line.at(-1) === CARRIAGE_RETURN ? line.length - 1 : line.length
    if (end === 0) {
      const dispatched = data.length > 0 ? { event, data: joinData(data) } : undefined
      event = undefined
      data = []
      return dispatched
    }
    const colon = line.indexOf(':')
    if (colon === 0) {
      return undefined
    }
    const name = line.toString('latin1', 0, colon === -1 ? end : colon)
    const valueStart = colon === -1 ? end : line[colon + 1] === 0x20 ? colon + 2 : colon + 1
    const value = line.subarray(Math.min(valueStart, end), end)
    if (name === 'data') {
      data.push(value)
    } else if (name === 'event') {
      event = value.toString('utf8')
    }
    return undefined
  }

  for await (const chunk of chunks) {
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    let start = 0
    for (;;) {
      const newline = bytes.indexOf(NEWLINE, start)
      if (newline === -1) {
        if (start < bytes.length) {
          pending.push(bytes.subarray(start))
        }
        break
      }
      const piece = bytes.subarray(start, newline)
      const line = pending.length === 0 ? piece : Buffer.concat([...pending, piece])
      pending = []
      start = newline + 1
      const dispatched = takeLine(line)
      if (dispatched) {
        yield dispatched
      }
    }
  }
}

/** Several `data:` lines of one event are one value joined by newlines. */
function joinData(lines: Buffer[]): Buffer {
  if (lines.length === 1) {
    return lines[0] as Buffer
  }
  const joined: Buffer[] = []
  lines.forEach((line, index) => {
    if (index > 0) {
      joined.push(Buffer.from('\n'))
    }
    joined.push(line)
  })
  return Buffer.concat(joined)
}
