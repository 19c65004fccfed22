import { describe, expect, it } from 'vitest'
import { findMarkup } from './markup.ts'
import { pseudoRandomBytes } from './testing/fixtures.ts'

const text = (value: string) => new TextEncoder().encode(value)

describe('findMarkup', () => {
  it.each([
    ['<script>alert(1)</script>', '<script>'],
    ['<SVG onload=alert(1)>', '<SVG '],
    ['<html>', '<html>'],
    ['<?php system($_GET["c"]); ?>', '<?php'],
    ['<!DOCTYPE html>', '<!DOCTYPE html'],
    ['<iframe src=x>', '<iframe '],
    ['<img/src=x onerror=alert(1)>', '<img/'],
  ])('finds %s', (markup, found) => {
    expect(findMarkup(text(`\x89PNG binary ${markup} more`))).toBe(found)
  })

  it('leaves XMP metadata and plain text alone', () => {
    const xmp =
      '<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">' +
      '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/></x:xmpmeta>'
    expect(findMarkup(text(xmp))).toBeUndefined()
    expect(findMarkup(text('a <svgish> word, <htmlx>, <scripts'))).toBeUndefined()
  })

  it('does not fire on random binary data', () => {
    for (let run = 0; run < 200; run++) {
      expect(findMarkup(pseudoRandomBytes(8192, `run ${run}`))).toBeUndefined()
    }
  })
})
