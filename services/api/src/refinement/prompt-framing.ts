import type { InputImage } from './types.ts'

/**
 * The text a user turn carries: the strict content
 * constraint (when the model's catalog entry asks for it), the refinement wording that keeps
 * composition, style and text unless the new instruction changes them, and one sentence per input
 * image naming its role and display name. Pure: the same arguments give the same string.
 */

/** The reference document's STRICT_CONTENT_CONSTRAINT, word for word (it ends in a blank line). */
export const STRICT_CONTENT_CONSTRAINT = `STRICT RULES:

1. CREATE ORIGINAL ART - Do NOT use screenshots or existing images.
   - Generate NEW artwork in a stylized, professional style
   - NO game HUD elements (health bars, minimaps, inventory)
   - NO watermarks or UI from other sources

2. REFERENCE IMAGE: If provided, COPY the exact layout and positions.

3. TEXT RENDERING - CRITICAL:
   - Render ALL text EXACTLY as written - no corrections
   - Text must be FULLY VISIBLE and NEVER covered by objects
   - Characters must be BEHIND or BESIDE text, never overlapping

4. QUANTITIES: If prompt says "3 items" - render EXACTLY 3.

5. NO ADDITIONS: Do NOT add text, labels, or elements not mentioned.

6. CHARACTERS: Render character details EXACTLY as described.

7. STYLE: You MAY be creative with colors and artistic style.

8. CONTENT: You may NOT be creative with text or quantities.

`

/** The reference document's refinement constraint, word for word; the instruction follows it. */
export const REFINEMENT_FRAMING = `Apply this refinement while maintaining:
- The same overall composition and layout
- The same style and artistic approach
- Any text exactly as it was (unless specifically changed)

Refinement: `

export type InputLabel = Pick<InputImage, 'role' | 'displayName'>

export type FramingOptions = {
  /** Prepend STRICT_CONTENT_CONSTRAINT (per model in the catalog; the default for Gemini). */
  strictContent?: boolean
  /** Ends the text with the pixel size, as the reference does. */
  size?: { width: number; height: number }
}

type RoleWording = { noun: string; article: 'a' | 'the'; guidance?: string }

const ROLE_WORDING: Record<string, RoleWording> = {
  edit_target: { noun: 'image to edit', article: 'the', guidance: 'apply the instruction to it' },
  reference: {
    noun: 'reference image',
    article: 'a',
    guidance: 'follow its layout and composition',
  },
  logo: {
    noun: 'logo',
    article: 'a',
    guidance: 'reproduce it exactly, without redrawing, recolouring or distorting it',
  },
  face: { noun: 'face', article: 'a', guidance: "keep this person's facial features recognisable" },
  character: {
    noun: 'character',
    article: 'a',
    guidance: "keep this character's appearance consistent",
  },
  style: {
    noun: 'style reference',
    article: 'a',
    guidance: 'match its artistic style, not its content',
  },
  mask: {
    noun: 'edit mask',
    article: 'the',
    guidance: 'change only the areas where it is transparent and keep everything else unchanged',
  },
}

const MAX_DISPLAY_NAME_CHARS = 80
const MAX_ROLE_CHARS = 40

/** First-turn text: `[strict rules]<prompt>[\n\nImage n is …][\n\nGenerate as WxH pixels.]` */
export function frameGenerationText(
  prompt: string,
  inputs: readonly InputLabel[],
  options: FramingOptions = {},
): string {
  const strict = options.strictContent ? STRICT_CONTENT_CONSTRAINT : ''
  const images = inputs.length > 0 ? `\n\n${describeInputs(inputs).join('\n')}` : ''
  const size = options.size
    ? `\n\nGenerate as ${options.size.width}x${options.size.height} pixels.`
    : ''
  return `${strict}${prompt}${images}${size}`
}

/**
 * Refinement text: `[strict rules]<refinement wording><instruction>[\n\nImages attached to this
 * message:\nImage n is …][\n\nKeep at WxH pixels.]`. The header tells the model that the numbers
 * count only this message's images, not those of earlier turns.
 */
export function frameRefinementText(
  instruction: string,
  inputs: readonly InputLabel[],
  options: FramingOptions = {},
): string {
  const strict = options.strictContent ? STRICT_CONTENT_CONSTRAINT : ''
  const images =
    inputs.length > 0
      ? `\n\nImages attached to this message:\n${describeInputs(inputs).join('\n')}`
      : ''
  const size = options.size
    ? `\n\nKeep at ${options.size.width}x${options.size.height} pixels.`
    : ''
  return `${strict}${REFINEMENT_FRAMING}${instruction}${images}${size}`
}

/** One sentence per image, numbered in the order the images are attached (from 1). */
export function describeInputs(inputs: readonly InputLabel[]): string[] {
  return inputs.map((input, index) => describeInput(input, index + 1))
}

/** "Image 1 is the logo 'Acme': reproduce it exactly, …." */
export function describeInput(input: InputLabel, position: number): string {
  const wording = ROLE_WORDING[input.role] ?? wordingForOtherRole(input.role)
  const name = input.displayName === undefined ? '' : cleanDisplayName(input.displayName)
  const article = name ? 'the' : wording.article === 'a' ? indefiniteArticle(wording.noun) : 'the'
  const named = name ? ` '${name}'` : ''
  const guidance = wording.guidance ? `: ${wording.guidance}` : ''
  return `Image ${position} is ${article} ${wording.noun}${named}${guidance}.`
}

/** Roles are caller-supplied strings: kept to plain words so they cannot smuggle instructions. */
function wordingForOtherRole(role: string): RoleWording {
  const noun = role
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .trim()
    .slice(0, MAX_ROLE_CHARS)
    .trim()
  return { noun: noun || 'input image', article: 'a' }
}

/** One line, no control characters, at most MAX_DISPLAY_NAME_CHARS characters. */
export function cleanDisplayName(displayName: string): string {
  const oneLine = displayName
    // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
  const characters = Array.from(oneLine)
  return characters.length <= MAX_DISPLAY_NAME_CHARS
    ? oneLine
    : `${characters
        .slice(0, MAX_DISPLAY_NAME_CHARS - 1)
        .join('')
        .trimEnd()}…`
}

function indefiniteArticle(noun: string): 'a' | 'an' {
  return /^[aeiou]/.test(noun) ? 'an' : 'a'
}
