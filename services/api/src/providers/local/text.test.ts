import { describe, expect, it } from 'vitest'
import { clipLines, normalizePrompt, wrapText } from './text.ts'

const lineText = (codePoints: readonly number[]) => String.fromCodePoint(...codePoints)
const cp = (text: string) => Array.from(text, (char) => char.codePointAt(0) ?? 0)

describe('normalizePrompt', () => {
  it.each([
    ['  a   cat\n\tsleeping ', 'a cat sleeping'],
    ['café crème', 'cafe creme'],
    ['“quoted” — and ‘single’', '"quoted" - and \'single\''],
    ['wait…', 'wait...'],
    ['猫 cat', '猫 cat'],
    ['', ''],
  ])('%j → %j', (prompt, expected) => {
    expect(lineText(normalizePrompt(prompt))).toBe(expected)
  })
})

describe('wrapText', () => {
  it('wraps at word boundaries within the column limit', () => {
    const lines = wrapText(cp('the quick brown fox jumps over the lazy dog'), 10)
    expect(lines.map(lineText)).toEqual(['the quick', 'brown fox', 'jumps over', 'the lazy', 'dog'])
  })

  it('cuts words longer than a line', () => {
    expect(wrapText(cp('abcdefghij xy'), 4).map(lineText)).toEqual(['abcd', 'efgh', 'ij', 'xy'])
  })

  it('returns no lines for empty text', () => {
    expect(wrapText([], 10)).toEqual([])
  })
})

describe('clipLines', () => {
  it('keeps lines that fit untouched', () => {
    const lines = [cp('one'), cp('two')]
    expect(clipLines(lines, 2, 10)).toBe(lines)
  })

  it('ends the last kept line with an ellipsis when text was cut', () => {
    const lines = [cp('first line'), cp('second one'), cp('third')]
    expect(clipLines(lines, 2, 10).map(lineText)).toEqual(['first line', 'second ...'])
  })
})
