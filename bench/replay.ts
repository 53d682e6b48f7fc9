/**
 * Replay (backtest): a recorded file of input events through the same pipeline code the engine
 * runs (Avro codec, decoder, partition tasks, detectors and rule set on the in-memory driver), no
 * broker. Prints alerts per detector, decisions per outcome and, given labels, precision and
 * recall per planted typology.
 *
 *   tsx bench/replay.ts --events events.jsonl [--labels labels.jsonl] [--rule-set FILE] [--partitions N]
 *
 * When is a typology caught? For a labelled player, when an alert of a detector mapped to the
 * typology (TYPOLOGY_DETECTORS) names that player with an event time inside the label's
 * [fromMs, toMs]. Recall = labelled players caught / labelled players (and the same per
 * instance: an instance is caught when any of its players is). Precision = alerts of the mapped
 * detectors that catch a player of that typology / alerts of those detectors, leaving out alerts
 * that catch a player of another typology the same detector is mapped to (pass_through serves
 * three: its alerts on a ring member count for the ring, neither for nor against pass-through).
 *
 * Example: const { report } = await replayEvents(readEvents('events.jsonl'), { labels }); formatReport(report)
 */
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { loadConfig } from '../core/config.js'
import { RiskError } from '../core/errors.js'
import { silentLogger } from '../core/logger.js'
import type { ScreenFunction } from '../detectors/detector.js'
import { DetectorRegistry } from '../detectors/index.js'
import { RuleSet, RuleSetHolder } from '../detectors/rule-set.js'
import { RegistryRecordDecoder } from '../pipelines/decoder.js'
import { MemoryDriver } from '../pipelines/memory-driver.js'
import { EventProcessor, type ScoredWithdrawal } from '../pipelines/processor.js'
import { createMemoryStore } from '../pipelines/state/store.js'
import { AvroCodec } from '../schemas/codec.js'
import { loadScreenFunction } from '../screening/screen-function.js'
import { loadModelService, type ModelService } from '../models/service.js'
import { systemClock } from '../core/clock.js'
import type { PitbossConfig } from '../core/config.js'
import type { Alert, Decision, DecisionOutcome } from '../schemas/generated/types.js'
import { memorySchemaRegistry } from './lib/replay.js'
import { readEvents, readLabels } from './simulator/json-lines.js'
import { progressBar } from '../core/progress.js'
import { TYPOLOGIES, type SimulatedEvent, type Typology, type TypologyLabel } from './simulator/world.js'

export const DEFAULT_RULE_SET_PATH = new URL('../detectors/rule-sets/default.json', import.meta.url).pathname

/**
 * Which detectors can catch each planted typology today. Farms, rings and chip receivers are
 * caught only through per-account detectors (pass_through sees chip transfers and ring transfers
 * received, re-keyed to the receiver): as structures they need the link graph (shared devices
 * and cards, transfer rings).
 */
export const TYPOLOGY_DETECTORS: Readonly<Record<Typology, readonly string[]>> = {
  [TYPOLOGIES.structuring]: ['deposit_structuring'],
  [TYPOLOGIES.passThrough]: ['pass_through'],
  // The farm's shared card is in the controller's name, not the accounts'; the shared device is the link graph's (graph worker alerts: live runs only).
  [TYPOLOGIES.multiAccountFarm]: ['instrument_name_mismatch', 'graph_multi_account_farm'],
  // Per account: the bonus cashed out unwagered, bonus money staked over the maximum bet; the farm as such is the link graph's.
  [TYPOLOGIES.bonusAbuseFarm]: ['bonus_wagering_unmet', 'bonus_max_bet', 'graph_bonus_abuse_farm', 'graph_referral_ring'],
  // The dumper's chip transfers are a pass-through; the pair at the table is the link graph's.
  [TYPOLOGIES.chipDumping]: ['pass_through', 'graph_table_collusion_chip_flow', 'graph_table_collusion_opposing_bets'],
  // Each sender is a pass-through; the ring as such is the link graph's.
  [TYPOLOGIES.moneyFlowRing]: ['pass_through', 'graph_cycle', 'graph_fan_in', 'graph_fan_out', 'graph_scatter_gather'],
  [TYPOLOGIES.sanctionedName]: ['sanctions_potential_match', 'sanctions_confirmed_match'],
  [TYPOLOGIES.impossibleTravel]: ['impossible_travel'],
  [TYPOLOGIES.lossChasing]: ['loss_chasing'],
}

export interface DetectorSignals {
  readonly detectorId: string
  readonly alerts: number
  /** Distinct players alerted. */
  readonly players: number
  /** Alerts naming a labelled player (any typology) inside its label's window; null without labels. */
  readonly onLabelledPlayers: number | null
}

export interface TypologyScore {
  readonly typology: Typology
  readonly detectors: readonly string[]
  readonly instances: number
  readonly instancesCaught: number
  readonly players: number
  readonly playersCaught: number
  /** playersCaught / players; null when nothing is labelled. */
  readonly recall: number | null
  /** Alerts of the mapped detectors counted for this typology (see the header on precision). */
  readonly alerts: number
  readonly truePositiveAlerts: number
  /** truePositiveAlerts / alerts; null when the mapped detectors raised no alert (or none is mapped). */
  readonly precision: number | null
}

