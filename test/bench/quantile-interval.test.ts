import { describe, expect, it } from 'vitest'
import { seededRandom } from '../../core/seeded-random.js'
import { percentile, quantileInterval } from '../../bench/lib/harness.js'

const ranks = (n: number): number[] => Array.from({ length: n }, (_, index) => index + 1)

describe('quantileInterval', () => {
  it('gives the textbook interval for a median of ten: X(2) to X(9)', () => {
    expect(quantileInterval(ranks(10), 0.5)).toEqual({ low: 2, high: 9 })
  })

  it('bounds a p99 of 600 latencies by the 2nd largest at most, and the estimate lies inside', () => {
    const values = ranks(600).reverse() // the order of the input does not matter
    const { low, high } = quantileInterval(values, 0.99)
    expect(high).toBe(599)
    expect(low).not.toBeNull()
    expect(low as number).toBeLessThan(594)
    const estimate = percentile(values, 0.99)
    expect(estimate).toBeGreaterThanOrEqual(low as number)
    expect(estimate).toBeLessThanOrEqual(high as number)
  })

  it('leaves the upper side open when the sample cannot bound it: 200 requests and a p99', () => {
    const { low, high } = quantileInterval(ranks(200), 0.99)
    expect(high).toBeNull()
    expect(low).not.toBeNull()
  })

  it('is empty for no values and refuses fractions outside (0, 1)', () => {
    expect(quantileInterval([], 0.99)).toEqual({ low: null, high: null })
    expect(() => quantileInterval([1, 2], 1)).toThrow(RangeError)
    expect(() => quantileInterval([1, 2], 0.5, 0)).toThrow(RangeError)
  })

  it('covers the true p99 in at least 95% of samples from a known distribution', () => {
    // Exponential latencies with mean 5 ms: the true p99 is 5 * ln(100).
    const truth = 5 * Math.log(100)
    const random = seededRandom(7)
    const trials = 2000
    let covered = 0
    let bounded = 0
    for (let trial = 0; trial < trials; trial += 1) {
      const sample = Array.from({ length: 600 }, () => -5 * Math.log(1 - random()))
      const { low, high } = quantileInterval(sample, 0.99)
      if (low === null || high === null) continue
      bounded += 1
      if (low <= truth && truth <= high) covered += 1
    }
    expect(bounded).toBe(trials)
    // The exact coverage is at least 95% (the binomial tails are discrete, so a little more);
    // 2,000 trials estimate it within about one percentage point.
    expect(covered / trials).toBeGreaterThanOrEqual(0.94)
    expect(covered / trials).toBeLessThan(0.995)
  })
})
