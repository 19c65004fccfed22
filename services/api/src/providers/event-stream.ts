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
  for await (const part of readEventParts(chunks)) {
    if (part.kind === 'event') {
      yield part
    }
  }
}

/**
 * What readEventParts yields: whole events, and events passed through while they arrive. A
 * passed-through event's data is `head`, the pieces, then `rest`: `head` ends with the opening
 * quote of the string passed through and `rest` starts with its closing quote, so `head + rest`
 * is the event's JSON with that string empty.
 */
export type EventPart =
  | ({ kind: 'event' } & ReceivedEvent)
  | { kind: 'begin'; event: string | undefined; head: Buffer; json: Record<string, unknown> }
  | { kind: 'piece'; piece: Buffer }
  | { kind: 'end'; rest: Buffer }

/**
 * Which events to pass through: those whose first `data:` line is a JSON object with a string
 * member `key` (found within the line's first HEAD_LIMIT bytes), when `accept` says so of the
 * event's name and the members before it.
 */
export type PassThrough = {
  key: string
  accept(event: string | undefined, json: Record<string, unknown>): boolean
}

/** An event passed through turned out not to be the JSON it began as. */
export class MalformedEventError extends Error {
  override name = 'MalformedEventError'
}

/** How far into a data line its passed-through string must start. */
const HEAD_LIMIT = 4096
/** How long the JSON after a passed-through string may be. */
const REST_LIMIT = 65_536
const QUOTE = 0x22
const BACKSLASH = 0x5c
const SLASH = 0x2f
const DATA_FIELD = Buffer.from('data:')

/**
 * readEventStream, and with `passThrough` the events it names in pieces as their bytes arrive:
 * the string member's content is handed on chunk by chunk (views, never joined), so that a
 * megabyte of base64 can go on before its event has ended. Its content is as sent but for `\/`,
 * unescaped; any other escape, or a line that ends inside the string, is a MalformedEventError.
 */
