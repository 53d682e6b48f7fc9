import { describe, expect, it } from 'vitest'
import { ManualClock } from '../../core/clock.js'
import { TokenBucketLimiter } from '../../api/rate-limit.js'
import { bearer, buildTestApp, tokenFor } from './helpers.js'

describe('token bucket', () => {
  it('allows the burst, then refills at the configured rate', () => {
    const clock = new ManualClock(0)
    const limiter = new TokenBucketLimiter({ burst: 2, refillPerSecond: 1 }, clock)
    expect(limiter.take('alice')).toEqual({ allowed: true, retryAfterMs: 0 })
    expect(limiter.take('alice')).toEqual({ allowed: true, retryAfterMs: 0 })
    expect(limiter.take('alice')).toEqual({ allowed: false, retryAfterMs: 1000 })
    expect(limiter.take('bob').allowed).toBe(true)
    clock.advance(500)
    expect(limiter.take('alice')).toEqual({ allowed: false, retryAfterMs: 500 })
    clock.advance(500)
    expect(limiter.take('alice').allowed).toBe(true)
    clock.advance(60_000) // refills to the burst, not beyond
    expect([1, 2, 3].map(() => limiter.take('alice').allowed)).toEqual([true, true, false])
  })

  it('keeps at most maxKeys buckets, dropping the least recently used', () => {
    const limiter = new TokenBucketLimiter({ burst: 1, refillPerSecond: 1 }, new ManualClock(0), 2)
    limiter.take('a')
    limiter.take('b')
    limiter.take('a')
    limiter.take('c') // drops b
    expect(limiter.size).toBe(2)
    expect(limiter.take('a').allowed).toBe(false) // a was kept, still empty
  })

  it('refuses nonsense options', () => {
    expect(() => new TokenBucketLimiter({ burst: 0, refillPerSecond: 1 }, new ManualClock(0))).toThrow(/RISK_ERR_CONFIG_INVALID/)
    expect(() => new TokenBucketLimiter({ burst: 1, refillPerSecond: 0 }, new ManualClock(0))).toThrow(/RISK_ERR_CONFIG_INVALID/)
  })
})

describe('rate limits in the API', () => {
  it('limits per subject and, without a valid token, per IP, answering 429 with Retry-After', async () => {
    const test = await buildTestApp({ rateLimits: { subject: { burst: 3, refillPerSecond: 1 }, ip: { burst: 2, refillPerSecond: 0.5 } } })
    try {
      const alice = bearer(tokenFor(['aml_officer'], 'alice'))
      const statuses = []
      for (let index = 0; index < 4; index += 1) statuses.push((await test.app.inject({ url: '/me', headers: alice })).statusCode)
      expect(statuses).toEqual([200, 200, 200, 429])
      const limited = await test.app.inject({ url: '/me', headers: alice })
      expect(limited.json()).toEqual({ error: { code: 'RISK_ERR_RATE_LIMITED', message: "too many requests from 'alice'; retry in 1 s" } })
      expect(limited.headers['retry-after']).toBe('1')
      // Another subject has its own bucket.
      expect((await test.app.inject({ url: '/me', headers: bearer(tokenFor(['aml_officer'], 'bob')) })).statusCode).toBe(200)
      // Anonymous callers and bad tokens share the address's bucket.
      expect((await test.app.inject({ url: '/health' })).statusCode).toBe(200)
      expect((await test.app.inject({ url: '/me', headers: bearer('junk') })).statusCode).toBe(401)
      const anonymous = await test.app.inject({ url: '/health' })
      expect(anonymous.statusCode).toBe(429)
      expect(anonymous.headers['retry-after']).toBe('2')
      test.clock.advance(2000)
      expect((await test.app.inject({ url: '/health' })).statusCode).toBe(200)
      expect((await test.app.inject({ url: '/me', headers: alice })).statusCode).toBe(200)
    } finally {
      await test.close()
    }
  })
})
