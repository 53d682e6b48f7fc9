/**
 * Exports a labelled training set to CSV: one row per withdrawal request of a replayed population
 * (the casino simulator's, or the old fixture's), with the feature vector as it was at decision
 * time (models/features.ts) and a label.
 *
 * Replay: the events go through the real `EventProcessor` (every registered detector under the
 * shipped rule set), in event-time order, one player state per player — the step a partition task
 * runs, without the codec and the driver (they do not change state, and the partition task does
 * not expose the state *before* a withdrawal, which is what the features need). Wire records are
 * turned into domain events with the real adapter (`toInputEvent`).
 *
 * Two sources (`--source`):
 * - `simulator` (the default, what the shipped model is trained on): `simulate()` of
 *   bench/simulator for several seeds, labels from its PLANTED TYPOLOGIES. A withdrawal request is
 *   labelled 1 when its player is named by a typology label (`simulation.labels`) and the request
 *   is at or after the label's `fromMs` (inside or after the typology's window: money laundered
 *   earlier is still being cashed out), otherwise 0. The seeds default to 101..110, so the demo's
 *   population (seed 7) stays out of sample. The labels are the simulator's ground truth, not case
 *   outcomes: a model trained on them learns what the simulator's typologies look like through the
 *   features, which is a test of the path, not evidence about real fraud (docs/models.md).
 *   Player and withdrawal ids are prefixed `s<seed>:` so two seeds never share a player (train.py
 *   splits by player).
 * - `fixture` (the first model's): `bench/fixture.ts` with SYNTHETIC burst labels. The fixture
 *   plants "burst" players whose sessions sometimes carry 2 to 5 withdrawal requests 20 minutes
 *   apart, while every other session carries at most one; a withdrawal is labelled 1 when its
 *   session (the `wd-<player>-<session>-<n>` id) holds two or more requests. Kept to reproduce
 *   `withdrawal-burst-xgb-v1`; a model trained on it learns the fixture's generator, not fraud.
 *
 * Writes `<out>`, `<out>.contract.json` (the feature contract, for train.py's manifest) and
 * `<out>.provenance.json` (source, seeds, what the labels mean, the command; train.py copies it
 * into the manifest).
 *
 * Usage (from the repository root):
 *   npx tsx models/training/export-training-set.ts --out /tmp/training-set.csv --source simulator --seeds 101-110 --players 2000 --days 14
 *   npx tsx models/training/export-training-set.ts --out /tmp/training-set.csv --source fixture --seed 7 --players 1000 --days 14
 */
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { generateFixture, type FixtureEvent } from '../../bench/fixture.js'
import { loadSanctionedName } from '../../bench/simulator/sanctions.js'
import { simulate } from '../../bench/simulator/simulate.js'
import type { Typology, TypologyLabel } from '../../bench/simulator/world.js'
import { loadConfig } from '../../core/config.js'
import { RiskError } from '../../core/errors.js'
import { DetectorRegistry } from '../../detectors/index.js'
import { RuleSet } from '../../detectors/rule-set.js'
import { EventProcessor, newPlayerState, type PlayerState } from '../../pipelines/processor.js'
import { toInputEvent } from '../../schemas/adapters.js'
import type { InputEvent, WithdrawalEvent } from '../../schemas/domain.js'
import { extractFeatures, featureContract, FEATURE_NAMES } from '../features.js'

export const DEFAULT_RULE_SET_PATH = new URL('../../detectors/rule-sets/default.json', import.meta.url).pathname

/** One exported row: identifiers, the label and the features in contract order. */
export interface TrainingRow {
  readonly withdrawalId: string
  readonly playerId: string
  readonly eventTimeMs: number
  readonly label: 0 | 1
  /** The planted typology behind a label 1 (simulator source); null otherwise. Not written to the CSV. */
  readonly typology: Typology | null
  readonly features: Float32Array
}

/** How a withdrawal request is labelled: 1 with the typology behind it, or 0. */
export type Labeller = (withdrawal: WithdrawalEvent) => { readonly label: 0 | 1; readonly typology: Typology | null }

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

