import { open } from 'node:fs/promises'
import { EDGE_BYTES } from '../storage/edge-bytes.ts'

export type ImageInput = {
  /** The first bytes, when the caller already has them (the blob store's `put` returns them). */
  head?: Uint8Array
  /** The last bytes, likewise. */
  tail?: Uint8Array
} & ({ path: string; bytes?: undefined } | { bytes: Uint8Array; path?: undefined })

async function readFileEdges(file: string, need: { head: boolean; tail: boolean }) {
  const handle = await open(file, 'r')
  try {
    const { size } = await handle.stat()
    const read = async (position: number, length: number) => {
      const buffer = Buffer.alloc(length)
      const { bytesRead } = await handle.read(buffer, 0, length, position)
      return buffer.subarray(0, bytesRead)
    }
    const length = Math.min(EDGE_BYTES, size)
    return {
      head: need.head ? await read(0, length) : undefined,
      tail: need.tail ? await read(size - length, length) : undefined,
    }
  } finally {
    await handle.close()
  }
}

/** The first and last few KiB of the image, taken from the input or read from the file. */
export async function edgesOf(input: ImageInput): Promise<{ head: Uint8Array; tail: Uint8Array }> {
  if (input.bytes !== undefined) {
    const { bytes } = input
    return {
      head: input.head ?? bytes.subarray(0, EDGE_BYTES),
      tail: input.tail ?? bytes.subarray(Math.max(0, bytes.byteLength - EDGE_BYTES)),
    }
  }
  if (input.head !== undefined && input.tail !== undefined) {
    return { head: input.head, tail: input.tail }
  }
  const read = await readFileEdges(input.path, {
    head: input.head === undefined,
    tail: input.tail === undefined,
  })
  return {
    head: input.head ?? read.head ?? new Uint8Array(0),
    tail: input.tail ?? read.tail ?? new Uint8Array(0),
  }
}
