/**
 * Fault injection in CI (issue 10), each on its own topics and group:
 *  - the engine SIGKILLed at 20 seeded random points while it decides a pre-produced simulated
 *    day, restarted each time: against a clean run, no decision lost, none conflicting (same id,
 *    other bytes), the RocksDB state identical;
 *  - the broker taken down and brought back through BrokerControl while the engine runs: every
 *    withdrawal decided once, the engine process alive throughout;
 *  - a flood of 10k malformed or hostile inputs mixed with good ones: every bad one in the
 *    dead-letter topic with its reason, every good one decided, no crash and no consumer restart.
 * bench/faults.ts runs the same at larger sizes (50 kills) plus a ClickHouse stop/start.
 *
 * Screening is off in the kill test only: loading the public sanctions lists takes seconds per
 * start, 20 starts of it would be most of the test, and the kill path does not depend on it.
 */
import { afterAll, describe, expect, inject, it } from 'vitest'
import { sleep } from '../../core/clock.js'
import { BrokerControl } from '../../infra/broker/launcher.js'
import type { DeadLetter, Decision } from '../../schemas/generated/types.js'
import { seededRandom } from '../../core/seeded-random.js'
import { EngineChild } from '../../bench/lib/harness.js'
import { simulate } from '../../bench/simulator/simulate.js'
import { TopicReader, encoded, isolated, produce, type Isolated } from './support.js'
import { compareDecisions, decidedTwice, hostileFlood, killSpread, receivedBefore, stateDump, transferReceivers, untilCaughtUp, untilKillPoint } from './runs.js'
import path from 'node:path'
import fs from 'node:fs'

const DAY_MS = 24 * 60 * 60 * 1000
const KILLS = 20
/**
 * Each kill a random 0..this after the engine's first new decision, or sooner after a random
 * number of new decisions (untilKillPoint, killSpread), as in
 * bench/faults.ts. The engine decides a 1500-player day's backlog in about a second, so with
 * 300 ms the later kills came after its last decision: at bf68ed6's speed, 3 of 20 kills landed
 * before it in one CI run, under the quarter the test asks for. The day has 3000 players since
 * session 12, when the engine came to catch up faster after each restart.
 */
const MAX_KILL_DELAY_MS = 150
const FAST_GROUP = { PITBOSS_KAFKA_SESSION_TIMEOUT_MS: '3000', PITBOSS_KAFKA_HEARTBEAT_INTERVAL_MS: '300', PITBOSS_KAFKA_REBALANCE_TIMEOUT_MS: '3000', PITBOSS_SCREENING_LISTS_DIR: 'off' }

const engineOf = (test: Isolated, label = 'engine'): EngineChild => new EngineChild({ runDir: test.workDir, env: test.env }, label)
const requestIds = (events: ReturnType<typeof simulate>['events']): Set<string> => new Set(events.flatMap((event) => (event.topic === 'withdrawals' && event.value.type === 'REQUESTED' ? [event.value.withdrawalId] : [])))
const distinctWithdrawals = (values: readonly Decision[]): number => new Set(values.filter((decision) => decision.revision === 1).map((decision) => decision.withdrawalId)).size

/** Waits until the reader has stopped growing for `quietMs`. */
async function settle(reader: TopicReader<unknown>, quietMs: number): Promise<void> {
  for (let seen = -1; seen !== reader.values.length;) {
    seen = reader.values.length
    await sleep(quietMs)
  }
}

const workDirs: string[] = []
afterAll(() => {
  if (process.env.KEEP_FAULT_DIRS) return // keep the runs (engine logs, state) to look at a failure
  for (const folder of workDirs) fs.rmSync(folder, { recursive: true, force: true })
})

