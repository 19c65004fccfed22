import type { Logger } from 'pino'
import type { Job, JobQueue } from '../../db/jobs/job-queue.ts'
import type { Clock } from '../../ids.ts'
import { JobStopped } from './stop-reasons.ts'

export type JobWorkerOptions = {
  /** This worker's name on the leases it takes (unique per process). */
  owner: string
  /** Jobs this instance runs at once (IMAGEGATE_JOB_CONCURRENCY). */
  concurrency: number
  /** Running jobs of one workspace, over every instance (IMAGEGATE_JOB_WORKSPACE_CONCURRENCY). */
  perWorkspace: number
  /** A lease not renewed for this long lets another worker take the job (IMAGEGATE_JOB_LEASE_MS). */
  leaseMs: number
  /** How often leases are renewed, and how often the queue is looked at when nothing woke it. */
  heartbeatMs: number
}

export type JobWorkerDeps = {
  queue: JobQueue
  clock: Clock
  log: Logger
  run(job: Job, signal: AbortSignal): Promise<void>
}

type Running = { controller: AbortController; done: Promise<void> }

/**
 * Claims jobs while it has room and runs each with runJob. A heartbeat renews the leases of
 * the jobs it runs and aborts those it no longer holds or that a caller cancelled on another
 * instance. Woken at once by a job accepted here or a run ending; otherwise it looks at the
 * queue every heartbeat (jobs accepted by other instances, leases run out).
 */
export function createJobWorker(deps: JobWorkerDeps, options: JobWorkerOptions) {
  const running = new Map<string, Running>()
  let stopping = false
  let loop: Promise<void> | undefined
  let heartbeat: NodeJS.Timeout | undefined
  let wake: (() => void) | undefined
  let woken = false
  const now = () => deps.clock.now().getTime()

  const notify = () => {
    woken = true
    wake?.()
  }

  const sleep = () =>
    new Promise<void>((resolve) => {
      if (woken) {
        resolve()
        return
      }
      const timer = setTimeout(resolve, options.heartbeatMs)
      timer.unref()
      wake = () => {
        clearTimeout(timer)
        resolve()
      }
    }).finally(() => {
      wake = undefined
      woken = false
    })

  function start(job: Job) {
    const controller = new AbortController()
    const done = deps
      .run(job, controller.signal)
      .catch((err: unknown) => {
        deps.log.error({ err, generationId: job.generationId }, 'job run failed')
      })
      .finally(() => {
        running.delete(job.generationId)
        notify()
      })
    running.set(job.generationId, { controller, done })
  }

  async function claimLoop() {
    while (!stopping) {
      const room = options.concurrency - running.size
      let claimed: Job[] = []
      if (room > 0) {
        try {
          claimed = await deps.queue.claim(options.owner, {
            limit: room,
            leaseMs: options.leaseMs,
            perWorkspace: options.perWorkspace,
            now: now(),
          })
        } catch (err) {
          deps.log.error({ err }, 'claiming jobs failed')
        }
        for (const job of claimed) {
          start(job)
        }
      }
      if (stopping || (claimed.length > 0 && claimed.length === room)) {
        continue
      }
      await sleep()
    }
  }

  async function renewLeases() {
    const ids = [...running.keys()]
    if (ids.length === 0) {
      return
    }
    try {
      const { held, cancelRequested } = await deps.queue.renew(
        options.owner,
        ids,
        now() + options.leaseMs,
      )
      for (const id of ids.filter((id) => !held.includes(id))) {
        running.get(id)?.controller.abort(new JobStopped('lease_lost'))
      }
      for (const id of cancelRequested) {
        running.get(id)?.controller.abort(new JobStopped('cancelled'))
      }
    } catch (err) {
      deps.log.error({ err }, 'renewing job leases failed')
    }
  }

  return {
    start() {
      loop ??= claimLoop()
      heartbeat = setInterval(() => void renewLeases(), options.heartbeatMs)
      heartbeat.unref()
    },
    /** A job was accepted here: look at the queue now rather than at the next heartbeat. */
    notify,
    /** Stops a job this worker runs (a cancel answered here); false when it runs elsewhere. */
    cancel(generationId: string): Promise<void> | undefined {
      const job = running.get(generationId)
      job?.controller.abort(new JobStopped('cancelled'))
      return job?.done
    },
    get active() {
      return running.size
    },
    /**
     * Claims nothing more and waits up to `graceMs` for the running jobs. Those still running
     * after that keep their leases until they run out, then another worker takes them over as
     * it does after a crash: a job not yet dispatched runs again, a dispatched one is closed.
     */
    async stop(graceMs: number): Promise<boolean> {
      stopping = true
      notify()
      await loop
      let timer: NodeJS.Timeout | undefined
      const finished = await Promise.race([
        Promise.all([...running.values()].map((job) => job.done)).then(() => true),
        new Promise<false>((resolve) => {
          timer = setTimeout(() => resolve(false), graceMs)
        }),
      ])
      clearTimeout(timer)
      clearInterval(heartbeat)
      return finished
    },
  }
}

export type JobWorker = ReturnType<typeof createJobWorker>