export interface ReplayReport {
  readonly events: number
  readonly alerts: number
  readonly deadLetters: number
  readonly decisions: Readonly<Record<DecisionOutcome, number>>
  readonly elapsedMs: number
  readonly byDetector: readonly DetectorSignals[]
  readonly byTypology: readonly TypologyScore[] | null
}

export interface ReplayOptions {
  readonly labels?: readonly TypologyLabel[]
  readonly ruleSetPath?: string
  readonly partitions?: number
  /** Events handed to the driver between two runs of it (the progress bar's step). */
  readonly chunkEvents?: number
  readonly onProgress?: (doneEvents: number, totalEvents: number) => void
  /** Sanctions screening, as the engine has it (screening/screen-function.ts); none by default. */
  readonly screen?: ScreenFunction | null
  /** The model service, as the engine has it (models/service.ts); none by default (decisions without a score). */
  readonly scorer?: ModelScorer | null
}

/** What the replay needs of the model service. */
export interface ModelScorer {
  scoreOne(features: Float32Array): Promise<ScoredWithdrawal>
}

export interface ReplayResult {
  readonly report: ReplayReport
  readonly alerts: readonly Alert[]
  readonly decisions: readonly Decision[]
}

/** The models the engine would load with this config (PITBOSS_MODELS, _DIR, _DEPLOYMENT_FILE, _DEFAULT_CHAMPION); null when off. */
export async function loadEngineModels(config: PitbossConfig): Promise<ModelService | null> {
  if (!config.models.enabled) return null
  return loadModelService({ modelsDir: config.models.dir, deploymentFile: config.models.deploymentFile, clock: systemClock, logger: silentLogger, defaultChampion: config.models.defaultChampion })
}

export async function replayEvents(events: readonly SimulatedEvent[], options: ReplayOptions = {}): Promise<ReplayResult> {
  const registry = new DetectorRegistry()
  const codec = new AvroCodec(memorySchemaRegistry(), '', { maxPayloadBytes: 64 * 1024 })
  await codec.registerAll()
  const driver = new MemoryDriver({
    partitions: options.partitions ?? 8,
    store: createMemoryStore(),
    decoder: new RegistryRecordDecoder(codec, silentLogger),
    encoder: { encode: (topic, value) => codec.encode(topic, value) },
    processor: new EventProcessor(registry, { screen: options.screen ?? null, scoring: options.scorer !== undefined && options.scorer !== null }),
    scorer: options.scorer ?? null,
    ruleSets: new RuleSetHolder(RuleSet.load(options.ruleSetPath ?? DEFAULT_RULE_SET_PATH, registry)),
  })
  const chunkEvents = options.chunkEvents ?? 5000
  const startMs = performance.now()
  // Fed in event-time slices, so the round-robin over topics inside the driver stays close to event-time order, as a live consumer's is.
  for (let start = 0; start < events.length; start += chunkEvents) {
    for (const event of events.slice(start, start + chunkEvents)) driver.produce(event.topic, event.value.playerId, codec.encode(event.topic, event.value), event.value.eventTimeMs)
    await driver.run()
    options.onProgress?.(Math.min(events.length, start + chunkEvents), events.length)
  }
  const elapsedMs = performance.now() - startMs
  const decode = async <T>(topic: 'alerts' | 'decisions'): Promise<T[]> => {
    const values: T[] = []
    for (const message of driver.output(topic)) {
      const decoded = await codec.decode(topic, message.value)
      if (!decoded.ok) throw new RiskError('RISK_ERR_DECODE_AVRO', `an output on ${topic} did not decode: ${decoded.message}`, { topic })
      values.push(decoded.value as T)
    }
    return values
  }
  const alerts = await decode<Alert>('alerts')
  const decisions = await decode<Decision>('decisions')
  const outcomes: Record<DecisionOutcome, number> = { APPROVE: 0, REVIEW: 0, DECLINE: 0 }
  for (const decision of decisions) outcomes[decision.outcome] += 1
  const report: ReplayReport = {
    events: events.length, alerts: alerts.length, deadLetters: driver.output('deadLetters').length, decisions: outcomes, elapsedMs,
    byDetector: signalsByDetector(alerts, registry, options.labels),
    byTypology: options.labels === undefined ? null : scoreTypologies(alerts, options.labels),
  }
  return { report, alerts, decisions }
}

const names = (alert: Alert, label: TypologyLabel): boolean => label.playerIds.includes(alert.playerId) && alert.eventTimeMs >= label.fromMs && alert.eventTimeMs <= label.toMs