describe('faults', () => {
  it(`after ${KILLS} SIGKILLs at seeded random points emits the clean run's decisions and ends in its state`, async () => {
    const { events } = simulate({ seed: 2027, players: 3000, days: 1 })
    const expected = requestIds(events).size
    const runOnce = async (test: Isolated, kills: number): Promise<{ decisions: Decision[]; killedAt: number[] }> => {
      workDirs.push(test.workDir)
      await produce(test, events.map((event) => encoded(test, event.topic, event.value)))
      const reader = await new TopicReader<Decision>(test, 'decisions').start()
      const random = seededRandom(10)
      const killedAt: number[] = []
      try {
        for (let kill = 0; kill < kills; kill += 1) {
          const startedAtMs = Date.now() // log lines of this process only: the previous one may have logged less than a second ago
          const engine = engineOf(test).start()
          await untilKillPoint(engine, startedAtMs, random, MAX_KILL_DELAY_MS, () => distinctWithdrawals(reader.values), expected, 60_000, killSpread(expected, KILLS))
          await engine.stop('SIGKILL')
          killedAt.push(distinctWithdrawals(reader.values))
        }
        const startedAtMs = Date.now() // log lines of this process only: the previous one may have logged less than a second ago
        const engine = engineOf(test).start()
        await untilCaughtUp(engine, startedAtMs, 150_000)
        await reader.waitFor((values) => distinctWithdrawals(values) >= expected, 150_000)
        await settle(reader as TopicReader<unknown>, 1500)
        expect(await engine.stop('SIGTERM')).toBe(0)
        return { decisions: [...reader.values], killedAt }
      } finally {
        await reader.stop()
      }
    }
    const cleanTest = await isolated('faults-clean', FAST_GROUP)
    const clean = await runOnce(cleanTest, 0)
    const killedTest = await isolated('faults-kill', FAST_GROUP)
    const killed = await runOnce(killedTest, KILLS)

    expect(clean.decisions.length).toBeGreaterThanOrEqual(expected)
    // the kills landed while it decided: at least a quarter before the last decision
    expect(killed.killedAt.filter((count) => count < expected).length, `withdrawals decided at each kill: ${killed.killedAt.join(' ')} of ${expected}`).toBeGreaterThanOrEqual(KILLS / 4)
    // A receiver of a transfer may be decided differently from the clean run (once, never in two
    // forms), and only in what pass_through saw: the re-keyed transfer may not have reached its
    // partition yet (transferReceivers). Everyone else exactly as in the clean run.
    const receivers = transferReceivers(events)
    const comparison = compareDecisions(clean.decisions, cleanTest.config.kafka.topicPrefix, killed.decisions, killedTest.config.kafka.topicPrefix, (decision) => receivedBefore(receivers, decision))
    expect(comparison.missing).toEqual([])
    expect(comparison.conflicting).toEqual([])
    expect(comparison.unexpected).toEqual([])
    const cleanDecisions = new Map(clean.decisions.map((decision) => [decision.decisionId, decision]))
    for (const decisionId of comparison.timingDependent) {
      const others = (decision: Decision | undefined): unknown => decision?.executions.filter((execution) => execution.detectorId !== 'pass_through')
      expect(others(killed.decisions.find((decision) => decision.decisionId === decisionId)), decisionId).toEqual(others(cleanDecisions.get(decisionId)))
    }
    const cleanState = await stateDump(path.join(cleanTest.workDir, 'state'), new Set(receivers.keys()))
    expect(cleanState.length).toBeGreaterThan(0)
    expect(await stateDump(path.join(killedTest.workDir, 'state'), new Set(receivers.keys()))).toEqual(cleanState)
  }, 420_000)

  it('decides every withdrawal once, and stays up, while the broker goes down and comes back', async () => {
    const substrate = inject('substrate')
    const test = await isolated('faults-broker')
    workDirs.push(test.workDir)
    const { events } = simulate({ seed: 2028, players: 300, days: 1 })
    const half = Math.floor(events.length / 2)
    const expected = requestIds(events).size
    const reader = await new TopicReader<Decision>(test, 'decisions').start()
    const engine = engineOf(test).start()
    const control = new BrokerControl(substrate.brokerControlPort)
    try {
      await produce(test, events.slice(0, half).map((event) => encoded(test, event.topic, event.value)))
      await reader.waitFor((values) => values.length > 0, 90_000)
      await control.brokerDown(1)
      await sleep(5_000)
      await control.brokerUp(1)
      expect(engine.running).toBe(true)
      await produce(test, events.slice(half).map((event) => encoded(test, event.topic, event.value)))
      await reader.waitFor((values) => distinctWithdrawals(values) >= expected, 120_000)
      await settle(reader as TopicReader<unknown>, 1500)
      expect(decidedTwice(reader.values)).toEqual([])
      expect(distinctWithdrawals(reader.values)).toBe(expected)
      // the same process throughout: never exited, never logged a fatal error
      expect(engine.running).toBe(true)
      expect(engine.exits).toEqual([])
      expect(engine.logLines().filter((line) => line.level >= 60)).toEqual([])
    } finally {
      await control.brokerUp(1).catch(() => undefined)
      await control.close()
      await reader.stop()
      expect(await engine.stop('SIGTERM')).toBe(0)
    }
  }, 240_000)

  it('routes a flood of 10k hostile inputs to the dead-letter topic with their reasons, decides the good ones, and never crashes', async () => {
    const test = await isolated('faults-flood', { PITBOSS_MAX_PAYLOAD_BYTES: '2048' })
    workDirs.push(test.workDir)
    const { messages, expectedReason, goodWithdrawals: good } = hostileFlood(test.codec, 10_000, 10 * DAY_MS)
    const decisions = await new TopicReader<Decision>(test, 'decisions').start()
    const deadLetters = await new TopicReader<DeadLetter>(test, 'deadLetters').start()
    const engine = engineOf(test).start()
    try {
      await produce(test, messages)
      await decisions.waitFor((values) => new Set(values.map((decision) => decision.withdrawalId)).size >= good, 150_000)
      await deadLetters.waitFor((values) => values.length >= expectedReason.size, 150_000)
      await settle(deadLetters as TopicReader<unknown>, 1000)

      const seen = new Map<string, string>()
      for (const letter of deadLetters.values) {
        const key = letter.key === null ? '' : Buffer.from(letter.key).toString()
        expect(seen.has(key), `two dead letters for ${key}`).toBe(false)
        seen.set(key, letter.reason)
      }
      const wrong = [...expectedReason].filter(([key, reason]) => seen.get(key) !== reason).slice(0, 5).map(([key, reason]) => `${key}: expected ${reason}, got ${seen.get(key)}`)
      expect(wrong).toEqual([])
      expect(seen.size).toBe(expectedReason.size)
      expect(new Set(decisions.values.map((decision) => decision.withdrawalId)).size).toBe(good)
      expect(decisions.values.every((decision) => decision.withdrawalId.startsWith('good-wd-'))).toBe(true)
      expect(engine.running).toBe(true)
      expect(engine.exits).toEqual([])
      const lines = engine.logLines()
      expect(lines.filter((line) => line.level >= 60)).toEqual([])
      expect(lines.filter((line) => /restarting the consumer|consumer crashed/.test(line.msg)).map((line) => line.msg)).toEqual([])
    } finally {
      await decisions.stop()
      await deadLetters.stop()
      expect(await engine.stop('SIGTERM')).toBe(0)
    }
  }, 240_000)
})
