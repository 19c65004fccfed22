import { readFile, writeFile } from 'node:fs/promises'

/**
 * Replaces what stands between `<!-- bench:NAME:start -->` and `<!-- bench:NAME:end -->` in a
 * document, so the figures that documents quote are the last full run's, never typed by hand.
 * A document without both markers is an error: a figure would silently stop being updated.
 */
export function replaceBetweenMarkers(document: string, name: string, content: string): string {
  const start = `<!-- bench:${name}:start -->`
  const end = `<!-- bench:${name}:end -->`
  const from = document.indexOf(start)
  const to = document.indexOf(end)
  if (from === -1 || to === -1 || to < from) {
    throw new Error(`the markers ${start} … ${end} are missing or out of order`)
  }
  return `${document.slice(0, from + start.length)}\n${content.trim()}\n${document.slice(to)}`
}

export async function publishBetweenMarkers(file: string, name: string, content: string) {
  const document = await readFile(file, 'utf8')
  await writeFile(file, replaceBetweenMarkers(document, name, content))
}
