import type { Row } from './report.ts'

/** What every suite gets from bench/run.ts. */
export type SuiteContext = {
  /** Scratch space on the repository's disk (bench/.tmp/...), removed after the run. */
  workDir: string
  /** Shorter phases (CI smoke); the figures are noisier. */
  quick: boolean
  /** Progress lines for the console. */
  log(message: string): void
  /** Raw measurements, written under "Details" in bench/last-results.md. */
  details: Record<string, unknown>
}

export type Suite = (context: SuiteContext) => Promise<Row[]>
