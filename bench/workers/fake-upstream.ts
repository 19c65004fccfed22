/**
 * The test suite's fake OpenAI upstream as a process. By default every answer carries the same
 * ~1.5 MB noise PNG (filter None, deflate level 1); with `photoPoolDir` (see lib/photo-pool.ts)
 * each answer carries a different real encoder's photo-like PNG, as providers send them; with
 * `delayMs` every answer waits that long first.
 */
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { distinctPngs } from '../../test/fakes/distinct-pngs.ts'
import { startFakeUpstream } from '../../test/fakes/fake-upstream.ts'

const input = JSON.parse(process.argv[2] ?? '{}') as { photoPoolDir?: string; delayMs?: number }
const pool = input.photoPoolDir
  ? readdirSync(input.photoPoolDir)
      .filter((name) => name.endsWith('.png'))
      .sort()
      .map((name) => readFileSync(path.join(input.photoPoolDir as string, name)))
  : undefined
const imageFor = pool ? distinctPngs(pool) : undefined
// The call list is emptied every second below, so call indexes repeat: count answers here.
let answered = 0
const upstream = await startFakeUpstream(
  imageFor ? { imageBase64For: () => imageFor(answered++) } : {},
)
if (input.delayMs) {
  // A slow provider: every answer waits this long (the jobs suite).
  upstream.setDefault({ mode: 'ok', delayMs: input.delayMs })
}
console.log(upstream.url)
// The fake records every call; nothing here reads them, so keep the list from growing.
setInterval(() => {
  upstream.calls.length = 0
}, 1000).unref()
process.on('SIGTERM', () => {
  void upstream.close().then(() => process.exit(0))
})
