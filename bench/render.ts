/**
 * The local renderer: a 1024x1024 `local-sketch` PNG, draw + encode, against the
 * floor of encoding a 1024x1024 RGB noise raster with the same PNG settings in the same run.
 */
import { createRequire } from 'node:module'
import path from 'node:path'
import type { SuiteContext } from './lib/context.ts'
import { Prng } from './lib/png.ts'
import { repoRoot } from './lib/procs.ts'
import { renderSketchBenchmark } from './lib/render-sketch.ts'
import type { Row } from './lib/report.ts'
import { summarize } from './lib/stats.ts'

/** The slice of sharp's API used here (sharp is a dependency of services/api, not the root). */
type Sharp = (
  input: Buffer,
  options: { raw: { width: number; height: number; channels: 3 } },
) => {
  png(options: { compressionLevel: number; adaptiveFiltering: boolean }): {
    toBuffer(): Promise<Buffer>
  }
}

const sharp = createRequire(path.join(repoRoot, 'services/api/package.json'))('sharp') as Sharp

async function encodeFloor(runs: number) {
  // Mostly flat with some noise, like a sketch: encodes at a realistic speed.
  const raster = Buffer.alloc(1024 * 1024 * 3, 235)
  const noise = new Prng('render-floor').next(raster.byteLength / 8)
  noise.copy(raster, 0)
  const samples: number[] = []
  for (let index = 0; index < runs + 3; index++) {
    raster[index] = index & 0xff
    const started = performance.now()
    await sharp(raster, { raw: { width: 1024, height: 1024, channels: 3 } })
      .png({ compressionLevel: 6, adaptiveFiltering: false })
      .toBuffer()
    if (index >= 3) {
      samples.push(performance.now() - started)
    }
  }
  return summarize(samples)
}

export async function renderBenchmarks(context: SuiteContext): Promise<Row[]> {
  const runs = context.quick ? 10 : 30
  context.log(`local renderer: ${runs} x 1024x1024 PNG`)
  const result = await renderSketchBenchmark({ runs, warmup: 3 })
  const floor = await encodeFloor(runs)
  context.details.render = { result, floor }
  return [
    {
      group: 'render',
      metric: 'local-sketch 1024x1024 PNG p50',
      value: result.p50Ms,
      unit: 'ms',
      baseline: { value: floor.p50, label: 'sharp PNG encode only' },
      ratio: result.p50Ms / floor.p50,
      target: '≤ 150 ms',
      pass: result.p50Ms <= 150,
      note: `p99 ${result.p99Ms} ms, mean ${result.meanMs} ms, ${result.meanBytes} bytes/image, ${runs} runs; in the bench process, no server running`,
    },
  ]
}
