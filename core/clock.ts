/**
 * The wall clock, injected. Only infrastructure reads it (commit intervals, latency metrics,
 * retry backoff); detection logic takes time from events.
 */
export interface Clock {
  nowMs(): number
  /** Monotonic high-resolution time in milliseconds, for measuring durations. */
  monotonicMs(): number
}

export const systemClock: Clock = Object.freeze({
  nowMs: () => Date.now(),
  monotonicMs: () => performance.now(),
})

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  constructor(private currentMs = 0) {}
  nowMs(): number { return this.currentMs }
  monotonicMs(): number { return this.currentMs }
  advance(ms: number): void { this.currentMs += ms }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
