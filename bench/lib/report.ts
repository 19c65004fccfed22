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
 * The README's short table: per suite, how many of its targets were met, and each missed one
 * with its figure, what it is compared with in the same run, and the target. Every row, met or
 * not, and the informational ones are in docs/performance.md.
 */
export function summaryTable(rows: Row[]): string {
  const escapePipes = (value: string) => value.replaceAll('|', '\\|')
  const groups = new Map<string, Row[]>()
  for (const row of rows.filter((candidate) => candidate.pass !== undefined)) {
    groups.set(row.group, [...(groups.get(row.group) ?? []), row])
  }
  const missed = (row: Row) => {
    const [, metric, value, baseline, , target] = cells(row)
    const compared = baseline === '-' ? '' : `, vs ${baseline}`
    return `${metric}: ${value}${compared}; target ${target}`
  }
  return [
    '| suite | targets met | missed (figure, same-run comparison, target) |',
    '|---|---|---|',
    ...[...groups].map(([group, targeted]) => {
      const misses = targeted.filter((row) => row.pass === false).map(missed)
      const met = `${targeted.length - misses.length} of ${targeted.length}`
      return `| ${[group, met, misses.join(' · ') || '-'].map(escapePipes).join(' | ')} |`
    }),
  ].join('\n')
}
