import { mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { systemClock } from '../ids.ts'
import { createBlobLayout } from './blob-layout.ts'
import { singleChunk } from './byte-source.ts'
import { createFsBlobStore } from './fs-blob-store.ts'
import { moveToQuarantine } from './fs-quarantine.ts'
import { createHashCounter, type FsStoreContext } from './fs-store-context.ts'
import { createKeyedLock } from './keyed-lock.ts'
import { createVerificationCache } from './verification-cache.ts'

let root: string
let context: FsStoreContext

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'imagegate-quarantine-'))
  context = {
    layout: createBlobLayout(root),
    clock: systemClock,
    withLock: createKeyedLock(),
    writing: createHashCounter(),
    activeTempFiles: new Set(),
    shardDirs: new Map(),
    verified: createVerificationCache(10),
    streamThresholdBytes: 1024,
    ensureDirectories: async () => {},
  }
})

afterEach(async () => {
  await rm(root, { recursive: true, force: true })
})

async function storeText(value: string) {
  return createFsBlobStore({ root }).put(singleChunk(new TextEncoder().encode(value)), {
    maxBytes: 100,
  })
}

describe('moveToQuarantine', () => {
  it('moves the file that failed verification', async () => {
    const stored = await storeText('bad')
    const { ino } = await stat(stored.path, { bigint: true })
    const movedTo = await moveToQuarantine(context, stored.sha256, ino)
    expect(movedTo).toBeDefined()
    expect(await readdir(context.layout.quarantineDir)).toEqual([path.basename(movedTo ?? '')])
  })

  it('leaves a file alone that has since been replaced by another', async () => {
    const stored = await storeText('replaced')
    const { ino } = await stat(stored.path, { bigint: true })
    expect(await moveToQuarantine(context, stored.sha256, ino + 1n)).toBeUndefined()
    expect((await stat(stored.path)).isFile()).toBe(true)
  })

  it('reports a blob that is not there', async () => {
    expect(await moveToQuarantine(context, 'a'.repeat(64))).toBeUndefined()
  })
})
