/**
 * Late events through the pipeline (issue 3: "late events (beyond grace) counted in a metric and
 * logged with topic/partition/offset, never thrown and never silently lost"). A test-only
 * detector with a grace param, in a test-local registry, so the timeline below stays exact
 * whatever the shipped detectors' defaults become; one more case runs the shipped
 * withdrawal_velocity through the shipped rule set.
 */
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { deposit, player, withdrawal } from '../../bench/events.js'
import type { InputTopicKey } from '../../core/topics.js'
import { defineDetector, type Observation } from '../../detectors/detector.js'
import { DetectorRegistry } from '../../detectors/index.js'
import type { RuleSetDocument } from '../../detectors/rule-set.js'
import { insertByTime, isLate, retain, slidingWindow, type TimedWithId } from '../../detectors/windows.js'
import type { TaskMetrics } from '../../pipelines/partition-task.js'
import type { Alert } from '../../schemas/generated/types.js'
import { testPipeline } from '../support/pipeline.js'

const MINUTE = 60_000
const HOUR = 60 * MINUTE

interface BurstParams { readonly maxCount: number; readonly windowMs: number; readonly graceMs: number }

/**
 * deposit_burst (test only): more than `maxCount` deposits in a sliding window. A deposit fires
 * only when it is not late; a withdrawal is always evaluated (it must be decided). Late events
 * are stored, so later evaluations see them.
 */
const depositBurst = defineDetector({
  id: 'deposit_burst',
  version: 1,
  description: 'test-only: deposits per sliding window, with grace',
  accepts: ['deposit', 'withdrawal'] as const,
  params: {
    type: 'object', additionalProperties: false, required: ['maxCount', 'windowMs', 'graceMs'],
    properties: { maxCount: { type: 'integer', minimum: 0 }, windowMs: { type: 'integer', minimum: 1 }, graceMs: { type: 'integer', minimum: 0 } },
  },
  init: (): { deposits: TimedWithId[] } => ({ deposits: [] }),
  step(state, event, params: BurstParams, context) {
    const late = isLate(event.eventTimeMs, context.streamTimeMs, params.graceMs)
    const deposits = event.kind === 'deposit'
      ? retain(insertByTime(state.deposits, { eventId: event.eventId, eventTimeMs: event.eventTimeMs }), context.streamTimeMs, params.windowMs, params.graceMs)
      : state.deposits
    const inWindow = slidingWindow(deposits, event.eventTimeMs, params.windowMs)
    const observation: Observation = {
      hit: inWindow.length > params.maxCount, value: inWindow.length, threshold: params.maxCount, detail: `${inWindow.length} deposits in the window`,
      evidenceEventIds: inWindow.map((item) => item.eventId), windowStartMs: event.eventTimeMs - params.windowMs, windowEndMs: event.eventTimeMs,
    }
    const report = event.kind === 'withdrawal' || (observation.hit && !late)
    return { state: { deposits }, observation: report ? observation : null, late }
  },
})

const ruleSet: RuleSetDocument = {
  version: 'late-1',
  detectors: { deposit_burst: { enabled: true, severity: 'medium', action: 'hold_for_review', params: { maxCount: 1, windowMs: HOUR, graceMs: 10 * MINUTE } } },
}

async function alertIds(pipeline: Awaited<ReturnType<typeof testPipeline>>): Promise<string[]> {
  const ids: string[] = []
  for (const message of pipeline.driver.output('alerts')) {
    const decoded = await pipeline.codec.decode('alerts', message.value)
    if (!decoded.ok) throw new Error(decoded.message)
    ids.push((decoded.value as Alert).alertId)
  }
  return ids
}

class RecordingMetrics implements TaskMetrics {
  readonly late: string[] = []
  readonly processed: Partial<Record<InputTopicKey, number>> = {}
  eventsProcessed(topic: InputTopicKey, count: number): void { this.processed[topic] = (this.processed[topic] ?? 0) + count }
  deadLetter(): void {}
  decision(): void {}
  detectorError(): void {}
  duplicateInput(): void {}
  offsetGap(): void {}
  lateEvent(detectorId: string): void { this.late.push(detectorId) }
}

