/**
 * Runs a format parser over bytes that arrive in pieces (an upload streamed to disk, or one
 * buffer), without holding more than the parser asks to see at once. A parser is a generator
 * that yields what it needs next — a few header bytes, a stretch to stream past (optionally
 * seeing each piece, e.g. to run a CRC), or a scan that stops where it finds something — and
 * returns once the format's structure is complete. Bytes after that, or an input that ends
 * before it, are damage.
 */

import { concatBytes } from '../bytes.ts'

export type Need =
  /** Exactly `length` bytes, handed back as one array. Keep small: it is copied and held. */
  | { read: number }
  /** Consume `length` bytes, showing each piece to `each` when given. */
  | { skip: number; each?: (piece: Uint8Array) => void }
  /**
   * Show pieces to `until` until it returns where the scan stops in that piece (the bytes from
   * there on stay unread); -1 consumes the whole piece and asks for the next one.
   */
  | { scan: (piece: Uint8Array) => number }
  /** Whether the input ended here (true) or more bytes follow (false, none consumed). */
  | { atEnd: true }

export type Parser = Generator<Need, void, unknown>

/** `yield* read(n)`: the next n bytes. */
export function* read(length: number): Generator<Need, Uint8Array, unknown> {
  return (yield { read: length }) as Uint8Array
}

/** `yield* skip(n, each)`: past n bytes, each piece shown to `each`. */
export function* skip(
  length: number,
  each?: (piece: Uint8Array) => void,
): Generator<Need, void, unknown> {
  if (length > 0) {
    yield each ? { skip: length, each } : { skip: length }
  }
}

/** `yield* scan(until)`: see Need. */
export function* scan(until: (piece: Uint8Array) => number): Generator<Need, void, unknown> {
  yield { scan: until }
}

/** `yield* atEnd()`: whether the input is over. */
export function* atEnd(): Generator<Need, boolean, unknown> {
  return (yield { atEnd: true }) as boolean
}

/** A structural fault: where the bytes stop being the format they claim to be. */
export class StructureError extends Error {
  override name = 'StructureError'
}

/** The largest `read` a parser may ask for: header fields, never pixel data. */
export const MAX_READ = 1 << 20

export class ByteWalker {
  readonly #parser: Parser
  #need: Need | undefined
  #queue: Uint8Array[] = []
  #done = false
  #failure: unknown
  /** Bytes consumed so far: where a fault lies, for the error message. */
  offset = 0

  constructor(parser: Parser) {
    this.#parser = parser
    this.#advance(undefined)
  }

  /** Feeds the next piece. Never throws: a fault is kept and reported by `finish`. */
  push(piece: Uint8Array): void {
    if (this.#failure !== undefined || piece.byteLength === 0) {
      return
    }
    if (this.#done) {
      this.#fail(
        new StructureError(`unexpected bytes after the end of the image at ${this.offset}`),
      )
      return
    }
    this.#queue.push(piece)
    this.#pump(false)
  }

  /** The input is over: throws the first fault, or a truncation if the structure is unfinished. */
  finish(): void {
    if (this.#failure === undefined && !this.#done) {
      this.#pump(true)
      if (!this.#done && this.#failure === undefined) {
        this.#fail(new StructureError(`the image ends early, at byte ${this.offset}`))
      }
    }
    if (this.#failure !== undefined) {
      throw this.#failure
    }
  }

  #fail(error: unknown) {
    this.#failure ??= error
    this.#queue = []
  }

  #advance(value: unknown) {
    try {
      const step = this.#parser.next(value)
      if (step.done) {
        this.#done = true
        this.#need = undefined
        if (this.#queue.some((piece) => piece.byteLength > 0)) {
          this.#fail(
            new StructureError(`unexpected bytes after the end of the image at ${this.offset}`),
          )
        }
      } else {
        this.#need = step.value
        if ('read' in step.value && step.value.read > MAX_READ) {
          throw new StructureError(`a ${step.value.read}-byte header field is too large`)
        }
      }
    } catch (error) {
      this.#fail(error)
    }
  }

  #buffered(): number {
    let total = 0
    for (const piece of this.#queue) {
      total += piece.byteLength
    }
    return total
  }

  /** Takes `length` bytes off the front of the queue (at most what is there). */
  #take(length: number): Uint8Array[] {
    const taken: Uint8Array[] = []
    let left = length
    while (left > 0 && this.#queue.length > 0) {
      const first = this.#queue[0] as Uint8Array
      if (first.byteLength <= left) {
        taken.push(first)
        this.#queue.shift()
        left -= first.byteLength
      } else {
        taken.push(first.subarray(0, left))
        this.#queue[0] = first.subarray(left)
        left = 0
      }
    }
    this.offset += length - left
    return taken
  }

  /** Serves the parser's needs from the queue for as long as it can. */
  #pump(ended: boolean) {
    try {
      this.#serve(ended)
    } catch (error) {
      // A parser's `each` or `scan` callback found a fault.
      this.#fail(error)
    }
  }

  #serve(ended: boolean) {
    while (this.#need !== undefined && this.#failure === undefined) {
      const need: Need = this.#need
      if ('atEnd' in need) {
        if (this.#queue.length > 0) {
          this.#advance(false)
        } else if (ended) {
          this.#advance(true)
        } else {
          return
        }
      } else if ('read' in need) {
        if (this.#buffered() < need.read) {
          return
        }
        const pieces = this.#take(need.read)
        const bytes =
          pieces.length === 1 ? (pieces[0] as Uint8Array) : concatBytes(pieces, need.read)
        this.#advance(bytes)
      } else if ('skip' in need) {
        while (need.skip > 0 && this.#queue.length > 0) {
          const first = this.#queue[0] as Uint8Array
          const [piece] = this.#take(Math.min(need.skip, first.byteLength)) as [Uint8Array]
          need.skip -= piece.byteLength
          need.each?.(piece)
        }
        if (need.skip > 0) {
          return
        }
        this.#advance(undefined)
      } else {
        let stopped = -1
        while (stopped === -1 && this.#queue.length > 0) {
          const first = this.#queue[0] as Uint8Array
          stopped = need.scan(first)
          this.#take(stopped === -1 ? first.byteLength : stopped)
        }
        if (stopped === -1) {
          return
        }
        this.#advance(undefined)
      }
    }
  }
}

/** Big-endian and little-endian readers over a small header array. */
export const u16be = (bytes: Uint8Array, at: number) =>
  ((bytes[at] ?? 0) << 8) | (bytes[at + 1] ?? 0)
export const u32be = (bytes: Uint8Array, at: number) =>
  (((bytes[at] ?? 0) << 24) >>> 0) +
  (((bytes[at + 1] ?? 0) << 16) | ((bytes[at + 2] ?? 0) << 8) | (bytes[at + 3] ?? 0))
export const u16le = (bytes: Uint8Array, at: number) =>
  (bytes[at] ?? 0) | ((bytes[at + 1] ?? 0) << 8)
export const u24le = (bytes: Uint8Array, at: number) =>
  (bytes[at] ?? 0) | ((bytes[at + 1] ?? 0) << 8) | ((bytes[at + 2] ?? 0) << 16)
export const u32le = (bytes: Uint8Array, at: number) =>
  u24le(bytes, at) + (bytes[at + 3] ?? 0) * 2 ** 24
export const fourCC = (bytes: Uint8Array, at: number) =>
  String.fromCharCode(bytes[at] ?? 0, bytes[at + 1] ?? 0, bytes[at + 2] ?? 0, bytes[at + 3] ?? 0)
