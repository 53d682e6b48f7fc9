/**
 * SIGKILL the engine mid-stream, restart it, repeat: the decisions equal a clean run's (none
 * missing, no two different ones for a withdrawal; re-emissions byte-identical) and the RocksDB
 * state equals the clean run's.
 */
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { generateFixture } from '../../bench/fixture.js'
import { openRocksStore } from '../../pipelines/state/store.js'
import { INPUT_PARTITIONS } from '../../core/topics.js'
import type { Decision } from '../../schemas/generated/types.js'
import { EngineProcess, TopicReader, encoded, isolated, produce, type Isolated } from './support.js'

const fixture = generateFixture({ seed: 2026, players: 120, days: 7 })
const expectedDecisions = new Set(fixture.flatMap((event) => (event.topic === 'withdrawals' ? [event.value.withdrawalId] : []))).size

async function stateDump(test: Isolated): Promise<string[]> {
  const store = await openRocksStore(path.join(test.workDir, 'state'))
  const entries: string[] = []
  try {
    for (let partition = 0; partition < INPUT_PARTITIONS; partition += 1) {
      for await (const [key, value] of store.partition(partition).entries()) entries.push(`${partition}/${key}=${value.toString()}`)
    }
  } finally {
    await store.close()
  }
  return entries
}

async function run(test: Isolated, killAtFractions: readonly number[]): Promise<{ decisions: Decision[]; killedAt: number[] }> {
  await produce(test, fixture.map((event) => encoded(test, event.topic, event.value)))
  const reader = await new TopicReader<Decision>(test, 'decisions').start()
  const killedAt: number[] = []
  try {
    let engine = new EngineProcess(test).start()
    for (const fraction of killAtFractions) {
      await reader.waitFor((values) => values.length >= Math.floor(expectedDecisions * fraction), 120_000)
      await engine.stop('SIGKILL')
      killedAt.push(reader.values.length)
      engine = new EngineProcess(test).start()
    }
    await reader.waitFor((values) => new Set(values.map((decision) => decision.decisionId)).size >= expectedDecisions, 180_000)
    expect(await engine.stop('SIGTERM')).toBe(0)
    return { decisions: [...reader.values], killedAt }
  } finally {
    await reader.stop()
  }
}

/** The two runs use different topic prefixes; a decision names its source topic, so compare without the prefix. */
const normalised = (decision: Decision, test: Isolated): string => JSON.stringify({ ...decision, source: { ...decision.source, topic: decision.source.topic.slice(test.config.kafka.topicPrefix.length) } })

describe('crash recovery', () => {
  it('after repeated SIGKILLs emits the clean run decisions, byte for byte, and ends in the same state', async () => {
    const cleanTest = await isolated('clean')
    const clean = await run(cleanTest, [])
    const crashedTest = await isolated('crashed')
    const crashed = await run(crashedTest, [0.2, 0.5, 0.8])

    // every kill landed mid-stream
    expect(crashed.killedAt).toHaveLength(3)
    for (const count of crashed.killedAt) expect(count).toBeLessThan(expectedDecisions)

    const cleanById = new Map(clean.decisions.map((decision) => [decision.decisionId, normalised(decision, cleanTest)]))
    expect(cleanById.size).toBe(expectedDecisions)
    expect(clean.decisions).toHaveLength(expectedDecisions)
    const crashedById = new Map<string, Set<string>>()
    for (const decision of crashed.decisions) {
      const copies = crashedById.get(decision.decisionId) ?? new Set<string>()
      copies.add(normalised(decision, crashedTest))
      crashedById.set(decision.decisionId, copies)
    }
    expect([...crashedById.keys()].sort()).toEqual([...cleanById.keys()].sort())
    for (const [decisionId, copies] of crashedById) {
      // no two different decisions for one withdrawal, and each equal to the clean run's
      expect([...copies], decisionId).toEqual([cleanById.get(decisionId)])
    }

    const cleanState = await stateDump(cleanTest)
    expect(cleanState.length).toBeGreaterThan(INPUT_PARTITIONS)
    expect(await stateDump(crashedTest)).toEqual(cleanState)
  })
})
