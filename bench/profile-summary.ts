/**
 * `tsx bench/profile-summary.ts <file.cpuprofile> [top] [filter]` — where a V8 CPU profile (node
 * --cpu-prof, e.g. BENCH_SERVER_NODE_OPTIONS="--cpu-prof --cpu-prof-dir=bench/.tmp/prof")
 * spends its time: self time by function, inclusive time by function and by source file.
 * `filter` keeps only the inclusive-by-function rows whose name contains it (e.g. `api/`).
 */
import { readFileSync } from 'node:fs'

type ProfileNode = {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}
type Profile = { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

const file = process.argv[2]
if (!file) {
  console.error('usage: tsx bench/profile-summary.ts <file.cpuprofile> [top]')
  process.exit(2)
}
const top = Number(process.argv[3] ?? 25)
const filter = process.argv[4]
if (!Number.isInteger(top) || top <= 0) {
  console.error(`top must be a positive integer, got '${process.argv[3]}' (one profile at a time)`)
  process.exit(2)
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile
const byId = new Map(profile.nodes.map((node) => [node.id, node]))
const parent = new Map<number, number>()
for (const node of profile.nodes) {
  for (const child of node.children ?? []) {
    parent.set(child, node.id)
  }
}

const selfUs = new Map<number, number>()
profile.samples.forEach((id, index) => {
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0))
})
const total = [...selfUs.values()].reduce((sum, value) => sum + value, 0)

const shortUrl = (url: string) =>
  url
    .replace(/^file:\/\//, '')
    .replace(/.*\/node_modules\/\.pnpm\/[^/]+\/node_modules\//, '')
    .replace(/.*\/services\/api\/src\//, 'api/')
const frameName = (node: ProfileNode) =>
  `${node.callFrame.functionName || '(anonymous)'} ${shortUrl(node.callFrame.url)}:${node.callFrame.lineNumber + 1}`

const selfByFrame = new Map<string, number>()
const inclusiveByFile = new Map<string, number>()
const inclusiveByFrame = new Map<string, number>()
for (const [id, us] of selfUs) {
  const node = byId.get(id)
  if (!node) {
    continue
  }
  const name = frameName(node)
  selfByFrame.set(name, (selfByFrame.get(name) ?? 0) + us)
  // Inclusive: each file and each function on the stack counts once per sample.
  const files = new Set<string>()
  const frames = new Set<string>()
  for (let current: number | undefined = id; current !== undefined; current = parent.get(current)) {
    const frame = byId.get(current)
    if (frame?.callFrame.url) {
      files.add(shortUrl(frame.callFrame.url))
      frames.add(frameName(frame))
    }
  }
  for (const name of frames) {
    if (filter === undefined || name.includes(filter)) {
      inclusiveByFrame.set(name, (inclusiveByFrame.get(name) ?? 0) + us)
    }
  }
  for (const url of files) {
    inclusiveByFile.set(url, (inclusiveByFile.get(url) ?? 0) + us)
  }
}

const pct = (us: number) => `${((us / total) * 100).toFixed(1).padStart(5)}%`
const print = (title: string, entries: Map<string, number>) => {
  console.log(`\n${title}`)
  for (const [name, us] of [...entries].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${pct(us)} ${(us / 1000).toFixed(0).padStart(7)} ms  ${name}`)
  }
}
console.log(`${file}: ${(total / 1000).toFixed(0)} ms sampled`)
print('self time by function', selfByFrame)
print(
  `inclusive time by function${filter ? ` (names containing '${filter}')` : ''}`,
  inclusiveByFrame,
)
print('inclusive time by file', inclusiveByFile)
