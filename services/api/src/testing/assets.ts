import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { Clock } from '../ids.ts'
import type { BlobStore } from '../storage/blob-store.ts'
import { createFsBlobStore } from '../storage/fs-blob-store.ts'
import { sha256Hex } from './images.ts'
import { storeFiles } from './store-files.ts'
import { createTestApp, type TestAppOptions } from './test-app.ts'

/** Helpers for asset tests: upload requests, a recording store, and a look at what is on disk. */

export { noiseJpeg, noisePng, sha256Hex } from './images.ts'
export { blobPathIn, storeFiles } from './store-files.ts'

export type UploadOptions = {
  /** The x-content-sha256 header; defaults to the bytes' digest, `null` leaves it out. */
  digest?: string | null
  meta?: Record<string, string>
  filename?: string
  /** The file part's declared content type (which the server must not trust). */
  partType?: string
}

/** The multipart POST /v1/assets request a client would send. */
export function uploadRequest(bytes: Uint8Array, options: UploadOptions = {}): Request {
  const form = new FormData()
  for (const [name, value] of Object.entries(options.meta ?? {})) {
    form.append(name, value)
  }
  const file = new Blob([bytes as Uint8Array<ArrayBuffer>], {
    type: options.partType ?? 'application/octet-stream',
  })
  form.append('file', file, options.filename ?? 'upload.png')
  const digest = options.digest === undefined ? sha256Hex(bytes) : options.digest
  return new Request('http://imagegate.test/v1/assets', {
    method: 'POST',
    headers: digest === null ? {} : { 'x-content-sha256': digest },
    body: form,
  })
}

/** Flips one bit of a stored file in place, the way bit rot or a stray write would. */
export function flipByte(file: string, offset = 0) {
  const bytes = readFileSync(file)
  bytes[offset] = (bytes[offset] ?? 0) ^ 0x01
  chmodSync(file, 0o644)
  writeFileSync(file, bytes)
}

/** How many descriptors this process holds open on `file` (Linux). */
export function openDescriptorsTo(file: string): number {
  return readdirSync('/proc/self/fd')
    .map((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`)
      } catch {
        return ''
      }
    })
    .filter((target) => target === file).length
}

export function fileFacts(file: string) {
  const stats = statSync(file, { bigint: true })
  return { mtimeMs: Number(stats.mtimeMs), ino: stats.ino, size: Number(stats.size) }
}

/** Writes a file (parents created) and optionally backdates it. */
export function placeFile(file: string, content: string | Uint8Array, modifiedAt?: Date) {
  mkdirSync(path.dirname(file), { recursive: true })
  writeFileSync(file, content)
  if (modifiedAt) {
    utimesSync(file, modifiedAt, modifiedAt)
  }
}

/**
 * A real file-system store that records every call made to it (method and first argument), so a
 * test can show a request never reached the disk. `afterPut` runs between a put resolving and
 * its result being handed back: the window in which the row is not yet committed.
 */
export function createRecordingBlobStore(
  root: string,
  hooks: {
    afterPut?: (sha256: string) => Promise<void>
    clock?: Clock
    streamThresholdBytes?: number
  } = {},
) {
  const { afterPut, ...storeOptions } = hooks
  const inner = createFsBlobStore({ root, ...storeOptions })
  const calls: { method: string; arg: unknown }[] = []
  const store = new Proxy(inner, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver)
      if (typeof value !== 'function') {
        return value
      }
      return (...args: unknown[]) => {
        calls.push({ method: String(property), arg: args[0] })
        const result = value.apply(target, args)
        if ((property === 'put' || property === 'putBytes') && afterPut) {
          return (result as ReturnType<BlobStore['put']>).then(async (stored) => {
            await afterPut(stored.sha256)
            return stored
          })
        }
        return result
      }
    },
  }) as BlobStore
  return { store, calls }
}

/**
 * createTestApp on a recording blob store in its own temp dir: `blobCalls` shows whether a
 * request reached the store at all, `files()` what is on disk.
 */
export async function createAssetTestApp(
  options: TestAppOptions & {
    afterPut?: (sha256: string) => Promise<void>
    /** Blobs above this size are served as streams (the store's default is 8 MiB). */
    streamThresholdBytes?: number
  } = {},
) {
  const { afterPut, streamThresholdBytes, ...appOptions } = options
  const blobRoot = mkdtempSync(path.join(tmpdir(), 'imagegate-blobs-'))
  const recording = createRecordingBlobStore(blobRoot, {
    ...(afterPut ? { afterPut } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(streamThresholdBytes === undefined ? {} : { streamThresholdBytes }),
  })
  const t = await createTestApp({ ...appOptions, blobs: recording.store })
  return {
    ...t,
    blobRoot,
    blobCalls: recording.calls,
    files: () => storeFiles(blobRoot),
    upload: (bytes: Uint8Array, uploadOptions?: UploadOptions) =>
      t.app.fetch(uploadRequest(bytes, uploadOptions)),
    async close() {
      await t.close()
      rmSync(blobRoot, { recursive: true, force: true })
    },
  }
}

export type AssetTestApp = Awaited<ReturnType<typeof createAssetTestApp>>
