import { photoPng } from '../../test/fakes/photo-png.ts'
import { chunk } from './png.ts'

/** 200×200 photo-like PNGs from a real encoder come out at about 64 KiB (58–61 KiB at 192). */
const SIDE = 200
const POOL_SIZE = 16
const IEND_BYTES = 12
const SEQUENCE_DIGITS = 12

/**
 * Photo-like PNGs of about 64 KiB as a real encoder writes them (photo-png.ts: sharp with
 * adaptive filters and default compression), deterministic, so two processes make the same ones.
 * About 20 ms each: made before any timing starts.
 */
export async function photoUploadPool(): Promise<Buffer[]> {
  return Promise.all(Array.from({ length: POOL_SIZE }, (_, seed) => photoPng(seed, SIDE, SIDE)))
}

/**
 * Upload `sequence` of a run: the pool's PNG in turn, with a tEXt chunk naming the run and the
 * sequence just before IEND, so no two uploads are the same bytes while the pixels and their
 * compressed stream stay as the encoder wrote them. The same (pool, run, sequence) gives the
 * same bytes in any process, so a baseline can send exactly what imagegate was sent.
 */
export function distinctUpload(pool: Buffer[], run: string, sequence: number): Buffer {
  const png = pool[sequence % pool.length] as Buffer
  const iend = png.byteLength - IEND_BYTES
  const marker = chunk(
    'tEXt',
    Buffer.from(
      `imagegate-upload\0${run}:${String(sequence).padStart(SEQUENCE_DIGITS, '0')}`,
      'latin1',
    ),
  )
  return Buffer.concat([png.subarray(0, iend), marker, png.subarray(iend)])
}
