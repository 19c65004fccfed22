/**
 * The shapes a refinement (a follow-up edit of an earlier generation) and an edit with input
 * images need. Provider-neutral: the Gemini and OpenAI builders beside this file read them.
 */

/**
 * What an input image is for. The named roles get their own wording in the prompt framing; any
 * other string is accepted and named as it is ("Image 2 is a product shot").
 */
export type InputRole =
  | 'edit_target'
  | 'reference'
  | 'logo'
  | 'face'
  | 'character'
  | 'style'
  | 'mask'
  | (string & {})

/** An input image with its bytes, as sent upstream. */
export type InputImage = {
  bytes: Uint8Array
  /** Sniffed from the bytes by the asset store, not taken from an upload's header. */
  mediaType: string
  role: InputRole
  /** Shown to the model in the prompt framing, e.g. the logo 'Acme'. */
  displayName?: string
  /** The stored asset the bytes came from (uploads are stored first, so normally set). */
  assetId?: string
}

/** An input image as a generation records it: a reference to a stored asset, never bytes. */
export type InputImageRef = {
  assetId: string
  role: InputRole
  displayName?: string
}

/** One earlier step of a chain, as stored with its generation. */
export type StoredTurn = {
  generationId?: string
  /** The caller's own instruction for that step. */
  prompt: string
  /**
   * The text of that step's user turn exactly as it was sent upstream (framing included). When
   * recorded, a replay sends it instead of the bare prompt, so the model sees its history as it was.
   */
  sentText?: string
  inputs: InputImageRef[]
  /**
   * The model's answer exactly as received (Gemini: the candidate's `content`, every part with its
   * `thoughtSignature`). Opaque here on purpose: nothing may re-encode or normalise it.
   */
  modelTurn: unknown
}

/** A stored turn whose inputs have been loaded from the asset store: ready to replay. */
export type ConversationStep = Omit<StoredTurn, 'inputs'> & { inputs: InputImage[] }
