import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { fsyncDirectory, makeDirectoryDurably } from './durable-fs.ts'

let scratch: string

beforeEach(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'imagegate-durable-'))
})

afterEach(async () => {
  await rm(scratch, { recursive: true, force: true })
})

describe('makeDirectoryDurably', () => {
  it('creates nested directories and is idempotent', async () => {
    const nested = path.join(scratch, 'a', 'b', 'c')
    await makeDirectoryDurably(nested)
    await makeDirectoryDurably(nested)
    expect((await stat(nested)).isDirectory()).toBe(true)
  })
})

describe('fsyncDirectory', () => {
  it('fails loudly for a missing directory', async () => {
    await expect(fsyncDirectory(path.join(scratch, 'missing'))).rejects.toMatchObject({
      code: 'ENOENT',
    })
  })
})