export async function* readEventParts(
  chunks: AsyncIterable<Uint8Array>,
  passThrough?: PassThrough,
): AsyncGenerator<EventPart> {
  const assembler = createEventAssembler()
  const key = passThrough ? Buffer.from(JSON.stringify(passThrough.key)) : undefined
  let pending: Buffer[] = []
  // Whether the incomplete line in `pending` may yet turn out to be one to pass through.
  let undecided = true
  // Within a passed-through event: its string's content, then the rest of its line.
  let mode: 'lines' | 'string' | 'rest' = 'lines'
  let escaped = false
  let rest: Buffer[] = []
  let restLength = 0

  /** The begin part, when the incomplete line in `pending` starts an event to pass through. */
  const begin = (): (EventPart & { kind: 'begin'; at: number }) | undefined => {
    if (!passThrough || !key || assembler.hasData || undecided === false) {
      return undefined
    }
    // Looked at while the line is short (a chunk or two), so joining it is cheap.
    const line = pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending)
    pending = [line]
    undecided = line.length < HEAD_LIMIT
    if (
      line.length >= DATA_FIELD.length &&
      !line.subarray(0, DATA_FIELD.length).equals(DATA_FIELD)
    ) {
      undecided = false
      return undefined
    }
    const found = line.subarray(0, HEAD_LIMIT).indexOf(key)
    if (found === -1) {
      return undefined
    }
    let open = found + key.length
    while (open < line.length && line[open] !== QUOTE) {
      const byte = line[open]
      if (byte !== 0x3a && byte !== 0x20 && byte !== 0x09) {
        undecided = false
        return undefined
      }
      open++
    }
    if (open >= line.length) {
      // Its value's opening quote has not arrived yet.
      return undefined
    }
    undecided = false
    const valueStart = line[DATA_FIELD.length] === 0x20 ? DATA_FIELD.length + 1 : DATA_FIELD.length
    const head = line.subarray(valueStart, open + 1)
    // The key must be a member of the object, not words inside an earlier string.
    let json: unknown
    try {
      json = JSON.parse(`${head.toString('utf8')}"}`)
    } catch {
      return undefined
    }
    if (
      typeof json !== 'object' ||
      json === null ||
      (json as Record<string, unknown>)[passThrough.key] !== '' ||
      !passThrough.accept(assembler.event, json as Record<string, unknown>)
    ) {
      return undefined
    }
    return {
      kind: 'begin',
      event: assembler.event,
      head,
      json: json as Record<string, unknown>,
      at: open + 1,
    }
  }

  /** Reads `bytes` on from where the last chunk left off. */
  function* consume(bytes: Buffer): Generator<EventPart> {
    let start = 0
    while (start < bytes.length) {
      if (mode === 'string') {
        if (escaped) {
          if (bytes[start] !== SLASH) {
            throw new MalformedEventError('A passed-through string has an escape other than \\/')
          }
          escaped = false
        }
        const quote = bytes.indexOf(QUOTE, start)
        const content = bytes.subarray(start, quote === -1 ? bytes.length : quote)
        const backslash = content.indexOf(BACKSLASH)
        const newline = content.indexOf(NEWLINE)
        if (newline !== -1 && (backslash === -1 || newline < backslash)) {
          throw new MalformedEventError('A line ended inside a passed-through string')
        }
        if (backslash !== -1) {
          if (backslash > 0) {
            yield { kind: 'piece', piece: content.subarray(0, backslash) }
          }
          escaped = true
          start += backslash + 1
          continue
        }
        if (content.length > 0) {
          yield { kind: 'piece', piece: content }
        }
        if (quote === -1) {
          return
        }
        mode = 'rest'
        start = quote
        continue
      }
      if (mode === 'rest') {
        const newline = bytes.indexOf(NEWLINE, start)
        const end = newline === -1 ? bytes.length : newline
        rest.push(bytes.subarray(start, end))
        restLength += end - start
        if (restLength > REST_LIMIT) {
          throw new MalformedEventError('A passed-through event goes on too long after its string')
        }
        if (newline === -1) {
          return
        }
        const line = rest.length === 1 ? (rest[0] as Buffer) : Buffer.concat(rest)
        rest = []
        restLength = 0
        mode = 'lines'
        start = newline + 1
        // The event's data went by in parts: its blank line dispatches nothing more.
        yield { kind: 'end', rest: line.at(-1) === CARRIAGE_RETURN ? line.subarray(0, -1) : line }
        continue
      }
      const newline = bytes.indexOf(NEWLINE, start)
      if (newline === -1) {
        pending.push(bytes.subarray(start))
        const begun = begin()
        if (begun) {
          const line = pending[0] as Buffer
          pending = []
          undecided = true
          mode = 'string'
          const { at, ...part } = begun
          yield part
          // The rest of the line so far (no newline in it): the string's start, perhaps more.
          yield* consume(line.subarray(at))
        }
        return
      }
      const piece = bytes.subarray(start, newline)
      const line = pending.length === 0 ? piece : Buffer.concat([...pending, piece])
      pending = []
      undecided = true
      start = newline + 1
      const dispatched = assembler.line(line)
      if (dispatched) {
        yield { kind: 'event', ...dispatched }
      }
    }
  }

  for await (const chunk of chunks) {
    yield* consume(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))
  }
  if (mode !== 'lines') {
    throw new MalformedEventError('The body ended inside a passed-through event')
  }
}

/**
 * Builds events from their lines (each without its newline), as the EventSource parser does:
 * an event is dispatched at its blank line, when it has data.
 */
export function createEventAssembler() {
  let event: string | undefined
  let data: Buffer[] = []
  return {
    /** The `event` name of the event being read, if its line came. */
    get event() {
      return event
    },
    /** Whether the event being read has a `data` line yet. */
    get hasData() {
      return data.length > 0
    },
    line(line: Buffer): ReceivedEvent | undefined {
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
    },
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
