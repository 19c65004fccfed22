/**
 * Streaming benchmark: how long a partial image event takes through imagegate. A fake OpenAI
 * upstream streams two partial images (a different ~1.5 MB photo-like PNG each time, 20 ms
 * apart) and the completed image; the client, in the same process as the upstream so one clock
 * times both ends, measures from the upstream having sent a partial event (its write done: the
 * last byte handed to the socket) to the client holding the event's last byte, through
 * imagegate and (the baseline, same rounds) directly. The same from the upstream's first byte
 * is in the note: it adds the transfer of 2 MB, on loopback, once or twice.
 */
import path from 'node:path'
import type { SuiteContext } from './lib/context.ts'
import { photoPool } from './lib/photo-pool.ts'
import { CLIENT_CORE, freePort, runWorker, startImagegate } from './lib/procs.ts'
import type { Row } from './lib/report.ts'
import { round, type Summary } from './lib/stats.ts'

const GROUP = 'streaming'
const TARGET_P50_MS = 5

export async function streamBenchmarks(context: SuiteContext): Promise<Row[]> {
  const photoPoolDir = await photoPool(context.log)
  const port = await freePort()
  const server = await startImagegate({
    IMAGEGATE_DATA_DIR: path.join(context.workDir, 'stream'),
    IMAGEGATE_OPENAI_API_KEY: 'sk-bench',
    IMAGEGATE_OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1`,
  })
  try {
    context.log('streaming: partial image events, directly and through imagegate, alternately')
    type Delays = { fromSent: Summary; fromStart: Summary }
    const result = await runWorker<{ direct: Delays; gateway: Delays }>(
      CLIENT_CORE,
      'bench/workers/stream-client.ts',
      {
        port,
        gateway: { url: server.url, headers: server.auth },
        photoPoolDir,
        warmup: context.quick ? 3 : 10,
        rounds: context.quick ? 20 : 100,
        partialImages: 2,
      },
    )
    context.details.streaming = result
    const { gateway, direct } = result
    return [
      {
        group: GROUP,
        metric: 'partial image event, upstream sent → client received, p50',
        value: gateway.fromSent.p50,
        unit: 'ms',
        baseline: { value: direct.fromSent.p50, label: 'upstream → client directly' },
        target: `≤ ${TARGET_P50_MS} ms`,
        pass: gateway.fromSent.p50 <= TARGET_P50_MS,
        note:
          `${gateway.fromSent.n} partial events of ~1.5 MB PNGs (2 MB of base64), timed from the ` +
          `upstream's last byte of the event; p90 ${gateway.fromSent.p90} ms, p99 ` +
          `${gateway.fromSent.p99} ms. From the upstream's first byte (the transfer of 2 MB ` +
          `twice included): p50 ${gateway.fromStart.p50} ms through imagegate, ` +
          `${direct.fromStart.p50} ms directly (imagegate adds ` +
          `${round(gateway.fromStart.p50 - direct.fromStart.p50)} ms)`,
      },
    ]
  } finally {
    await server.stop()
  }
}
