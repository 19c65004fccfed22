import { describe, expect, it } from 'vitest'
import {
  blendDisc,
  blendRect,
  createRaster,
  drawText,
  fillDiagonalGradient,
  fillRect,
  opacity,
  type Raster,
} from './raster.ts'

const at = (raster: Raster, x: number, y: number) => {
  const i = (y * raster.width + x) * 3
  return Array.from(raster.data.subarray(i, i + 3))
}

describe('raster', () => {
  it('fills a rectangle exactly, clipped to the canvas', () => {
    const raster = createRaster(10, 8)
    fillRect(raster, { x: 7, y: -2, width: 10, height: 5 }, [1, 2, 3])
    expect(at(raster, 7, 0)).toEqual([1, 2, 3])
    expect(at(raster, 9, 2)).toEqual([1, 2, 3])
    expect(at(raster, 6, 0)).toEqual([0, 0, 0])
    expect(at(raster, 9, 3)).toEqual([0, 0, 0])
  })

  it('blends with integer opacity', () => {
    const raster = createRaster(4, 4)
    fillRect(raster, { x: 0, y: 0, width: 4, height: 4 }, [200, 100, 0])
    blendRect(raster, { x: 0, y: 0, width: 2, height: 2 }, [0, 0, 200], opacity(0.5))
    expect(at(raster, 0, 0)).toEqual([100, 50, 100])
    expect(at(raster, 3, 3)).toEqual([200, 100, 0])
  })

  it('never overflows a channel when blending full-strength colours', () => {
    const raster = createRaster(2, 1)
    fillRect(raster, { x: 0, y: 0, width: 2, height: 1 }, [255, 255, 255])
    blendRect(raster, { x: 0, y: 0, width: 2, height: 1 }, [255, 255, 255], opacity(0.3))
    expect(at(raster, 0, 0)).toEqual([255, 255, 255])
  })

  it('draws a ring with a hole', () => {
    const raster = createRaster(41, 41)
    blendDisc(raster, { x: 20.5, y: 20.5 }, 20, [255, 0, 0], opacity(1), 10)
    expect(at(raster, 20, 20)).toEqual([0, 0, 0])
    expect(at(raster, 5, 20)).toEqual([255, 0, 0])
    expect(at(raster, 0, 0)).toEqual([0, 0, 0])
  })

  it('runs a diagonal gradient from corner to corner', () => {
    const raster = createRaster(5, 5)
    fillDiagonalGradient(raster, [0, 0, 0], [80, 160, 240])
    expect(at(raster, 0, 0)).toEqual([0, 0, 0])
    expect(at(raster, 4, 4)).toEqual([80, 160, 240])
    expect(at(raster, 4, 0)).toEqual(at(raster, 0, 4))
  })

  it('draws glyphs as scale×scale blocks', () => {
    const raster = createRaster(20, 20)
    drawText(raster, [0x49], { x: 2, y: 2 }, 2, [9, 9, 9])
    // 'I' is ".###." on its first row: columns 1..3, each 2 px wide at scale 2.
    expect(at(raster, 2, 2)).toEqual([0, 0, 0])
    expect(at(raster, 4, 2)).toEqual([9, 9, 9])
    expect(at(raster, 9, 3)).toEqual([9, 9, 9])
    expect(at(raster, 10, 2)).toEqual([0, 0, 0])
  })
})
