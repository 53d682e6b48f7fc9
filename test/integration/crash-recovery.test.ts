/**
 * SIGKILL the engine (and the ClickHouse sink) mid-stream, restart them, repeat: the decisions
 * equal a clean run's (none missing, no two different ones for a withdrawal and revision;
 * re-emissions byte-identical), the RocksDB state equals the clean run's, and ClickHouse holds
 * exactly one row per decision and revision. Officers' verdicts on every third withdrawal make
 * revision 2 of the ones held for review (the others are refused to the dead-letter topic).
 */
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { generateFixture } from '../../bench/fixture.js'
import { sleep } from '../../core/clock.js'
import { INPUT_PARTITIONS } from '../../core/topics.js'
import type { Decision, ReviewVerdict } from '../../schemas/generated/types.js'
import { createClickHouse } from '../../sinks/clickhouse/client.js'
import { sql } from '../../sinks/clickhouse/sql.js'
import { EngineChild } from '../../bench/lib/harness.js'
import { EngineProcess, TopicReader, encoded, isolated, produce, type Isolated } from './support.js'
import { stateDump, untilCaughtUp } from './runs.js'

const generated = generateFixture({ seed: 2026, players: 120, days: 7 })
const requests = generated.flatMap((event) => (event.topic === 'withdrawals' && event.value.type === 'REQUESTED' ? [event.value] : []))
const expectedFirstDecisions = new Set(requests.map((request) => request.withdrawalId)).size
const reviews: ReviewVerdict[] = requests.filter((_, index) => index % 3 === 0).map((request) => ({
  eventId: `rv:${request.withdrawalId}`, playerId: request.playerId, eventTimeMs: request.eventTimeMs + 30 * 60_000, withdrawalId: request.withdrawalId,
  verdict: request.amountMinor % 2 === 0 ? 'APPROVE' : 'DECLINE', reviewerId: 'officer-crash', caseId: null, reasonCode: 'CRASH_TEST', note: null,
}))

/**
 * Produces the casino events and runs the engine (and the sink) until every withdrawal has its
 * first decision, killing both at the given fractions of them; then produces the officers'
 * verdicts (as the case service would, after the decisions exist) and, when `killDuringReviews`,
 * kills both again while the second revisions come out.
 */