function burstLabeller(events: readonly FixtureEvent[]): Labeller {
  const labels = burstLabels(events)
  return (withdrawal) => ({ label: labels.get(withdrawal.withdrawalId) ?? 0, typology: null })
}

/**
 * The simulator's labelling rule (see the file comment): 1 when a typology label names the
 * withdrawal's player and the request is at or after the label's `fromMs`.
 *
 * Example: typologyLabeller([{ typology: 'pass_through', playerIds: ['p9'], fromMs: 100, toMs: 900 }])(withdrawalOf('p9', 1_000)) -> { label: 1, typology: 'pass_through' }
 */
export function typologyLabeller(labels: readonly TypologyLabel[]): (request: Pick<WithdrawalEvent, 'playerId' | 'eventTimeMs'>) => ReturnType<Labeller> {
  const byPlayer = new Map<string, TypologyLabel[]>()
  for (const label of labels) for (const playerId of label.playerIds) byPlayer.set(playerId, [...(byPlayer.get(playerId) ?? []), label])
  return (withdrawal) => {
    const match = byPlayer.get(withdrawal.playerId)?.find((label) => withdrawal.eventTimeMs >= label.fromMs)
    return match === undefined ? { label: 0, typology: null } : { label: 1, typology: match.typology }
  }
}

/**
 * Replays `events` (in event-time order) and returns one row per withdrawal request, with the
 * features computed from the player's state just before the request is stepped. Labels come from
 * `labeller`; by default the fixture's burst rule.
 *
 * Example: buildTrainingSet(generateFixture({ seed: 7, players: 50, days: 3 }), ruleSet, registry)
 */
export function buildTrainingSet(events: readonly FixtureEvent[], ruleSet: RuleSet, registry: DetectorRegistry, labeller?: Labeller): TrainingRow[] {
  const processor = new EventProcessor(registry)
  const labelOf = labeller ?? burstLabeller(events)
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
      const { label, typology } = labelOf(event as WithdrawalEvent)
      rows.push({
        withdrawalId: event.withdrawalId, playerId: event.playerId, eventTimeMs: event.eventTimeMs,
        label, typology, features: extractFeatures(before, event as WithdrawalEvent),
      })
    }
    const result = processor.process(event, before, ruleSet, { topic: fixtureEvent.topic, partition: 0, offset }, streamTimeMs)
    players.set(event.playerId, result.player)
  }
  return rows
}

export interface SimulatorTrainingOptions {
  readonly seeds: readonly number[]
  readonly players: number
  readonly days: number
  /** The sanctioned name planted for a seed (bench/simulator/sanctions.ts); null plants none. */
  readonly sanctionedNameOf?: (seed: number) => Parameters<typeof simulate>[0]['sanctionedName']
  readonly onSeed?: (seed: number, rows: number, events: number) => void
}

/**
 * Simulates each seed, replays it through the processor and labels the requests by the planted
 * typologies; ids are prefixed `s<seed>:` so seeds never share a player.
 *
 * Example: buildSimulatorTrainingSet({ seeds: [101, 102], players: 500, days: 1 }, ruleSet, registry)
 */
export function buildSimulatorTrainingSet(options: SimulatorTrainingOptions, ruleSet: RuleSet, registry: DetectorRegistry): TrainingRow[] {
  const rows: TrainingRow[] = []
  for (const seed of options.seeds) {
    const simulation = simulate({ seed, players: options.players, days: options.days, sanctionedName: options.sanctionedNameOf?.(seed) ?? null })
    const seedRows = buildTrainingSet(simulation.events, ruleSet, registry, typologyLabeller(simulation.labels))
    for (const row of seedRows) rows.push({ ...row, withdrawalId: `s${seed}:${row.withdrawalId}`, playerId: `s${seed}:${row.playerId}` })
    options.onSeed?.(seed, seedRows.length, simulation.events.length)
  }
  return rows
}

