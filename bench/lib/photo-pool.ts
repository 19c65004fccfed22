import { existsSync } from 'node:fs'
import { mkdir, rename, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { photoPng } from '../../test/fakes/photo-png.ts'
import { repoRoot } from './procs.ts'

/** Distinct photo-like PNGs the fake upstream cycles through (each call's bytes differ anyway). */
export const PHOTO_POOL_SIZE = 24

/**
 * Writes the pool of 1024×1024 photo-like PNGs (real encoder output, see photo-png.ts) once, to
 * a cache kept between runs (encoding one costs about half a second), and returns its folder.
 * Made before any timing starts.
 */
export async function photoPool(log: (message: string) => void): Promise<string> {
  const dir = path.join(repoRoot, 'bench/.tmp/photo-pool-v1')
  await mkdir(dir, { recursive: true })
  for (let seed = 0; seed < PHOTO_POOL_SIZE; seed++) {
    const file = path.join(dir, `${seed}.png`)
    if (!existsSync(file)) {
      if (seed === 0 || !existsSync(path.join(dir, `${seed - 1}.png`))) {
        log(`encoding the photo-like PNG pool (${PHOTO_POOL_SIZE} images) into ${dir}`)
      }
      await writeFile(`${file}.part`, await photoPng(seed))
      await rename(`${file}.part`, file)
    }
  }
  return dir
}
