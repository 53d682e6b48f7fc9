/**
 * Back-pressure against the real broker: with a buffer limit far below what a pre-produced day
 * puts on a partition, fetching pauses and resumes many times, and every withdrawal is still
 * decided. Before pipelines/kafka/backpressure.ts, a topic paused while ahead and then drained
 * empty stayed paused as long as the other topics held more than the limit; when the event-time
 * merge waited for that topic, its partition stalled for good (seen in the e2e bench with a
 * limit of 5000; with the default of 20000 it takes a larger backlog, such as a catch-up after
 * an outage).
 */
import fs from 'node:fs'
import { describe, expect, it } from 'vitest'
import { loadSanctionedName } from '../../bench/simulator/sanctions.js'
import { simulate } from '../../bench/simulator/simulate.js'
import type { Decision } from '../../schemas/generated/types.js'
import { EngineProcess, TopicReader, encoded, isolated, produce } from './support.js'

describe('back-pressure', () => {
  it('decides every withdrawal of a backlog many times the buffer limit', async () => {
    const test = await isolated('backpressure', { PITBOSS_MAX_BUFFERED_RECORDS: '100' })
    const simulation = simulate({ seed: 5, players: 400, days: 1, sanctionedName: loadSanctionedName(test.config.referenceDataDir, 5) })
    const requests = new Set(simulation.events.flatMap((event) => (event.topic === 'withdrawals' && event.value.type === 'REQUESTED' ? [event.value.withdrawalId] : [])))
    expect(simulation.events.length).toBeGreaterThan(100 * 8 * 5)
    const reader = await new TopicReader<Decision>(test, 'decisions').start()
    // the whole backlog is in the broker before the engine starts
    await produce(test, simulation.events.map((event) => encoded(test, event.topic, event.value)))
    const engine = new EngineProcess(test).start()
    try {
      await reader.waitFor((values) => new Set(values.map((decision) => decision.withdrawalId)).size >= requests.size, 90_000)
    } finally {
      await reader.stop()
      expect(await engine.stop('SIGTERM')).toBe(0)
    }
    expect(new Set(reader.values.map((decision) => decision.withdrawalId))).toEqual(requests)
    fs.rmSync(test.workDir, { recursive: true, force: true })
  }, 240_000)
})
