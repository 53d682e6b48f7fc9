import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { scrapeCounter, scrapeInputsProcessed } from '../../bench/lib/harness.js'

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
