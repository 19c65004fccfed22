/** One line of the results table: a figure, the baseline measured in the same run, the target. */
export type Row = {
  group: string
  metric: string
  value: number
  unit: string
  /** The same thing measured without imagegate (or the floor it is compared with). */
  baseline?: { value: number; label: string }
  /** value / baseline, as the target reads it (e.g. 0.62 = 62% of the baseline). */
  ratio?: number
  target: string
  /** undefined: informational, no target. */
  pass: boolean | undefined
  note?: string
}

const fmt = (value: number) => {
  if (!Number.isFinite(value)) {
    return String(value)
  }
  const abs = Math.abs(value)
  const digits = abs >= 1000 ? 0 : abs >= 100 ? 1 : 2
  return value.toLocaleString('en-US', { maximumFractionDigits: digits })
}

function cells(row: Row): string[] {
  return [
    row.group,
    row.metric,
    `${fmt(row.value)} ${row.unit}`,
    row.baseline ? `${fmt(row.baseline.value)} ${row.unit} (${row.baseline.label})` : '-',
    row.ratio === undefined ? '-' : `${fmt(row.ratio)}x`,
    row.target,
    row.pass === undefined ? 'info' : row.pass ? 'PASS' : 'FAIL',
  ]
}

const HEADINGS = ['group', 'metric', 'value', 'baseline (same run)', 'ratio', 'target', 'result']

export function textTable(rows: Row[]): string {
  const table = [HEADINGS, ...rows.map(cells)]
  const widths = HEADINGS.map((_, column) =>
    Math.max(...table.map((line) => (line[column] ?? '').length)),
  )
  const line = (values: string[]) =>
    values.map((value, column) => value.padEnd(widths[column] ?? 0)).join('  ')
  return [
    line(HEADINGS),
    widths.map((width) => '-'.repeat(width)).join('  '),
    ...table.slice(1).map(line),
  ].join('\n')
}

export function markdownTable(rows: Row[]): string {
  const escapePipes = (value: string) => value.replaceAll('|', '\\|')
  return [
    `| ${HEADINGS.join(' | ')} |`,
    `|${HEADINGS.map(() => '---').join('|')}|`,
    ...rows.map((row) => `| ${cells(row).map(escapePipes).join(' | ')} |`),
  ].join('\n')
}

export function notes(rows: Row[]): string[] {
  return rows.filter((row) => row.note).map((row) => `${row.group} / ${row.metric}: ${row.note}`)
}

/**
 * The README's short table: every figure that has a target, next to what it is compared with in
 * the same run. Informational rows (floors, cross-checks) stay in docs/performance.md.
 */
export function summaryTable(rows: Row[]): string {
  const escapePipes = (value: string) => value.replaceAll('|', '\\|')
  const headings = ['metric', 'imagegate', 'compared with (same run)', 'target', 'result']
  return [
    `| ${headings.join(' | ')} |`,
    `|${headings.map(() => '---').join('|')}|`,
    ...rows
      .filter((row) => row.pass !== undefined)
      .map((row) => {
        const [, metric, value, baseline, , target, result] = cells(row)
        return `| ${[`${row.group}: ${metric}`, value, baseline, target, result === 'PASS' ? 'met' : 'missed'].map((cell) => escapePipes(cell ?? '')).join(' | ')} |`
      }),
  ].join('\n')
}