describe('late events through the pipeline', () => {
  it('counts and logs an event beyond grace, still processes it; out of order within grace is not late', async () => {
    const metrics = new RecordingMetrics()
    const logLines: Array<Record<string, unknown>> = []
    const logger = pino({ level: 'warn' }, { write: (line: string) => void logLines.push(JSON.parse(line) as Record<string, unknown>) })
    const pipeline = await testPipeline({ ruleSet, partitions: 1, detectors: new DetectorRegistry([depositBurst]), metrics, logger })

    pipeline.send('players', player({ playerId: 'p1', eventTimeMs: 0, jurisdiction: 'MT' }))
    // deposits topic, offsets 0..4; withdrawals topic, offsets 0..1 (grace 10 min, window 1 h, limit 1)
    pipeline.send('deposits', deposit({ playerId: 'p1', depositId: 'd1', eventTimeMs: 0 }))
    pipeline.send('deposits', deposit({ playerId: 'p1', depositId: 'd2', eventTimeMs: 30 * MINUTE })) // 2 in window: alert
    pipeline.send('deposits', deposit({ playerId: 'p1', depositId: 'd3', eventTimeMs: 25 * MINUTE })) // 5 min behind: within grace, alert
    pipeline.send('deposits', deposit({ playerId: 'p1', depositId: 'd4', eventTimeMs: 2 * HOUR }))
    pipeline.send('deposits', deposit({ playerId: 'p1', depositId: 'd5', eventTimeMs: HOUR })) // 60 min behind: late, no alert
    pipeline.send('withdrawals', withdrawal({ playerId: 'p1', withdrawalId: 'w0', eventTimeMs: 2 * HOUR + MINUTE }))
    pipeline.send('withdrawals', withdrawal({ playerId: 'p1', withdrawalId: 'w1', eventTimeMs: HOUR + 5 * MINUTE })) // late, still decided
    await pipeline.driver.run()

    // counted, once per late event and detector
    expect(metrics.late).toEqual(['deposit_burst', 'deposit_burst'])
    // logged with where it came from
    const lateLogs = logLines.filter((line) => line.msg === 'late event: behind a closed window')
    expect(lateLogs.map(({ topic, partition, offset, detectorId, eventTimeMs, streamTimeMs }) => ({ topic, partition, offset, detectorId, eventTimeMs, streamTimeMs }))).toEqual([
      { topic: 'casino.deposits.v1', partition: 0, offset: '4', detectorId: 'deposit_burst', eventTimeMs: HOUR, streamTimeMs: 2 * HOUR },
      { topic: 'casino.withdrawals.v1', partition: 0, offset: '1', detectorId: 'deposit_burst', eventTimeMs: HOUR + 5 * MINUTE, streamTimeMs: 2 * HOUR + MINUTE },
    ])
    // still processed: every input counted, nothing dead-lettered, the late withdrawal decided
    expect(metrics.processed).toEqual({ players: 1, deposits: 5, withdrawals: 2 })
    expect(await pipeline.deadLetters()).toEqual([])
    const decisions = await pipeline.decisions()
    expect(decisions.map((decision) => decision.decisionId).sort()).toEqual(['w0:1', 'w1:1'])
    // the late deposit d5 was stored: w1's window (5 min, 65 min] holds it (d2 and d3 are past retention by then)
    const w1 = decisions.find((decision) => decision.withdrawalId === 'w1')
    expect(w1?.executions).toEqual([{ detectorId: 'deposit_burst', detectorVersion: 1, status: 'NO_HIT', value: 1, threshold: 1, detail: '1 deposits in the window' }])
    // alerts from d2 and d3 (within grace); none from the late d5 although its window holds 2 deposits
    expect(await alertIds(pipeline)).toEqual(['deposit_burst@1:ev:d2', 'deposit_burst@1:ev:d3'])
  })

  it('does not count the same delay as late when the grace covers it, and then the event may fire', async () => {
    const metrics = new RecordingMetrics()
    const rule = ruleSet.detectors.deposit_burst
    if (rule === undefined) throw new Error('no deposit_burst rule')
    const generous: RuleSetDocument = { version: 'late-2', detectors: { deposit_burst: { ...rule, params: { ...rule.params, graceMs: 2 * HOUR } } } }
    const pipeline = await testPipeline({ ruleSet: generous, partitions: 1, detectors: new DetectorRegistry([depositBurst]), metrics })
    pipeline.send('deposits', deposit({ playerId: 'p1', depositId: 'd1', eventTimeMs: 50 * MINUTE }))
    pipeline.send('deposits', deposit({ playerId: 'p1', depositId: 'd4', eventTimeMs: 2 * HOUR }))
    pipeline.send('deposits', deposit({ playerId: 'p1', depositId: 'd5', eventTimeMs: HOUR })) // 60 min behind, grace 2 h
    await pipeline.driver.run()
    expect(metrics.late).toEqual([])
    // d5's window (0, 60 min] holds d1 and d5: over the limit of 1, and not late, so it fires
    expect(await alertIds(pipeline)).toEqual(['deposit_burst@1:ev:d5'])
    expect(metrics.processed).toEqual({ deposits: 3 })
  })

  it('with the shipped detectors and rule set: a withdrawal request beyond withdrawal_velocity grace is counted, logged and still decided', async () => {
    const metrics = new RecordingMetrics()
    const logLines: Array<Record<string, unknown>> = []
    const logger = pino({ level: 'warn' }, { write: (line: string) => void logLines.push(JSON.parse(line) as Record<string, unknown>) })
    const pipeline = await testPipeline({ partitions: 1, metrics, logger })
    pipeline.send('players', player({ playerId: 'p1', eventTimeMs: 0, jurisdiction: 'MT' }))
    pipeline.send('withdrawals', withdrawal({ playerId: 'p1', withdrawalId: 'w-now', eventTimeMs: 2 * HOUR }))
    pipeline.send('withdrawals', withdrawal({ playerId: 'p1', withdrawalId: 'w-late', eventTimeMs: HOUR })) // an hour behind; shipped grace is minutes
    await pipeline.driver.run()
    expect(metrics.late).toContain('withdrawal_velocity')
    expect(logLines.filter((line) => line.msg === 'late event: behind a closed window' && line.detectorId === 'withdrawal_velocity'))
      .toEqual([expect.objectContaining({ topic: 'casino.withdrawals.v1', offset: '1', eventTimeMs: HOUR, streamTimeMs: 2 * HOUR })])
    const late = (await pipeline.decisions()).find((decision) => decision.withdrawalId === 'w-late')
    expect(late?.executions.find((execution) => execution.detectorId === 'withdrawal_velocity')).toMatchObject({ status: 'NO_HIT' })
  })
})
