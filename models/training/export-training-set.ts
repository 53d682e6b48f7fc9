/**
 * Exports a labelled training set to CSV: one row per withdrawal request of a replayed fixture,
 * with the feature vector as it was at decision time (models/features.ts) and a label.
 *
 * Replay: the events go through the real `EventProcessor` (every registered detector under the
 * shipped rule set), in event-time order, one player state per player — the step a partition task
 * runs, without the codec and the driver (they do not change state, and the partition task does
 * not expose the state *before* a withdrawal, which is what the features need). Wire records are
 * turned into domain events with the real adapter (`toInputEvent`).
 *
 * LABELS ARE SYNTHETIC until the casino simulator (its own issue) plants typologies and case
 * outcomes exist. The rule: `bench/fixture.ts` plants "burst" players whose sessions sometimes
 * carry 2 to 5 withdrawal requests 20 minutes apart, while every other session carries at most
 * one. A withdrawal is labelled 1 when its session (the `wd-<player>-<session>-<n>` id) holds two
 * or more requests, i.e. it is part of a planted burst; otherwise 0. A model trained on it learns
 * the fixture's generator, not fraud: its metrics say the pipeline works end to end, nothing more.
 *
 * Writes `<out>` and `<out>.contract.json` (the feature contract, for train.py's manifest).
 *
 * Usage (from the repository root):
 *   npx tsx models/training/export-training-set.ts --out /tmp/training-set.csv --seed 7 --players 1000 --days 14
 */
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { generateFixture, type FixtureEvent } from '../../bench/fixture.js'
import { RiskError } from '../../core/errors.js'
import { DetectorRegistry } from '../../detectors/index.js'
import { RuleSet } from '../../detectors/rule-set.js'
import { EventProcessor, newPlayerState, type PlayerState } from '../../pipelines/processor.js'
import { toInputEvent } from '../../schemas/adapters.js'
import type { InputEvent, WithdrawalEvent } from '../../schemas/domain.js'
import { extractFeatures, featureContract, FEATURE_NAMES } from '../features.js'

export const DEFAULT_RULE_SET_PATH = new URL('../../detectors/rule-sets/default.json', import.meta.url).pathname

/** One exported row: identifiers, the synthetic label and the features in contract order. */
export interface TrainingRow {
  readonly withdrawalId: string
  readonly playerId: string
  readonly eventTimeMs: number
  readonly label: 0 | 1
  readonly features: Float32Array
}

/** The documented labelling rule (see the file comment): part of a session with ≥ 2 requests. */
export function burstLabels(events: readonly FixtureEvent[]): Map<string, 0 | 1> {
  const perSession = new Map<string, string[]>()
  for (const event of events) {
    if (event.topic !== 'withdrawals' || event.value.type !== 'REQUESTED') continue
    const session = event.value.withdrawalId.replace(/-\d+$/, '')
    const list = perSession.get(session) ?? []
    list.push(event.value.withdrawalId)
    perSession.set(session, list)
  }
  const labels = new Map<string, 0 | 1>()
  for (const ids of perSession.values()) for (const id of ids) labels.set(id, ids.length >= 2 ? 1 : 0)
  return labels
}

/**
 * Replays `events` (in event-time order) and returns one row per withdrawal request, with the
 * features computed from the player's state just before the request is stepped.
 *
 * Example: buildTrainingSet(generateFixture({ seed: 7, players: 50, days: 3 }), ruleSet, registry)
 */
export function buildTrainingSet(events: readonly FixtureEvent[], ruleSet: RuleSet, registry: DetectorRegistry): TrainingRow[] {
  const processor = new EventProcessor(registry)
  const labels = burstLabels(events)
  const players = new Map<string, PlayerState>()
  const rows: TrainingRow[] = []
  let streamTimeMs = Number.NEGATIVE_INFINITY
  for (const [offset, fixtureEvent] of events.entries()) {
    const converted = toInputEvent(fixtureEvent.topic, fixtureEvent.value as never)
    if (!converted.ok) throw new RiskError('RISK_ERR_INVALID_FIELD', `fixture event ${offset} is invalid: ${converted.message}`, { topic: fixtureEvent.topic, offset })
    const event = converted.event as InputEvent
    streamTimeMs = Math.max(streamTimeMs, event.eventTimeMs)
    const before = players.get(event.playerId) ?? newPlayerState()
    if (event.kind === 'withdrawal' && event.type === 'REQUESTED' && before.withdrawals[event.withdrawalId] === undefined) {
      rows.push({
        withdrawalId: event.withdrawalId, playerId: event.playerId, eventTimeMs: event.eventTimeMs,
        label: labels.get(event.withdrawalId) ?? 0, features: extractFeatures(before, event as WithdrawalEvent),
      })
    }
    const result = processor.process(event, before, ruleSet, { topic: fixtureEvent.topic, partition: 0, offset }, streamTimeMs)
    players.set(event.playerId, result.player)
  }
  return rows
}

/** CSV with a header; NaN is written as `nan` (Python's float() and numpy read it). */
export function toCsv(rows: readonly TrainingRow[]): string {
  const lines = [['withdrawal_id', 'player_id', 'event_time_ms', 'label', ...FEATURE_NAMES].join(',')]
  for (const row of rows) {
    const values = Array.from(row.features, (value) => (Number.isNaN(value) ? 'nan' : String(value)))
    lines.push([row.withdrawalId, row.playerId, row.eventTimeMs, row.label, ...values].join(','))
  }
  return `${lines.join('\n')}\n`
}

function main(): void {
  const { values } = parseArgs({
    options: {
      out: { type: 'string' },
      seed: { type: 'string', default: '7' },
      players: { type: 'string', default: '1000' },
      days: { type: 'string', default: '14' },
      'rule-set': { type: 'string', default: DEFAULT_RULE_SET_PATH },
    },
  })
  if (values.out === undefined) throw new RiskError('RISK_ERR_CONFIG_INVALID', 'pass --out <file.csv> (where to write the training set)')
  const registry = new DetectorRegistry()
  const ruleSet = RuleSet.load(values['rule-set'], registry)
  const events = generateFixture({ seed: Number(values.seed), players: Number(values.players), days: Number(values.days) })
  const rows = buildTrainingSet(events, ruleSet, registry)
  writeFileSync(values.out, toCsv(rows))
  // The contract travels with the rows so train.py copies it into the manifest verbatim.
  writeFileSync(`${values.out}.contract.json`, `${JSON.stringify(featureContract(), null, 2)}\n`)
  const positives = rows.filter((row) => row.label === 1).length
  process.stdout.write(`${rows.length} rows (${positives} labelled 1, synthetic burst labels) from ${events.length} events -> ${values.out}\n`)
}

if (import.meta.url === `file://${process.argv[1]}`) main()
