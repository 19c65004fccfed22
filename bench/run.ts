/**
 * `pnpm bench [--quick] [--only=render,assets,generation,access,jobs,stream,scale] [--keep]`
 *
 * Runs every benchmark with its baseline measured in the same run, prints a table and writes
 * bench/last-results.md; a full run of every suite also rewrites the figures quoted in README.md
 * and docs/performance.md. Server processes run on core 0, load generators on core 1 (taskset).
 * Exits 1 if a target is missed. BENCH_SERVER_NODE_OPTIONS passes flags to the server, e.g.
 * `--cpu-prof --cpu-prof-dir=bench/.tmp/prof` (written when the server shuts down).
 */
import { execFileSync } from 'node:child_process'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { accessBenchmarks } from './access.ts'
import { assetBenchmarks } from './assets.ts'
import { generationBenchmarks } from './generation.ts'
import { jobBenchmarks } from './jobs.ts'
import type { Suite, SuiteContext } from './lib/context.ts'
import {
  cpuPressureMeter,
  cpuStealMeter,
  fileCreationCostUs,
  loadAverage,
  waitForQuiet,
} from './lib/machine.ts'
import { killChildren, repoRoot } from './lib/procs.ts'
import { publishBetweenMarkers } from './lib/publish.ts'
import { markdownTable, notes, type Row, summaryTable, textTable } from './lib/report.ts'
import { renderBenchmarks } from './render.ts'
import { scaleBenchmarks } from './scale.ts'
import { streamBenchmarks } from './stream.ts'

const suites: Record<string, Suite> = {
  render: renderBenchmarks,
  assets: assetBenchmarks,
  generation: generationBenchmarks,
  access: accessBenchmarks,
  jobs: jobBenchmarks,
  stream: streamBenchmarks,
  scale: scaleBenchmarks,
}

const args = process.argv.slice(2)
const quick = args.includes('--quick')
const keep = args.includes('--keep')
const only = args
  .find((arg) => arg.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',')
const selected = only ?? Object.keys(suites)
for (const name of selected) {
  if (!suites[name]) {
    console.error(`unknown suite ${name}; known: ${Object.keys(suites).join(', ')}`)
    process.exit(2)
  }
}

const stamp = new Date().toISOString().replace(/[:.]/g, '-')
const workDir = path.join(repoRoot, 'bench/.tmp', `run-${stamp}`)
const started = Date.now()
const context: SuiteContext = {
  workDir,
  quick,
  details: {},
  log: (message) =>
    console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s] ${message}`),
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    killChildren()
    process.exit(130)
  })
}

function tryRun(command: string, commandArgs: string[]) {
  try {
    return execFileSync(command, commandArgs, { cwd: repoRoot, encoding: 'utf8' }).trim()
  } catch {
    return 'unknown'
  }
}

const machine = {
  date: new Date().toISOString(),
  node: process.version,
  cpu: `${os.cpus()[0]?.model ?? 'unknown'} × ${os.cpus().length}`,
  kernel: `${os.type()} ${os.release()}`,
  disk: tryRun('findmnt', ['-no', 'SOURCE,FSTYPE,OPTIONS', '-T', repoRoot]),
  commit:
    tryRun('git', ['rev-parse', '--short', 'HEAD']) +
    (tryRun('git', ['status', '--porcelain', '--untracked-files=no']) === ''
      ? ''
      : ' + uncommitted changes'),
  mode: quick ? 'quick' : 'full',
}

await mkdir(workDir, { recursive: true })
const rows: Row[] = []
const contention: string[] = []
try {
  for (const name of selected) {
    const suite = suites[name] as Suite
    const pressure = await waitForQuiet(quick ? 10_000 : 60_000)
    context.log(`${name}: starting at CPU pressure ${pressure ?? '?'}% (avg10)`)
    const fileCreation = fileCreationCostUs(workDir)
    const meter = cpuPressureMeter()
    const steal = cpuStealMeter()
    const loadBefore = loadAverage()
    try {
      rows.push(...(await suite(context)))
    } catch (err) {
      context.log(`${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : err}`)
      rows.push({
        group: name,
        metric: 'suite',
        value: Number.NaN,
        unit: '',
        target: 'runs',
        pass: false,
        note: err instanceof Error ? err.message.slice(0, 500) : String(err),
      })
    }
    contention.push(
      `${name}: CPU pressure ${meter() ?? '?'}% of wall time (a task waiting for a CPU, ` +
        `the benchmark's own included), steal ${steal() ?? '?'}% of CPU time (taken by the ` +
        `hypervisor), creating a file ${fileCreation ?? '?'} µs of CPU before it, ` +
        `load average ${loadBefore} before, ${loadAverage()} after`,
    )
  }
} finally {
  killChildren()
  if (!keep) {
    await rm(workDir, { recursive: true, force: true })
  }
}

const elapsed = Math.round((Date.now() - started) / 1000)
const table = textTable(rows)
console.log(`\n${table}\n`)
for (const line of [...notes(rows), ...contention]) {
  console.log(`- ${line}`)
}
const failed = rows.filter((row) => row.pass === false)
console.log(
  `\n${failed.length === 0 ? 'all targets met' : `${failed.length} target(s) missed`} (${elapsed} s)`,
)

const markdown = [
  '# Benchmark results (`pnpm bench`)',
  '',
  `${machine.date} · node ${machine.node} · ${machine.cpu} · ${machine.kernel} · commit ${machine.commit} · ${machine.mode} mode · ${elapsed} s`,
  '',
  `Disk: ${machine.disk}. Servers pinned to core 0, load generators (and the fake upstream) to core 1;`,
  'each figure is the median of 3 measured runs after a warm-up run; the baseline is measured in the same run.',
  '',
  markdownTable(rows),
  '',
  '## Notes',
  '',
  ...notes(rows).map((line) => `- ${line}`),
  '',
  '## Machine contention during the run',
  '',
  ...contention.map((line) => `- ${line}`),
  '',
  '## Details',
  '',
  '```json',
  JSON.stringify({ machine, details: context.details }, null, 1),
  '```',
  '',
].join('\n')
await writeFile(path.join(repoRoot, 'bench/last-results.md'), markdown)
if (!quick && !only) {
  const heading = `${machine.date.slice(0, 10)}, commit ${machine.commit}, node ${machine.node}, ${machine.cpu}`
  await publishBetweenMarkers(
    path.join(repoRoot, 'docs/performance.md'),
    'results',
    [
      `${heading}, ${elapsed} s.`,
      '',
      markdownTable(rows),
      '',
      ...notes(rows).map((line) => `- ${line}`),
      '',
      'Machine contention during the run:',
      '',
      ...contention.map((line) => `- ${line}`),
    ].join('\n'),
  )
  await publishBetweenMarkers(
    path.join(repoRoot, 'README.md'),
    'summary',
    [`${heading}:`, '', summaryTable(rows)].join('\n'),
  )
}
process.exit(failed.length === 0 ? 0 : 1)
