/**
 * Swapping the rule set while events flow (issue 3: "a test swaps the rule set while events
 * flow and shows decisions before and after carrying the two versions, with nothing dropped").
 * The holder is swapped the way the engine's file watcher does it: `RuleSetHolder.activate`
 * between driver runs, and between two batches of one run (from the metrics callback a task
 * calls after each checkpointed batch).
 */
import fs from 'node:fs'
import { describe, expect, it } from 'vitest'
import { deposit, player, withdrawal } from '../../bench/events.js'
import { DetectorRegistry } from '../../detectors/index.js'
import { RuleSet, type RuleSetDocument } from '../../detectors/rule-set.js'
import { noopTaskMetrics, type TaskMetrics } from '../../pipelines/partition-task.js'
import type { Decision } from '../../schemas/generated/types.js'
import { DEFAULT_RULE_SET_PATH, testPipeline } from '../support/pipeline.js'

const HOUR = 60 * 60 * 1000
const shipped = JSON.parse(fs.readFileSync(DEFAULT_RULE_SET_PATH, 'utf8')) as RuleSetDocument

/**
 * The shipped withdrawal_velocity rule (MT: 3 a day) alone, so the outcome follows the version
 * under test and not other detectors. B lowers the daily limit to 1 everywhere.
 */
function velocityOnly(version: string, maxCount?: number): RuleSetDocument {
  const rule = shipped.detectors.withdrawal_velocity
  if (rule === undefined) throw new Error('the shipped rule set has no withdrawal_velocity rule')
  const overrides = (shipped.overrides ?? [])
    .filter((override) => override.detectors.withdrawal_velocity !== undefined)
    .map((override) => ({ match: override.match, detectors: { withdrawal_velocity: override.detectors.withdrawal_velocity as object } }))
  return {
    version,
    detectors: { withdrawal_velocity: maxCount === undefined ? rule : { ...rule, params: { ...rule.params, maxCount } } },
    overrides: maxCount === undefined ? overrides : [],
  }
}

const A = velocityOnly('swap-A')
const B = { ...velocityOnly('swap-B', 1), previousVersion: 'swap-A', author: 'test@compliance' }

const velocityOf = (decision: Decision) => decision.executions.find((execution) => execution.detectorId === 'withdrawal_velocity')

/** Every withdrawal decided exactly once: the decision ids are the withdrawal ids, each once. */
function expectEachDecidedOnce(decisions: readonly Decision[], withdrawalIds: readonly string[]): void {
  expect(decisions.map((decision) => decision.decisionId).sort()).toEqual(withdrawalIds.map((id) => `${id}:1`).sort())
}

