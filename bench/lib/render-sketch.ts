import {
  renderSketch,
  type SketchFormat,
} from '../../services/api/src/providers/local/render-sketch.ts'

export type SketchBenchmarkOptions = {
  runs?: number
  /** Untimed runs first, so sharp's thread pool and the JIT are warm. */
  warmup?: number
  width?: number
  height?: number
  format?: SketchFormat
  /** Milliseconds, monotonic; injectable for tests. */
  now?: () => number
}

export type SketchBenchmarkResult = {
  runs: number
  width: number
  height: number
  format: SketchFormat
  p50Ms: number
  p99Ms: number
  meanMs: number
  minMs: number
  maxMs: number
  /** Mean encoded size, to notice when a speed-up came from compressing less. */
  meanBytes: number
}

const BENCH_PROMPT =
  'A watercolor fox reading a newspaper in a rainy Paris cafe at golden hour, 35mm, shallow depth of field'

/** Nearest-rank percentile of sorted samples. */
export function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) {
    return Number.NaN
  }
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(fraction * sorted.length)))
  return sorted[rank - 1] ?? Number.NaN
}

/**
 * Times `renderSketch` end to end (draw + encode) sequentially, one image at a time, each run a
 * different variant so no run repeats the previous one's work. `pnpm bench` prints the result.
 */
export async function renderSketchBenchmark(
  options: SketchBenchmarkOptions = {},
): Promise<SketchBenchmarkResult> {
  const runs = options.runs ?? 40
  const warmup = options.warmup ?? 3
  const width = options.width ?? 1024
  const height = options.height ?? 1024
  const format = options.format ?? 'png'
  const now = options.now ?? (() => performance.now())
  const render = (variant: number) =>
    renderSketch({ prompt: BENCH_PROMPT, seed: 7, width, height, variant, format })

  for (let index = 0; index < warmup; index++) {
    await render(-1 - index)
  }
  const samples: number[] = []
  let totalBytes = 0
  for (let index = 0; index < runs; index++) {
    const started = now()
    const bytes = await render(index)
    samples.push(now() - started)
    totalBytes += bytes.byteLength
  }
  const sorted = [...samples].sort((a, b) => a - b)
  const round = (value: number) => Math.round(value * 100) / 100
  return {
    runs,
    width,
    height,
    format,
    p50Ms: round(percentile(sorted, 0.5)),
    p99Ms: round(percentile(sorted, 0.99)),
    meanMs: round(samples.reduce((sum, sample) => sum + sample, 0) / Math.max(1, runs)),
    minMs: round(sorted[0] ?? Number.NaN),
    maxMs: round(sorted[sorted.length - 1] ?? Number.NaN),
    meanBytes: Math.round(totalBytes / Math.max(1, runs)),
  }
}
