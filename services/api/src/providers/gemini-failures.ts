import { z } from 'zod'
import { type ErrorAnswer, failureFromStatus, shorten } from './http-errors.ts'
import { UpstreamFailure } from './types.ts'

/** Gemini's non-2xx answers: google.rpc.Status `{error:{code,status,message,details}}`. */

const errorEnvelopeSchema = z.object({
  error: z.object({
    code: z.number().optional(),
    status: z.string().optional(),
    message: z.string().optional(),
    details: z
      .array(
        z.object({
          '@type': z.string().optional(),
          reason: z.string().optional(),
          retryDelay: z.string().optional(),
        }),
      )
      .optional(),
  }),
})

export function classifyGeminiError(answer: ErrorAnswer): UpstreamFailure {
  const envelope = Array.isArray(answer.body) ? answer.body[0] : answer.body
  const error = errorEnvelopeSchema.safeParse(envelope).data?.error
  const message =
    error?.message ??
    (typeof answer.body === 'string' && answer.body ? shorten(answer.body) : 'no error message')
  const upstreamCode = error?.status
  const details = error?.details ?? []
  const retryAfterMs = answer.retryAfterMs ?? retryInfoDelay(details)

  if (answer.status === 400 && /thought_?signature/i.test(message)) {
    return new UpstreamFailure(
      'rejected',
      'gemini',
      `Gemini rejected a replayed model turn that lost its thoughtSignature; replay the stored modelTurn parts exactly as received (${message})`,
      { status: answer.status, upstreamCode, reason: message },
    )
  }
  // Gemini answers a bad key with 400 INVALID_ARGUMENT, not 401.
  if (
    details.some((detail) => detail.reason?.startsWith('API_KEY_')) ||
    /API key (not valid|expired)/i.test(message)
  ) {
    return new UpstreamFailure('auth', 'gemini', `Gemini refused the API key: ${message}`, {
      status: answer.status,
      upstreamCode,
    })
  }
  // A quota of zero (new free-tier projects) never refills by waiting.
  if (answer.status === 429 && /\blimit: 0\b/.test(message)) {
    return new UpstreamFailure(
      'quota',
      'gemini',
      `The operator's Gemini quota is zero: ${message}`,
      {
        status: answer.status,
        upstreamCode,
        retryAfterMs,
      },
    )
  }
  return failureFromStatus('gemini', answer.status, { message, upstreamCode, retryAfterMs })
}

/** google.rpc.RetryInfo carries the advised wait as a duration string such as "19s". */
function retryInfoDelay(details: { retryDelay?: string | undefined }[]): number | undefined {
  for (const detail of details) {
    const seconds = detail.retryDelay && /^(\d+(?:\.\d+)?)s$/.exec(detail.retryDelay)?.[1]
    if (seconds) {
      return Math.ceil(Number(seconds) * 1000)
    }
  }
  return undefined
}
