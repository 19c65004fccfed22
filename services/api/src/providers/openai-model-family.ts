/**
 * The OpenAI model families differ in which parameters they accept: GPT Image models reject
 * `response_format` outright (400 unknown_parameter) and always answer base64; DALL·E answers a
 * 60-minute URL unless asked for base64. Other models behind OpenAI-compatible endpoints get only
 * the common parameters and may answer either way.
 */
export type OpenAIModelFamily = 'gpt-image' | 'dall-e-3' | 'dall-e-2' | 'other'

export function openAIModelFamily(model: string): OpenAIModelFamily {
  if (model.startsWith('gpt-image') || model.startsWith('chatgpt-image')) {
    return 'gpt-image'
  }
  if (model.startsWith('dall-e-3')) {
    return 'dall-e-3'
  }
  if (model.startsWith('dall-e-2')) {
    return 'dall-e-2'
  }
  return 'other'
}
