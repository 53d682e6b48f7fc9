import { describe, expect, it } from 'vitest'
import { histogramDelta, histogramQuantile, type HistogramSeries } from '../../bench/lib/harness.js'

// 10 observations: 5 at or under 1, 4 more at or under 2, 1 past 4.
const series: HistogramSeries = { buckets: [[1, 5], [2, 9], [4, 9], [Number.POSITIVE_INFINITY, 10]], sum: 20, count: 10 }

describe('bench histograms (the latency bench\'s stage figures)', () => {
  it('interpolates a quantile within its bucket, like histogram_quantile', () => {
    expect(histogramQuantile(series, 0.5)).toBe(1)
    expect(histogramQuantile(series, 0.7)).toBeCloseTo(1.5)
    expect(histogramQuantile(series, 0.3)).toBeCloseTo(0.6)
  })

  it('answers the last finite bound for a quantile in +Inf, and NaN for no observations', () => {
    expect(histogramQuantile(series, 0.99)).toBe(4)
    expect(histogramQuantile({ buckets: [[1, 0], [Number.POSITIVE_INFINITY, 0]], sum: 0, count: 0 }, 0.5)).toBeNaN()
  })

  it('takes the difference of two scrapes bucket by bucket', () => {
    const before: HistogramSeries = { buckets: [[1, 2], [2, 3], [4, 3], [Number.POSITIVE_INFINITY, 3]], sum: 4, count: 3 }
    expect(histogramDelta(before, series)).toEqual({ buckets: [[1, 3], [2, 6], [4, 6], [Number.POSITIVE_INFINITY, 7]], sum: 16, count: 7 })
    expect(histogramDelta(undefined, series)).toEqual(series)
  })
})
