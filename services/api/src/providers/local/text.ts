/**
 * Turning a prompt into lines of code points the bitmap font can draw: normalise, wrap, clip.
 */

const SPACE = 0x20
const DOT = 0x2e

const TYPOGRAPHIC: Record<string, string> = {
  '\u2018': "'",
  '\u2019': "'",
  '\u201a': "'",
  '\u201c': '"',
  '\u201d': '"',
  '\u201e': '"',
  '\u2010': '-',
  '\u2011': '-',
  '\u2012': '-',
  '\u2013': '-',
  '\u2014': '-',
  '\u2212': '-',
  '\u2022': '\u00b7',
}

/**
 * Folds a prompt onto what the font can show: accents dropped (é → e), typographic quotes and
 * dashes made ASCII, whitespace runs collapsed. Characters still unknown are kept; they draw
 * as a box, which is more honest than dropping them.
 */
export function normalizePrompt(prompt: string): number[] {
  const folded = prompt
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(/[\u2010-\u2014\u2018-\u201e\u2022\u2212]/g, (char) => TYPOGRAPHIC[char] ?? char)
    .replace(/\s+/g, ' ')
    .trim()
  return Array.from(folded, (char) => char.codePointAt(0) ?? SPACE)
}

function splitWords(text: readonly number[]): number[][] {
  const words: number[][] = []
  let current: number[] = []
  for (const codePoint of text) {
    if (codePoint === SPACE) {
      if (current.length > 0) {
        words.push(current)
      }
      current = []
    } else {
      current.push(codePoint)
    }
  }
  if (current.length > 0) {
    words.push(current)
  }
  return words
}

/** Greedy word wrap to `columns`; words longer than a line are cut across lines. */
export function wrapText(text: readonly number[], columns: number): number[][] {
  if (columns < 1) {
    return text.length === 0 ? [] : [[...text]]
  }
  const lines: number[][] = []
  let line: number[] = []
  for (const word of splitWords(text)) {
    const needed = line.length === 0 ? word.length : line.length + 1 + word.length
    if (needed <= columns) {
      if (line.length > 0) {
        line.push(SPACE)
      }
      line.push(...word)
      continue
    }
    if (line.length > 0) {
      lines.push(line)
    }
    let rest = word
    while (rest.length > columns) {
      lines.push(rest.slice(0, columns))
      rest = rest.slice(columns)
    }
    line = [...rest]
  }
  if (line.length > 0) {
    lines.push(line)
  }
  return lines
}

/** Keeps the first `maxLines` lines; when text was cut, the last line ends in "...". */
export function clipLines(lines: number[][], maxLines: number, columns: number): number[][] {
  if (lines.length <= maxLines) {
    return lines
  }
  const kept = lines.slice(0, Math.max(0, maxLines))
  const last = kept.pop()
  if (last === undefined) {
    return kept
  }
  const room = Math.max(0, columns - 3)
  kept.push([...last.slice(0, room), DOT, DOT, DOT].slice(0, Math.max(columns, 1)))
  return kept
}
