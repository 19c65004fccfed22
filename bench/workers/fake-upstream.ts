/** The test suite's fake OpenAI upstream (a ~1.5 MB noise PNG per image) as a process. */
import { startFakeUpstream } from '../../test/fakes/fake-upstream.ts'

const upstream = await startFakeUpstream()
console.log(upstream.url)
// The fake records every call; nothing here reads them, so keep the list from growing.
setInterval(() => {
  upstream.calls.length = 0
}, 1000).unref()
process.on('SIGTERM', () => {
  upstream.close().then(() => process.exit(0))
})