function signalsByDetector(alerts: readonly Alert[], registry: DetectorRegistry, labels: readonly TypologyLabel[] | undefined): DetectorSignals[] {
  return registry.all().map((detector) => {
    const own = alerts.filter((alert) => alert.detectorId === detector.id)
    return {
      detectorId: detector.id, alerts: own.length, players: new Set(own.map((alert) => alert.playerId)).size,
      onLabelledPlayers: labels === undefined ? null : own.filter((alert) => labels.some((label) => names(alert, label))).length,
    }
  })
}

export function scoreTypologies(alerts: readonly Alert[], labels: readonly TypologyLabel[]): TypologyScore[] {
  return (Object.values(TYPOLOGIES) as Typology[]).map((typology) => {
    const detectors = TYPOLOGY_DETECTORS[typology]
    const mapped = alerts.filter((alert) => detectors.includes(alert.detectorId))
    const own = labels.filter((label) => label.typology === typology)
    let players = 0
    let playersCaught = 0
    let instancesCaught = 0
    for (const label of own) {
      const caught = label.playerIds.filter((playerId) => mapped.some((alert) => alert.playerId === playerId && names(alert, label)))
      players += label.playerIds.length
      playersCaught += caught.length
      if (caught.length > 0) instancesCaught += 1
    }
    // An alert on a player of another typology its detector is mapped to belongs to that typology, not against this one.
    const elsewhere = (alert: Alert): boolean => labels.some((label) => label.typology !== typology && TYPOLOGY_DETECTORS[label.typology].includes(alert.detectorId) && names(alert, label))
    const counted = mapped.filter((alert) => !elsewhere(alert) || own.some((label) => names(alert, label)))
    const truePositiveAlerts = counted.filter((alert) => own.some((label) => names(alert, label))).length
    return {
      typology, detectors, instances: own.length, instancesCaught, players, playersCaught,
      recall: players === 0 ? null : playersCaught / players,
      alerts: counted.length, truePositiveAlerts, precision: counted.length === 0 ? null : truePositiveAlerts / counted.length,
    }
  })
}

const share = (value: number | null): string => (value === null ? 'n/a' : value.toFixed(2))

export function formatReport(report: ReplayReport): string {
  const lines = [
    `${report.events} events replayed in ${(report.elapsedMs / 1000).toFixed(2)} s (${Math.round(report.events / (report.elapsedMs / 1000))} events/s)`,
    `decisions: APPROVE ${report.decisions.APPROVE}, REVIEW ${report.decisions.REVIEW}, DECLINE ${report.decisions.DECLINE}; alerts ${report.alerts}; dead letters ${report.deadLetters}`,
    '',
    `${'detector'.padEnd(28)}${'alerts'.padStart(8)}${'players'.padStart(9)}${report.byTypology === null ? '' : 'on labelled'.padStart(13)}`,
    ...report.byDetector.map((row) => `${row.detectorId.padEnd(28)}${String(row.alerts).padStart(8)}${String(row.players).padStart(9)}${row.onLabelledPlayers === null ? '' : String(row.onLabelledPlayers).padStart(13)}`),
  ]
  if (report.byTypology !== null) {
    lines.push('', `${'typology'.padEnd(20)}${'instances'.padStart(10)}${'caught'.padStart(8)}${'players'.padStart(9)}${'caught'.padStart(8)}${'recall'.padStart(8)}${'precision'.padStart(11)}  detectors`)
    for (const row of report.byTypology) {
      lines.push(`${row.typology.padEnd(20)}${String(row.instances).padStart(10)}${String(row.instancesCaught).padStart(8)}${String(row.players).padStart(9)}${String(row.playersCaught).padStart(8)}${share(row.recall).padStart(8)}${share(row.precision).padStart(11)}  ${row.detectors.length === 0 ? '(none yet)' : row.detectors.join(', ')}`)
    }
  }
  return `${lines.join('\n')}\n`
}

async function main(): Promise<void> {
  const { values: args } = parseArgs({ options: {
    events: { type: 'string' }, labels: { type: 'string' }, 'rule-set': { type: 'string' }, partitions: { type: 'string', default: '8' },
  } })
  if (args.events === undefined) throw new RiskError('RISK_ERR_CONFIG_INVALID', 'usage: tsx bench/replay.ts --events FILE [--labels FILE] [--rule-set FILE] [--partitions N]')
  const partitions = Number(args.partitions)
  if (!Number.isInteger(partitions) || partitions < 1) throw new RiskError('RISK_ERR_CONFIG_INVALID', `--partitions must be a whole number >= 1, got '${args.partitions}'`)
  const events = readEvents(args.events)
  const labels = args.labels === undefined ? undefined : readLabels(args.labels)
  const bar = progressBar('replaying', events.length)
  const config = loadConfig()
  const screening = await loadScreenFunction(config.screening.listsDir)
  const models = await loadEngineModels(config)
  const { report } = await replayEvents(events, { labels, ruleSetPath: args['rule-set'], partitions, screen: screening?.screen ?? null, scorer: models, onProgress: (done) => bar.update(done) })
  await models?.close()
  bar.done()
  process.stdout.write(formatReport(report))
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`)
    process.exitCode = 1
  })
}
