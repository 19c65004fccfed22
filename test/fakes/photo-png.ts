import sharp from 'sharp'

/**
 * A photo-like PNG as providers send them: RGB pixels with smooth lighting, soft-edged shapes
 * and fine sensor-like grain, drawn deterministically from `seed`, then encoded by a real
 * encoder (sharp/libspng) with adaptive row filtering and default compression, as libpng and
 * most encoders write them. At 1024×1024 that is about 1.5 MB, and inflating it costs what a
 * real generation's PNG costs, unlike a noise PNG written with filter None at deflate level 1.
 */
export async function photoPng(seed: number, width = 1024, height = 1024): Promise<Buffer> {
  return sharp(photoPixels(seed, width, height), { raw: { width, height, channels: 3 } })
    .png({ adaptiveFiltering: true })
    .toBuffer()
}

type Shape = { x: number; y: number; radius: number; colour: [number, number, number] }

/** xorshift32: cheap, seeded, the same on every machine. */
function generator(seed: number) {
  let state = seed >>> 0 || 0x9e3779b9
  return () => {
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    return (state >>> 0) / 0x100000000
  }
}

export function photoPixels(seed: number, width: number, height: number): Uint8Array {
  const random = generator(seed * 2654435761 + 1)
  const sky = [random() * 120 + 60, random() * 120 + 60, random() * 120 + 100]
  const ground = [random() * 100 + 20, random() * 100 + 40, random() * 80 + 10]
  const horizon = 0.35 + random() * 0.3
  const shapes: Shape[] = Array.from({ length: 6 + Math.floor(random() * 6) }, () => ({
    x: random() * width,
    y: random() * height,
    radius: (0.05 + random() * 0.2) * Math.min(width, height),
    colour: [random() * 255, random() * 255, random() * 255],
  }))
  const pixels = new Uint8Array(width * height * 3)
  const grain = generator(seed ^ 0x5bd1e995)
  for (let y = 0; y < height; y++) {
    const v = y / height
    // Sky to ground through a soft horizon, with a slow vertical fall-off of the light.
    const blend = Math.min(1, Math.max(0, (v - horizon) * 6 + 0.5))
    for (let x = 0; x < width; x++) {
      const u = x / width
      const light = 0.75 + 0.25 * Math.cos((u - 0.5) * 2.2) * Math.cos((v - 0.4) * 1.6)
      let r = (sky[0] as number) * (1 - blend) + (ground[0] as number) * blend
      let g = (sky[1] as number) * (1 - blend) + (ground[1] as number) * blend
      let b = (sky[2] as number) * (1 - blend) + (ground[2] as number) * blend
      for (const shape of shapes) {
        const dx = x - shape.x
        const dy = y - shape.y
        const distance = Math.sqrt(dx * dx + dy * dy) / shape.radius
        if (distance < 1.15) {
          // A shaded disc with a soft edge: covered inside, fading over the last 15%.
          const cover = distance < 1 ? 1 : (1.15 - distance) / 0.15
          const shade = 1 - 0.35 * distance
          r += (shape.colour[0] * shade - r) * cover
          g += (shape.colour[1] * shade - g) * cover
          b += (shape.colour[2] * shade - b) * cover
        }
      }
      const noise = (grain() - 0.5) * 10
      const at = (y * width + x) * 3
      pixels[at] = r * light + noise
      pixels[at + 1] = g * light + noise + (grain() - 0.5) * 4
      pixels[at + 2] = b * light + noise
    }
  }
  return pixels
}
