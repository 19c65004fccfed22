import { AppError } from '../../errors/app-error.ts'
import { UpstreamCallFailed } from '../../providers/resilience/execute.ts'
import { UpstreamFailure } from '../../providers/types.ts'

const seconds = (ms: number | undefined) =>
  ms === undefined ? undefined : Math.max(1, Math.ceil(ms / 1000))

/**
 * The answer to give when a provider call failed for good. The gateway already retried what was
 * safe to retry, so final errors say `x-should-retry: false` — except when the breaker refused
 * without calling upstream, where waiting Retry-After and trying again is safe.
 */
export function toUpstreamAppError(thrown: unknown): AppError {
  const failed = thrown instanceof UpstreamCallFailed ? thrown : undefined
  const failure = failed?.failure ?? (thrown instanceof UpstreamFailure ? thrown : undefined)
  if (!failure) {
    return thrown instanceof AppError
      ? thrown
      : new AppError('internal_error', 'Internal error', { cause: thrown })
  }
  const provider = failure.provider
  const base = {
    provider,
    ...(failure.status === undefined ? {} : { upstreamStatus: failure.status }),
  }
  const retryAfter = seconds(failure.retryAfterMs)
  const retryHeaders: Record<string, string> = retryAfter
    ? { 'retry-after': String(retryAfter) }
    : {}
  switch (failure.kind) {
    case 'content_policy':
      return new AppError(
        'content_policy_violation',
        `The ${provider} safety system refused the ${failure.stage === 'output' ? 'generated image' : 'prompt'}${failure.reason ? `: ${failure.reason}` : ''}`,
        {
          details: {
            ...base,
            stage: failure.stage ?? 'input',
            ...(failure.reason ? { reason: failure.reason } : {}),
            ...(failure.finishReason ? { finishReason: failure.finishReason } : {}),
          },
          shouldRetry: false,
          cause: thrown,
        },
      )
    case 'quota':
      return new AppError(
        'upstream_unavailable',
        `The gateway's ${provider} account is out of quota or over its billing limit; this is not the caller's fault`,
        {
          details: { ...base, reason: failure.upstreamCode ?? 'quota' },
          shouldRetry: false,
          cause: thrown,
        },
      )
    case 'rate_limited':
    case 'unavailable':
    case 'not_sent': {
      const circuitOpen = failed?.reason === 'circuit_open'
      return new AppError(
        'upstream_unavailable',
        circuitOpen
          ? `${provider} is failing; requests fail fast until it recovers`
          : `${provider} is unavailable (${failure.message})`,
        {
          details: {
            ...base,
            ...(retryAfter ? { retryAfterSeconds: retryAfter } : {}),
            reason: circuitOpen ? 'circuit_open' : failure.kind,
          },
          headers: retryHeaders,
          shouldRetry: circuitOpen,
          cause: thrown,
        },
      )
    }
    case 'timeout':
      return new AppError('upstream_timeout', `${provider} did not answer before the deadline`, {
        details: base,
        shouldRetry: false,
        cause: thrown,
      })
    case 'auth':
      return new AppError('upstream_error', `${provider} refused the gateway's credentials`, {
        details: { ...base, reason: 'auth' },
        shouldRetry: false,
        cause: thrown,
      })
    case 'bad_response':
      return new AppError('upstream_error', failure.message, {
        details: {
          ...base,
          reason: 'bad_response',
          ...(failure.finishReason ? { finishReason: failure.finishReason } : {}),
        },
        shouldRetry: false,
        cause: thrown,
      })
    default:
      return new AppError('upstream_error', `${provider} failed: ${failure.message}`, {
        details: { ...base, reason: failure.kind },
        shouldRetry: false,
        cause: thrown,
      })
  }
}
