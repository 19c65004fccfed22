import { createHash } from 'node:crypto'
import { closeSync, openSync } from 'node:fs'
import { mkdtemp, open, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { BlobTooLargeError } from './errors.ts'
import { streamIntoFile, WRITE_BATCH_BYTES } from './stream-into-file.ts'

let scratch: string

beforeEach(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'imagegate-stream-'))
})

afterEach(async () => {
  await rm(scratch, { recursive: true, force: true })
})

async function intoFile(source: AsyncIterable<Uint8Array>, maxBytes: number) {
  const file = path.join(scratch, 'out')
  const handle = await open(file, 'wx')
  try {
    return { result: await streamIntoFile(handle, source, maxBytes), file }
  } finally {
    await handle.close()
  }
}

describe('streamIntoFile', () => {
  it('writes every chunk and reports digest, size and edges', async () => {
    async function* source() {
      yield new TextEncoder().encode('abc')
      yield new TextEncoder().encode('def')
    }
    const { result, file } = await intoFile(source(), 6)
    expect(result.sha256).toBe(createHash('sha256').update('abcdef').digest('hex'))
    expect(result.sizeBytes).toBe(6)
    expect(await readFile(file, 'utf8')).toBe('abcdef')
  })

  it('writes nothing of the chunk that crosses the limit', async () => {
    async function* source() {
      yield new Uint8Array(4)
      yield new Uint8Array(4)
    }
    await expect(intoFile(source(), 7)).rejects.toBeInstanceOf(BlobTooLargeError)
    expect((await readFile(path.join(scratch, 'out'))).byteLength).toBe(4)
  })

  it('writes chunks of every size across write batches in order', async () => {
    const sizes = [
      1,
      700,
      WRITE_BATCH_BYTES - 701,
      3,
      WRITE_BATCH_BYTES,
      65_536,
      2 * WRITE_BATCH_BYTES + 5,
      9,
    ]
    const chunks = sizes.map((size, index) =>
      new Uint8Array(size).map((_, at) => (at * 31 + index * 7) % 256),
    )
    async function* source() {
      yield* chunks
    }
    const total = sizes.reduce((sum, size) => sum + size, 0)
    const { result, file } = await intoFile(source(), total)
    const expected = Buffer.concat(chunks)
    expect(result.sizeBytes).toBe(total)
    expect(result.sha256).toBe(createHash('sha256').update(expected).digest('hex'))
    expect((await readFile(file)).equals(expected)).toBe(true)
  })

  it('stores what each chunk held when yielded, even if the source reuses its buffer', async () => {
    const buffer = new Uint8Array(1000)
    async function* reusing() {
      for (let round = 0; round < 5; round++) {
        buffer.fill(round)
        yield buffer
      }
    }
    const { result, file } = await intoFile(reusing(), 5000)
    const expected = Buffer.concat([0, 1, 2, 3, 4].map((round) => Buffer.alloc(1000, round)))
    expect(result.sha256).toBe(createHash('sha256').update(expected).digest('hex'))
    expect((await readFile(file)).equals(expected)).toBe(true)
  })

  it('writes through a plain descriptor as through a FileHandle', async () => {
    const file = path.join(scratch, 'by-fd')
    const fd = openSync(file, 'wx')
    const chunks = [new Uint8Array(70_000).fill(1), new Uint8Array(3).fill(2)]
    async function* source() {
      yield* chunks
    }
    try {
      const result = await streamIntoFile(fd, source(), 70_003)
      expect(result.sizeBytes).toBe(70_003)
    } finally {
      closeSync(fd)
    }
    expect((await readFile(file)).equals(Buffer.concat(chunks))).toBe(true)
  })

  it('refuses chunks that are not bytes', async () => {
    async function* source() {
      yield 'text' as unknown as Uint8Array
    }
    await expect(intoFile(source(), 100)).rejects.toThrow(TypeError)
  })
})
