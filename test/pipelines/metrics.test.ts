/**
 * The engine's prom-client metrics fed by real partition tasks (the in-memory pipeline with the
 * shipped detectors and rule set): decisions and their latency by outcome, and detector hits
 * counted from the alerts the batch emitted, read back from the registry's /metrics text.
 */
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { player, withdrawal } from '../../bench/events.js'
import { createEngineMetrics, serveMetrics } from '../../pipelines/metrics.js'
import { testPipeline } from '../support/pipeline.js'

const HOUR = 60 * 60 * 1000

/** The value of one sample line of the exposition text, or null when there is none. */
function sample(text: string, series: string): number | null {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `))
  return line === undefined ? null : Number(line.slice(series.length + 1))
}

describe('engine metrics', () => {
  it('counts detector hits from the alerts emitted, and decision latency by outcome', async () => {
    const metrics = createEngineMetrics(new Registry())
    const pipeline = await testPipeline({ metrics })
    pipeline.send('players', player({ playerId: 'p1', eventTimeMs: 0, jurisdiction: 'MT' }))
    // MT allows 3 withdrawal requests a day: the fourth raises a withdrawal_velocity alert and is reviewed.
    for (let index = 0; index < 4; index += 1) pipeline.send('withdrawals', withdrawal({ playerId: 'p1', withdrawalId: `w${index}`, eventTimeMs: (index + 1) * HOUR }))
    await pipeline.driver.run()

    const alerts = await pipeline.outputs<{ detectorId: string }>('alerts')
    expect(alerts.map((alert) => alert.detectorId)).toEqual(['withdrawal_velocity'])
    const text = await metrics.registry.metrics()
    expect(sample(text, 'pitboss_detector_hits_total{detector="withdrawal_velocity"}')).toBe(1)
    expect(text.match(/^pitboss_detector_hits_total\{/gm)).toHaveLength(1)
    expect(sample(text, 'pitboss_decisions_total{outcome="APPROVE"}')).toBe(3)
    expect(sample(text, 'pitboss_decisions_total{outcome="REVIEW"}')).toBe(1)
    // the latency histogram carries the outcome, so instant payouts (APPROVE) have their own p99
    expect(sample(text, 'pitboss_decision_latency_seconds_count{outcome="APPROVE"}')).toBe(3)
    expect(sample(text, 'pitboss_decision_latency_seconds_count{outcome="REVIEW"}')).toBe(1)
    // buckets reach past the 30 s instant-payout objective
    expect(sample(text, 'pitboss_decision_latency_seconds_bucket{le="30",outcome="APPROVE"}')).toBe(3)
    expect(sample(text, 'pitboss_decision_latency_seconds_bucket{le="60",outcome="APPROVE"}')).toBe(3)
  })

  it('adds up librdkafka\'s statistics reports per lane: counts as deltas of its totals, latency sums per stage, the last interval\'s percentiles', async () => {
    const metrics = createEngineMetrics(new Registry())
    const window = (count: number, sumMs: number, p99Ms: number) => ({ count, sumMs, p50Ms: p99Ms / 2, p99Ms, maxMs: p99Ms * 2 })
    metrics.outputProducerStatistics({ produceRequests: 100, messagesSent: 250, queuedMessages: 7, latency: { queue: window(250, 500, 6), outbuf: window(100, 20, 1), rtt: window(100, 30, 2) } }, 'primary')
    metrics.outputProducerStatistics({ produceRequests: 40, messagesSent: 900, queuedMessages: 3, latency: { queue: window(900, 90, 1), outbuf: window(40, 4, 1), rtt: window(40, 4, 1) } }, 'bulk')
    metrics.outputProducerStatistics({ produceRequests: 160, messagesSent: 400, queuedMessages: 0, latency: { queue: window(150, 150, 3), outbuf: window(60, 6, 0.5), rtt: window(60, 12, 1) } }, 'primary')
    const text = await metrics.registry.metrics()
    // each lane's totals are its own: the bulk lane's 40 requests do not make the primary's 160 a drop
    expect(sample(text, 'pitboss_output_producer_requests_total{lane="primary"}')).toBe(160)
    expect(sample(text, 'pitboss_output_producer_requests_total{lane="bulk"}')).toBe(40)
    expect(sample(text, 'pitboss_output_producer_messages_total{lane="primary"}')).toBe(400)
    expect(sample(text, 'pitboss_output_producer_queued_messages{lane="primary"}')).toBe(0)
    expect(sample(text, 'pitboss_output_producer_queued_messages{lane="bulk"}')).toBe(3)
    expect(sample(text, 'pitboss_output_producer_latency_seconds_total{lane="primary",stage="queue"}')).toBeCloseTo(0.65, 9)
    expect(sample(text, 'pitboss_output_producer_latency_observations_total{lane="primary",stage="queue"}')).toBe(400)
    expect(sample(text, 'pitboss_output_producer_latency_observations_total{lane="primary",stage="rtt"}')).toBe(160)
    expect(sample(text, 'pitboss_output_producer_latency_window_seconds{lane="primary",stage="queue",statistic="p99"}')).toBe(0.003)
    expect(sample(text, 'pitboss_output_producer_latency_window_seconds{lane="primary",stage="rtt",statistic="max"}')).toBe(0.002)
  })

  it('serves the registry at /metrics on a random port', async () => {
    const metrics = createEngineMetrics(new Registry())
    metrics.detectorHit?.('deposit_structuring')
    const server = await serveMetrics(metrics.registry, '127.0.0.1', 0)
    try {
      const response = await fetch(`http://127.0.0.1:${server.port}/metrics`)
      expect(response.status).toBe(200)
      expect(sample(await response.text(), 'pitboss_detector_hits_total{detector="deposit_structuring"}')).toBe(1)
      expect((await fetch(`http://127.0.0.1:${server.port}/other`)).status).toBe(404)
    } finally {
      await server.close()
    }
  })
})
