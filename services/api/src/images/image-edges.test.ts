import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { edgesOf } from './image-edges.ts'
import { pseudoRandomBytes } from './testing/fixtures.ts'

let scratch: string

beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'imagegate-edges-'))
})

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true })
})

const same = (actual: Uint8Array, expected: Uint8Array) =>
  expect(Buffer.compare(actual, expected)).toBe(0)

describe('edgesOf', () => {
  it('takes the first and last 4 KiB of bytes', async () => {
    const bytes = pseudoRandomBytes(10_000, 'edges')
    const { head, tail } = await edgesOf({ bytes })
    same(head, bytes.subarray(0, 4096))
    same(tail, bytes.subarray(10_000 - 4096))
  })

  it('reads the missing edges of a file', async () => {
    const bytes = pseudoRandomBytes(10_000, 'file')
    const file = path.join(scratch, 'image')
    await writeFile(file, bytes)
    const both = await edgesOf({ path: file })
    same(both.head, bytes.subarray(0, 4096))
    same(both.tail, bytes.subarray(10_000 - 4096))
    const given = new Uint8Array([1, 2, 3])
    const onlyTail = await edgesOf({ path: file, head: given })
    same(onlyTail.head, given)
    same(onlyTail.tail, bytes.subarray(10_000 - 4096))
  })

  it('handles files smaller than the edge size', async () => {
    const file = path.join(scratch, 'small')
    await writeFile(file, 'tiny')
    const { head, tail } = await edgesOf({ path: file })
    expect(Buffer.from(head).toString()).toBe('tiny')
    expect(Buffer.from(tail).toString()).toBe('tiny')
  })
})
