import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { outputProducerDelta, scrapeCounter, scrapeInputsProcessed, scrapeOutputProducer } from '../../bench/lib/harness.js'
import { createEngineMetrics, serveMetrics } from '../../pipelines/metrics.js'

const METRICS = [
  '# HELP pitboss_events_processed_total input events processed, by topic key',
  '# TYPE pitboss_events_processed_total counter',
  'pitboss_events_processed_total{topic="bets"} 100',
  'pitboss_events_processed_total{topic="transfersReceived"} 7',
  'pitboss_events_processed_total{topic="withdrawals"} 5',
  'pitboss_events_processed_totals{topic="bets"} 1000',
  'pitboss_decisions_total{outcome="APPROVE"} 2',
  'pitboss_decisions_total{outcome="REVIEW"} 3',
  'pitboss_up 1',
  '',
].join('\n')

let server: http.Server
let port: number

beforeAll(async () => {
  server = http.createServer((_request, response) => response.end(METRICS))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  port = (server.address() as AddressInfo).port
})

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve))
})

describe('bench metric scrapes', () => {
  it('sums every series of a counter, and only that counter', async () => {
    expect(await scrapeCounter(port, 'pitboss_events_processed_total')).toBe(112)
    expect(await scrapeCounter(port, 'pitboss_decisions_total')).toBe(5)
    expect(await scrapeCounter(port, 'pitboss_up')).toBe(1)
    expect(await scrapeCounter(port, 'pitboss_decisions_total', (labels) => labels === 'outcome="REVIEW"')).toBe(3)
  })

  it('counts the casino topics the benches produce, not the transfers the engine re-keys and reads back', async () => {
    expect(await scrapeInputsProcessed(port)).toBe(105)
  })
})

describe('the latency bench\'s view of librdkafka\'s produce path', () => {
  it('reads each lane\'s pitboss_output_producer_* from the engine\'s /metrics and takes the means between two scrapes', async () => {
    const metrics = createEngineMetrics(new Registry())
    const served = await serveMetrics(metrics.registry, '127.0.0.1', 0)
    try {
      const window = (count: number, sumMs: number) => ({ count, sumMs, p50Ms: 0, p99Ms: 0, maxMs: 0 })
      metrics.outputProducerStatistics({ produceRequests: 100, messagesSent: 250, queuedMessages: 0, latency: { queue: window(250, 500), outbuf: window(100, 20), rtt: window(100, 30) } }, 'primary')
      metrics.outputProducerStatistics({ produceRequests: 900, messagesSent: 9000, queuedMessages: 0, latency: { queue: window(9000, 90), outbuf: window(900, 9), rtt: window(900, 9) } }, 'bulk')
      const before = await scrapeOutputProducer(served.port)
      expect(before.primary).toEqual({ requests: 100, messages: 250, latencySeconds: { queue: 0.5, outbuf: 0.02, rtt: 0.03 }, observations: { queue: 250, outbuf: 100, rtt: 100 } })
      expect(before.bulk.requests).toBe(900)
      metrics.outputProducerStatistics({ produceRequests: 160, messagesSent: 400, queuedMessages: 0, latency: { queue: window(150, 150), outbuf: window(60, 6), rtt: window(60, 12) } }, 'primary')
      const delta = outputProducerDelta(before.primary, (await scrapeOutputProducer(served.port)).primary, 2)
      expect(delta.requestsPerSecond).toBe(30)
      expect(delta.messagesPerRequest).toBe(2.5)
      expect(delta.meanMs.queue).toBeCloseTo(1, 9)
      expect(delta.meanMs.outbuf).toBeCloseTo(0.1, 9)
      expect(delta.meanMs.rtt).toBeCloseTo(0.2, 9)
    } finally {
      await served.close()
    }
  })

  it('has no means where librdkafka reported nothing (an engine producing with kafkajs)', () => {
    const none = { requests: 0, messages: 0, latencySeconds: { queue: 0, outbuf: 0, rtt: 0 }, observations: { queue: 0, outbuf: 0, rtt: 0 } }
    const delta = outputProducerDelta(none, none, 30)
    expect(delta.requestsPerSecond).toBe(0)
    expect(delta.messagesPerRequest).toBeNaN()
    expect(delta.meanMs.queue).toBeNaN()
  })
})
