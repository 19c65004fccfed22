import { describe, expect, it } from 'vitest'
import { ImageDecodeError, ImageTooLargeError, UnsupportedImageError } from './errors.ts'

describe('image errors', () => {
  it('say what was refused without echoing the content', () => {
    expect(new UnsupportedImageError('not_allowed', 'application/pdf').message).toBe(
      'Only PNG, JPEG, WebP and GIF images are accepted; this is application/pdf',
    )
    expect(new UnsupportedImageError('embedded_markup').reason).toBe('embedded_markup')
    expect(new ImageTooLargeError(100_000, 100_000, 40_000_000)).toMatchObject({
      width: 100_000,
      height: 100_000,
      maxPixels: 40_000_000,
    })
    const cause = new Error('libvips says no')
    expect(new ImageDecodeError({ cause }).cause).toBe(cause)
  })
})
