import { createHash } from 'node:crypto'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { BlobTooLargeError } from './errors.ts'
import { spoolSource } from './spool.ts'

let directory: string

beforeEach(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'imagegate-spool-'))
})

afterEach(async () => {
  await rm(directory, { recursive: true, force: true })
})

const sha256Of = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

/** Yields `count` chunks of `size` bytes from one reused buffer, as some sources do. */
async function* reusingBuffer(count: number, size: number) {
  const buffer = new Uint8Array(size)
  for (let index = 0; index < count; index++) {
    buffer.fill(index + 1)
    yield buffer
  }
}

function expected(count: number, size: number): Uint8Array {
  const bytes = new Uint8Array(count * size)
  for (let index = 0; index < count; index++) {
    bytes.fill(index + 1, index * size, (index + 1) * size)
  }
  return bytes
}

describe('spoolSource', () => {
  it('keeps a small source in memory, copied from a reused buffer', async () => {
    const spooled = await spoolSource(reusingBuffer(3, 10), {
      maxBytes: 100,
      memoryBytes: 100,
      directory,
    })
    expect(spooled.body.kind).toBe('bytes')
    const bytes = expected(3, 10)
    expect(spooled).toMatchObject({ sha256: sha256Of(bytes), sizeBytes: 30, head: bytes })
    expect(spooled.body.kind === 'bytes' && new Uint8Array(spooled.body.bytes)).toEqual(bytes)
  })

  it('moves a larger source to a temp file that has no name', async () => {
    const spooled = await spoolSource(reusingBuffer(8, 1000), {
      maxBytes: 10_000,
      memoryBytes: 2500,
      directory,
    })
    try {
      expect(spooled.body.kind).toBe('file')
      expect(await readdir(directory)).toEqual([])
      const bytes = expected(8, 1000)
      expect(spooled.sha256).toBe(sha256Of(bytes))
      expect(spooled.tail).toEqual(bytes.subarray(8000 - 4096))
      if (spooled.body.kind === 'file') {
        const read = Buffer.alloc(8000)
        await spooled.body.handle.read(read, 0, 8000, 0)
        expect(new Uint8Array(read)).toEqual(bytes)
      }
    } finally {
      await spooled.close()
    }
  })

  it.each([
    ['in memory', 1 << 20],
    ['in the file', 10],
  ])('enforces the size limit %s and stops the source', async (_label, memoryBytes) => {
    let closed = false
    async function* endless() {
      try {
        while (true) {
          yield new Uint8Array(100)
        }
      } finally {
        closed = true
      }
    }
    await expect(
      spoolSource(endless(), { maxBytes: 1000, memoryBytes, directory }),
    ).rejects.toBeInstanceOf(BlobTooLargeError)
    expect(closed).toBe(true)
    expect(await readdir(directory)).toEqual([])
  })
})