async function run(test: Isolated, killAtFractions: readonly number[], killDuringReviews: boolean, expectedTotal?: number): Promise<{ decisions: Decision[]; killedAt: number[] }> {
  await produce(test, generated.map((event) => encoded(test, event.topic, event.value)))
  const reader = await new TopicReader<Decision>(test, 'decisions').start()
  const firsts = (values: readonly Decision[]): number => new Set(values.filter((decision) => decision.revision === 1).map((decision) => decision.decisionId)).size
  const seconds = (values: readonly Decision[]): number => new Set(values.filter((decision) => decision.revision === 2).map((decision) => decision.decisionId)).size
  const killedAt: number[] = []
  const startEngine = (): EngineChild => new EngineChild({ runDir: test.workDir, env: test.env }, 'engine').start()
  let engineStartedAtMs = Date.now()
  let engine = startEngine()
  let sink = new EngineProcess(test, 'sink', 'sinks/main.ts').start()
  const killBoth = async (): Promise<void> => {
    await engine.stop('SIGKILL')
    await sink.stop('SIGKILL')
    // distinct first decisions out when killed (re-emissions after a kill are in reader.values too)
    killedAt.push(firsts(reader.values))
    engineStartedAtMs = Date.now()
    engine = startEngine()
    sink = new EngineProcess(test, 'sink', 'sinks/main.ts').start()
  }
  try {
    for (const fraction of killAtFractions) {
      await reader.waitFor((values) => firsts(values) >= Math.floor(expectedFirstDecisions * fraction), 120_000)
      await killBoth()
    }
    await reader.waitFor((values) => firsts(values) >= expectedFirstDecisions, 180_000)
    await produce(test, reviews.map((value) => encoded(test, 'reviews', value)))
    if (killDuringReviews) {
      await reader.waitFor((values) => seconds(values) >= 3, 120_000)
      await killBoth()
    }
    // Every review either makes a second revision or is refused (the withdrawal was not held):
    // the clean run waits until quiet; the crashed run until it has as many decisions as the clean one.
    if (expectedTotal !== undefined) {
      await reader.waitFor((values) => new Set(values.map((decision) => decision.decisionId)).size >= expectedTotal, 180_000)
    } else {
      for (let seen = -1; seen !== reader.values.length;) {
        seen = reader.values.length
        await sleep(5000)
      }
    }
    // the sink (restarted as often as the engine) catches up before it is stopped
    const clickhouse = createClickHouse(test.config.clickhouse)
    const expectedRows = new Set(reader.values.map((decision) => decision.decisionId)).size
    const deadline = Date.now() + 120_000
    while (Number((await clickhouse.query<{ rows: string }>(sql`SELECT count() AS rows FROM decisions FINAL`).catch(() => [{ rows: '0' }]))[0]?.rows ?? 0) < expectedRows) {
      if (Date.now() > deadline) throw new Error(`${test.name}: ClickHouse holds fewer than ${expectedRows} decisions; see ${sink.logFile}`)
      await sleep(250)
    }
    await clickhouse.close()
    // The decisions may all be out from the killed runs while the last one has yet to replay their
    // pending batches: stop it only once it has processed every partition to the end.
    await untilCaughtUp(engine, engineStartedAtMs, 150_000)
    expect(await engine.stop('SIGTERM')).toBe(0)
    expect(await sink.stop('SIGTERM'), `sink log: ${sink.logFile}`).toBe(0)
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
    const clean = await run(cleanTest, [], false)
    const crashedTest = await isolated('crashed')
    const cleanById = new Map(clean.decisions.map((decision) => [decision.decisionId, normalised(decision, cleanTest)]))
    expect(clean.decisions).toHaveLength(cleanById.size)
    const secondRevisions = clean.decisions.filter((decision) => decision.revision === 2).length
    expect(secondRevisions).toBeGreaterThan(0)
    expect(cleanById.size).toBe(expectedFirstDecisions + secondRevisions)
    // Kills at a tenth, three tenths and half of the first decisions: a restarted engine decides
    // this fixture in about a second and its outputs come out in bursts (a task's batches waiting
    // for an emission go out together), so a kill asked for at 80% once found all of them out.
    const crashed = await run(crashedTest, [0.1, 0.3, 0.5], true, cleanById.size)

    // every kill landed mid-stream
    expect(crashed.killedAt).toHaveLength(4)
    for (const count of crashed.killedAt.slice(0, 3)) expect(count, `first decisions out at each kill: ${crashed.killedAt.join(', ')} of ${expectedFirstDecisions}`).toBeLessThan(expectedFirstDecisions)

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

    // ClickHouse: one row per withdrawal and revision, in both runs, whatever the sink re-inserted
    for (const test of [cleanTest, crashedTest]) {
      const clickhouse = createClickHouse(test.config.clickhouse)
      const deadline = Date.now() + 60_000
      let rows = 0
      while ((rows = Number((await clickhouse.query<{ rows: string }>(sql`SELECT count() AS rows FROM decisions FINAL`).catch(() => [{ rows: '0' }]))[0]?.rows ?? 0)) < cleanById.size) {
        if (Date.now() > deadline) throw new Error(`${test.name}: ClickHouse has ${rows} decisions, expected ${cleanById.size}`)
        await sleep(250)
      }
      expect(rows).toBe(cleanById.size)
      const doubled = await clickhouse.query<{ withdrawal_id: string }>(sql`SELECT withdrawal_id, revision, count() AS copies FROM decisions FINAL GROUP BY withdrawal_id, revision HAVING copies > 1`)
      expect(doubled).toEqual([])
      const revisions = await clickhouse.query<{ revision: number; rows: string }>(sql`SELECT revision, count() AS rows FROM decisions FINAL GROUP BY revision ORDER BY revision`)
      expect(revisions.map((row) => [Number(row.revision), Number(row.rows)])).toEqual([[1, expectedFirstDecisions], [2, secondRevisions]])
    }

    const cleanState = await stateDump(path.join(cleanTest.workDir, 'state'))
    expect(cleanState.length).toBeGreaterThan(INPUT_PARTITIONS)
    expect(await stateDump(path.join(crashedTest.workDir, 'state'))).toEqual(cleanState)
  })
})