describe('rule-set swap while events flow', () => {
  it('between driver runs: decisions before carry A and its limit, after carry B and its limit', async () => {
    const pipeline = await testPipeline({ ruleSet: A, partitions: 2 })
    const registry = new DetectorRegistry()
    const players = ['p0', 'p1', 'p2', 'p3']
    const ids: string[] = []
    const request = (playerId: string, hour: number): void => {
      const withdrawalId = `${playerId}-w${hour}`
      ids.push(withdrawalId)
      pipeline.send('withdrawals', withdrawal({ playerId, withdrawalId, eventTimeMs: hour * HOUR }))
    }
    for (const playerId of players) pipeline.send('players', player({ playerId, eventTimeMs: 0, jurisdiction: 'MT', tier: 'VERIFIED' }))
    for (const hour of [1, 2]) for (const playerId of players) request(playerId, hour)
    await pipeline.driver.run()
    const before = await pipeline.decisions()

    expect(pipeline.ruleSets.activate(RuleSet.parse(B, registry)).version).toBe('swap-A')
    for (const playerId of players) request(playerId, 3)
    await pipeline.driver.run()
    const all = await pipeline.decisions()
    const after = all.filter((decision) => !before.some((earlier) => earlier.decisionId === decision.decisionId))

    expectEachDecidedOnce(all, ids)
    expect(before).toHaveLength(8)
    expect(before.every((decision) => decision.ruleSetVersion === 'swap-A' && decision.outcome === 'APPROVE')).toBe(true)
    expect(before.map((decision) => velocityOf(decision)?.threshold)).toEqual(Array(8).fill(3))
    // the third request of the day: within A's limit of 3, over B's limit of 1
    expect(after.map((decision) => [decision.ruleSetVersion, decision.outcome, velocityOf(decision)?.status, velocityOf(decision)?.value, velocityOf(decision)?.threshold]))
      .toEqual(Array(4).fill(['swap-B', 'REVIEW', 'HIT', 3, 1]))
    // alerts carry the version of the rule that fired
    expect(pipeline.driver.output('alerts')).toHaveLength(4)
  })

  it('between two batches of one run: A up to the swap, B from the next batch on, one version per batch, nothing dropped', async () => {
    const batchSize = 5
    const swapAfterBatches = 3
    const registry = new DetectorRegistry()
    let batches = 0
    let decidedUnderA = 0
    let refused: unknown = null
    const pipelineRef: { current: Awaited<ReturnType<typeof testPipeline>> | null } = { current: null }
    const metrics: TaskMetrics = {
      ...noopTaskMetrics,
      // called per input topic after each checkpointed batch, with that batch's count
      eventsProcessed: (topic, count) => {
        if (topic !== 'withdrawals' || batches >= swapAfterBatches) return
        batches += 1
        decidedUnderA += count
        if (batches !== swapAfterBatches) return
        const holder = pipelineRef.current?.ruleSets
        // the same version with other content is refused, and A stays in force ...
        try {
          holder?.activate(RuleSet.parse({ ...A, detectors: B.detectors }, registry))
        } catch (error) {
          refused = error
        }
        // ... a new version is taken from the next batch on
        holder?.activate(RuleSet.parse(B, registry))
      },
    }
    const pipeline = await testPipeline({ ruleSet: A, partitions: 1, batchSize, fetchSize: 10, metrics })
    pipelineRef.current = pipeline

    // three MT players, a deposit before every withdrawal, all at distinct event times
    const timeline: Array<{ topic: 'withdrawals' | 'deposits'; eventTimeMs: number; playerId: string; id: string }> = []
    for (let index = 0; index < 24; index += 1) {
      const playerId = `p${index % 3}`
      const eventTimeMs = (index + 1) * HOUR
      timeline.push({ topic: 'deposits', eventTimeMs: eventTimeMs - 60_000, playerId, id: `${playerId}-d${index}` })
      timeline.push({ topic: 'withdrawals', eventTimeMs, playerId, id: `${playerId}-w${index}` })
    }
    for (const playerId of ['p0', 'p1', 'p2']) pipeline.send('players', player({ playerId, eventTimeMs: 0, jurisdiction: 'MT' }))
    for (const event of timeline) {
      if (event.topic === 'deposits') pipeline.send('deposits', deposit({ playerId: event.playerId, depositId: event.id, eventTimeMs: event.eventTimeMs }))
      else pipeline.send('withdrawals', withdrawal({ playerId: event.playerId, withdrawalId: event.id, eventTimeMs: event.eventTimeMs }))
    }
    await pipeline.driver.run()

    expect(String(refused)).toMatch(/version 'swap-A' was already loaded with other content/)
    expect(pipeline.ruleSets.current.version).toBe('swap-B')
    // one partition: decisions come out in processing order
    const decisions = await pipeline.decisions()
    expectEachDecidedOnce(decisions, timeline.filter((event) => event.topic === 'withdrawals').map((event) => event.id))
    // A for the withdrawals of the batches up to the swap, B for all the rest, never mixed
    const versions = decisions.map((decision) => decision.ruleSetVersion)
    // The swap happens when the metrics of batch `swapAfterBatches` are counted, after its outputs
    // are acknowledged; the task may have processed one more batch under A meanwhile.
    const underACount = versions.filter((version) => version === 'swap-A').length
    expect(decidedUnderA).toBeGreaterThan(0)
    expect(underACount).toBeGreaterThanOrEqual(decidedUnderA)
    expect(underACount).toBeLessThanOrEqual(batchSize * (swapAfterBatches + 1))
    expect(underACount).toBeLessThan(24)
    expect(versions).toEqual([...Array(underACount).fill('swap-A'), ...Array(24 - underACount).fill('swap-B')])
    // the rules, not only the label, changed: each decision used its version's threshold
    expect(decisions.every((decision) => velocityOf(decision)?.threshold === (decision.ruleSetVersion === 'swap-A' ? 3 : 1))).toBe(true)
    // detector state carried over the swap: a player's first request under B counts the ones decided under A
    const underA = decisions.slice(0, underACount)
    const carried = decisions.slice(underACount).find((decision) => underA.some((earlier) => earlier.playerId === decision.playerId)) as Decision
    const earlierOfPlayer = underA.filter((earlier) => earlier.playerId === carried.playerId).length
    expect(velocityOf(carried)).toMatchObject({ status: 'HIT', value: earlierOfPlayer + 1, threshold: 1 })
    expect(carried.outcome).toBe('REVIEW')
  })
})
