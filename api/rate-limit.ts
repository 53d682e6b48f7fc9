/**
 * In-memory token buckets, one per key (a token's subject, or the client IP for callers without
 * a valid token). A bucket holds up to `burst` requests and refills `refillPerSecond` a second;
 * a request takes one, and an empty bucket answers with how long until the next one.
 *
 * Per process: behind a load balancer each API process allows the configured rate, so divide it
 * by the number of processes. The map is bounded (`maxKeys`, least recently used dropped first)
 * so a flood of source addresses cannot grow memory without limit.
 *
 * Example:
 *   const limiter = new TokenBucketLimiter({ burst: 2, refillPerSecond: 1 }, clock)
 *   limiter.take('alice')  // { allowed: true, retryAfterMs: 0 }   (twice)
 *   limiter.take('alice')  // { allowed: false, retryAfterMs: 1000 }
 */
import type { Clock } from '../core/clock.js'
import { RiskError } from '../core/errors.js'

export interface TokenBucketOptions {
  /** Requests allowed at once from a full bucket. */
  readonly burst: number
  /** Requests a second the bucket refills (may be fractional, e.g. 0.5 = one each 2 s). */
  readonly refillPerSecond: number
}

export interface RateLimitOptions {
  /** Per token subject (JWT `sub`). */
  readonly subject: TokenBucketOptions
  /** Per client IP, for requests without a valid token (public routes, failed logins, 404s). */
  readonly ip: TokenBucketOptions
}

/** Generous for officers clicking through the console; tight for anonymous callers. */
export const DEFAULT_RATE_LIMITS: RateLimitOptions = Object.freeze({
  subject: Object.freeze({ burst: 120, refillPerSecond: 20 }),
  ip: Object.freeze({ burst: 60, refillPerSecond: 10 }),
})

export interface RateDecision {
  readonly allowed: boolean
  /** 0 when allowed; otherwise how long until one request is available again. */
  readonly retryAfterMs: number
}

interface Bucket {
  tokens: number
  updatedMs: number
}

export class TokenBucketLimiter {
  private readonly buckets = new Map<string, Bucket>()

  constructor(private readonly options: TokenBucketOptions, private readonly clock: Clock, private readonly maxKeys = 100_000) {
    if (!(options.burst >= 1) || !(options.refillPerSecond > 0)) {
      throw new RiskError('RISK_ERR_CONFIG_INVALID', `a rate limit needs burst >= 1 and refillPerSecond > 0, got burst ${options.burst}, refillPerSecond ${options.refillPerSecond}`)
    }
  }

  take(key: string): RateDecision {
    const nowMs = this.clock.monotonicMs()
    const bucket = this.buckets.get(key) ?? { tokens: this.options.burst, updatedMs: nowMs }
    bucket.tokens = Math.min(this.options.burst, bucket.tokens + ((nowMs - bucket.updatedMs) / 1000) * this.options.refillPerSecond)
    bucket.updatedMs = nowMs
    // Re-inserting keeps the map in least-recently-used order, so the first key is the one to drop.
    this.buckets.delete(key)
    this.buckets.set(key, bucket)
    if (this.buckets.size > this.maxKeys) {
      const oldest = this.buckets.keys().next().value
      if (oldest !== undefined) this.buckets.delete(oldest)
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1
      return { allowed: true, retryAfterMs: 0 }
    }
    return { allowed: false, retryAfterMs: Math.ceil(((1 - bucket.tokens) / this.options.refillPerSecond) * 1000) }
  }

  /** Keys currently tracked (for tests and a future gauge). */
  get size(): number {
    return this.buckets.size
  }
}
