/** Why a running job's signal aborted: its caller cancelled it, or its worker lost the lease. */
export class JobStopped extends Error {
  readonly why: 'cancelled' | 'lease_lost'

  constructor(why: 'cancelled' | 'lease_lost') {
    super(
      why === 'cancelled'
        ? 'the job was cancelled'
        : 'the lease on this job ran out; another worker has it',
    )
    this.name = 'JobStopped'
    this.why = why
  }
}

export const stoppedBy = (signal: AbortSignal) =>
  signal.reason instanceof JobStopped ? signal.reason.why : undefined

/**
 * The error on a job that was cut off after its provider call started (its worker died): it is
 * not sent again, since the provider may already have done and billed the work.
 */
export const CUT_OFF_AFTER_DISPATCH = {
  code: 'internal_error',
  message:
    'imagegate stopped while the provider was working on this job; it was not sent again ' +
    '(the provider may have been called) and no credits were charged',
}