/** `101-110` or `101,103,105` -> the seeds. */
export function parseSeeds(text: string): number[] {
  const range = /^(\d+)-(\d+)$/.exec(text.trim())
  const seeds = range === null
    ? text.split(',').map((part) => Number(part.trim()))
    : Array.from({ length: Number(range[2]) - Number(range[1]) + 1 }, (_, index) => Number(range[1]) + index)
  if (seeds.length === 0 || seeds.some((seed) => !Number.isInteger(seed) || seed < 0)) {
    throw new RiskError('RISK_ERR_CONFIG_INVALID', `--seeds must be a range like 101-110 or a list like 101,102, got '${text}'`)
  }
  return seeds
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

function wholeNumber(name: string, text: string, minimum: number): number {
  const value = Number(text)
  if (!Number.isInteger(value) || value < minimum) throw new RiskError('RISK_ERR_CONFIG_INVALID', `--${name} must be a whole number >= ${minimum}, got '${text}'`)
  return value
}

function main(): void {
  const { values } = parseArgs({
    options: {
      out: { type: 'string' },
      source: { type: 'string', default: 'simulator' },
      seeds: { type: 'string', default: '101-110' },
      seed: { type: 'string', default: '7' },
      players: { type: 'string' },
      days: { type: 'string' },
      'rule-set': { type: 'string', default: DEFAULT_RULE_SET_PATH },
    },
  })
  if (values.out === undefined) throw new RiskError('RISK_ERR_CONFIG_INVALID', 'pass --out <file.csv> (where to write the training set)')
  if (values.source !== 'simulator' && values.source !== 'fixture') throw new RiskError('RISK_ERR_CONFIG_INVALID', `--source must be simulator or fixture, got '${values.source}'`)
  const registry = new DetectorRegistry()
  const ruleSet = RuleSet.load(values['rule-set'], registry)
  const command = `npx tsx models/training/export-training-set.ts ${process.argv.slice(2).join(' ')}`
  let rows: TrainingRow[]
  let provenance: Record<string, unknown>
  if (values.source === 'simulator') {
    const seeds = parseSeeds(values.seeds)
    const players = wholeNumber('players', values.players ?? '2000', 1)
    const days = wholeNumber('days', values.days ?? '14', 1)
    const referenceDataDir = loadConfig().referenceDataDir
    rows = buildSimulatorTrainingSet({
      seeds, players, days, sanctionedNameOf: (seed) => loadSanctionedName(referenceDataDir, seed),
      onSeed: (seed, seedRows, events) => process.stderr.write(`seed ${seed}: ${events} events, ${seedRows} withdrawal requests\n`),
    }, ruleSet, registry)
    provenance = {
      source: 'simulator', seeds, players, days, ruleSetVersion: ruleSet.version, command,
      labels: 'PLANTED TYPOLOGIES of bench/simulator (simulation.labels): 1 when the player is named by a typology label and the request is at or after its fromMs, else 0; the simulator\'s ground truth, not case outcomes',
      positivesByTypology: countByTypology(rows),
    }
  } else {
    const events = generateFixture({ seed: wholeNumber('seed', values.seed, 0), players: wholeNumber('players', values.players ?? '1000', 1), days: wholeNumber('days', values.days ?? '14', 1) })
    rows = buildTrainingSet(events, ruleSet, registry)
    provenance = {
      source: 'fixture', seed: Number(values.seed), ruleSetVersion: ruleSet.version, command,
      labels: 'SYNTHETIC: planted withdrawal bursts of bench/fixture.ts (a session with >= 2 requests); not case outcomes',
    }
  }
  writeFileSync(values.out, toCsv(rows))
  // The contract travels with the rows so train.py copies it into the manifest verbatim.
  writeFileSync(`${values.out}.contract.json`, `${JSON.stringify(featureContract(), null, 2)}\n`)
  writeFileSync(`${values.out}.provenance.json`, `${JSON.stringify(provenance, null, 2)}\n`)
  const positives = rows.filter((row) => row.label === 1).length
  process.stdout.write(`${rows.length} rows, ${positives} labelled 1 (${(100 * positives / Math.max(1, rows.length)).toFixed(2)} %, ${values.source} labels) -> ${values.out}\n`)
}

function countByTypology(rows: readonly TrainingRow[]): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const row of rows) if (row.typology !== null) counts[row.typology] = (counts[row.typology] ?? 0) + 1
  return counts
}

if (import.meta.url === `file://${process.argv[1]}`) main()
