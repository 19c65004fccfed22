export {
  type BackoffOptions,
  backoffCeiling,
  defaultBackoff,
  fullJitterDelay,
  type Random,
} from './backoff.ts'
export {
  type CircuitBreaker,
  type CircuitBreakerOptions,
  CircuitOpenError,
  type CircuitState,
  createCircuitBreaker,
  defaultCircuitBreakerOptions,
} from './circuit-breaker.ts'
export {
  classifyHttpStatus,
  isProviderDown,
  isRetryable,
  type RetryRule,
  retryPolicy,
} from './classify.ts'
export { classifyTransportError } from './classify-transport.ts'
export {
  type AttemptContext,
  type AttemptRecord,
  type ExecuteOptions,
  type ExecuteResult,
  executeWithRetry,
  type GiveUpReason,
  UpstreamCallFailed,
} from './execute.ts'
export { parseHttpDate } from './http-date.ts'
export {
  type HeaderReader,
  parseRetryAfter,
  parseRetryAfterMs,
  parseRetryAfterValue,
} from './retry-after.ts'
export {
  createRetryBudget,
  defaultRetryBudgetOptions,
  type RetryBudget,
  type RetryBudgetOptions,
} from './retry-budget.ts'
export { createSingleflight, type Singleflight } from './singleflight.ts'
export { type Sleep, systemSleep } from './sleep.ts'
