import { createHash } from 'node:crypto'
import { mkdtemp, open, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { BlobTooLargeError } from './errors.ts'
import { streamIntoFile } from './stream-into-file.ts'

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

  it('refuses chunks that are not bytes', async () => {
    async function* source() {
      yield 'text' as unknown as Uint8Array
    }
    await expect(intoFile(source(), 100)).rejects.toThrow(TypeError)
  })
})
