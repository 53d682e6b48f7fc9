/**
 * Scenario tables for detector tests: domain events at explicit event times, stepped through one
 * detector in order, with stream time advancing as a partition task's does (the highest event
 * time seen so far, this event included). Builders take the amount first and any other fields
 * after; the player is `p1` unless given. Events go through the real wire -> domain adapter
 * (`toInputEvent`), so a scenario cannot build an event the pipeline would refuse.
 *
 * Example:
 *   const results = runScenario(depositStructuring, params, [
 *     at(0, deposit(1_900_00)),
 *     at(10 * MINUTE_MS, deposit(1_950_00)),
 *     at(20 * MINUTE_MS, withdrawal(3_000_00)),
 *   ])
 *   expect(results[2]?.observation?.hit).toBe(true)
 *
 * Give every event that could share a time with another one its own id (`{ depositId: 'd2' }`):
 * the default ids are made from the player and the event time.
 */
import fs from 'node:fs'
import * as events from '../../bench/events.js'
import type { AnyDetector, Observation, PlayerProfile, ScreenFunction } from '../../detectors/detector.js'
import { DETECTORS, DetectorRegistry } from '../../detectors/index.js'
import { RuleSet, type RuleSetDocument } from '../../detectors/rule-set.js'
import { toInputEvent } from '../../schemas/adapters.js'
import type { InputEvent } from '../../schemas/domain.js'
import type { Alert, Bet, Deposit, DeviceActivity, PlayerChange, Transfer, TransferReceived, Withdrawal } from '../../schemas/generated/types.js'
import { DEFAULT_RULE_SET_PATH, type TestPipeline } from '../support/pipeline.js'

export const SECOND_MS = 1000
export const MINUTE_MS = 60 * SECOND_MS
export const HOUR_MS = 60 * MINUTE_MS
export const DAY_MS = 24 * HOUR_MS

/** An event waiting for its time; `at` gives it one. */
export type TimedBuilder = (eventTimeMs: number) => InputEvent

const DEFAULT_PLAYER_ID = 'p1'

function domain<K extends 'players' | 'devices' | 'deposits' | 'bets' | 'withdrawals' | 'transfers' | 'transfersReceived'>(topic: K, wire: unknown): InputEvent {
  const result = toInputEvent(topic, wire as never)
  if (!result.ok) throw new Error(`scenario built an invalid ${topic} event: ${result.message}`)
  return result.event
}

type Fields<T> = Partial<Omit<T, 'eventTimeMs'>>

export function deposit(amountMinor: number, fields: Fields<Deposit> = {}): TimedBuilder {
  return (eventTimeMs) => domain('deposits', events.deposit({ playerId: DEFAULT_PLAYER_ID, ...fields, amountMinor, eventTimeMs }))
}

export function withdrawal(amountMinor: number, fields: Fields<Withdrawal> = {}): TimedBuilder {
  return (eventTimeMs) => domain('withdrawals', events.withdrawal({ playerId: DEFAULT_PLAYER_ID, ...fields, amountMinor, eventTimeMs }))
}

export function bet(stakeMinor: number, fields: Fields<Bet> = {}): TimedBuilder {
  return (eventTimeMs) => domain('bets', events.bet({ playerId: DEFAULT_PLAYER_ID, ...fields, stakeMinor, eventTimeMs }))
}

export function transfer(amountMinor: number, fields: Fields<Transfer> = {}): TimedBuilder {
  return (eventTimeMs) => domain('transfers', events.transfer({ playerId: DEFAULT_PLAYER_ID, toPlayerId: 'p-receiver', ...fields, amountMinor, eventTimeMs }))
}

/**
 * A transfer `p1` received from `p-sender` (risk.transfers-received.v1, as the sender's task
 * re-keys it). The ids default to ones made from the event time: give `transferId` and `eventId`
 * to model a redelivery of the same transfer.
 */
export function transferReceived(amountMinor: number, fields: Fields<TransferReceived> = {}): TimedBuilder {
  return (eventTimeMs) => {
    const wire: TransferReceived = {
      eventId: `ev:tr:${eventTimeMs}`, playerId: DEFAULT_PLAYER_ID, transferId: `tr:${eventTimeMs}`, transferKind: 'P2P', fromPlayerId: 'p-sender', currency: 'EUR', tableId: null,
      sourceTopic: 'casino.transfers.v1', sourcePartition: 0, sourceOffset: 0, ...fields, amountMinor, eventTimeMs,
    }
    return domain('transfersReceived', wire)
  }
}

export function login(fields: Fields<DeviceActivity> = {}): TimedBuilder {
  return (eventTimeMs) => domain('devices', events.device({ playerId: DEFAULT_PLAYER_ID, ...fields, eventTimeMs }))
}

export function playerChange(fields: Fields<PlayerChange> = {}): TimedBuilder {
  return (eventTimeMs) => domain('players', events.player({ playerId: DEFAULT_PLAYER_ID, ...fields, eventTimeMs }))
}

/** The event a builder makes at this event time. */
export function at(eventTimeMs: number, builder: TimedBuilder): InputEvent {
  return builder(eventTimeMs)
}

/** A verified MT player unless told otherwise. */
export function profile(fields: Partial<PlayerProfile> = {}): PlayerProfile {
  return {
    jurisdiction: 'MT', tier: 'VERIFIED', kycStatus: 'VERIFIED', registeredAtMs: 0, country: 'MT', dateOfBirth: '1990-01-01',
    selfExcludedUntilMs: null, firstName: null, lastName: null, kycLevel: null, referrerPlayerId: null, ...fields,
  }
}

export interface ScenarioStep {
  readonly event: InputEvent
  /** Null when the detector does not accept the event or returned no observation. */
  readonly observation: Observation | null
  readonly late: boolean
  readonly streamTimeMs: number
  /** The detector's state after this event, JSON round-tripped as the state store does. */
  readonly state: unknown
}

export interface ScenarioOptions {
  readonly profile?: PlayerProfile
  /** Stream time before the first event (e.g. other players' events on the partition). */
  readonly streamTimeMs?: number
  /** State to start from instead of `detector.init()`. */
  readonly state?: unknown
  /** Name screening the detectors see (none by default). */
  readonly screen?: ScreenFunction | null
}

/**
 * Steps the events through the detector in the order given (not sorted: out-of-order and late
 * events are the point of many scenarios). State is JSON round-tripped between steps, as the
 * RocksDB checkpoint does, so a detector that keeps something not plain JSON fails here.
 */
export function runScenario(detector: AnyDetector, params: unknown, scenario: readonly InputEvent[], options: ScenarioOptions = {}): ScenarioStep[] {
  let state: unknown = options.state ?? detector.init()
  let streamTimeMs = options.streamTimeMs ?? Number.NEGATIVE_INFINITY
  const context = { profile: options.profile ?? profile(), screen: options.screen ?? null }
  return scenario.map((event) => {
    streamTimeMs = Math.max(streamTimeMs, event.eventTimeMs)
    if (!(detector.accepts as readonly string[]).includes(event.kind)) return { event, observation: null, late: false, streamTimeMs, state }
    const result = detector.step(state, event as never, params, { ...context, streamTimeMs })
    state = JSON.parse(JSON.stringify(result.state)) as unknown
    return { event, observation: result.observation, late: result.late === true, streamTimeMs, state }
  })
}

/** The last step's observation (the usual thing a row of a scenario table asserts on). */
export function lastObservation(steps: readonly ScenarioStep[]): Observation | null {
  return steps[steps.length - 1]?.observation ?? null
}

/**
 * Params of a detector for a jurisdiction and tier, resolved through a rule set (the shipped
 * default unless a document is given) exactly as the pipeline resolves them.
 */
export function paramsFor(detectorId: string, jurisdiction: string, tier: string, document?: RuleSetDocument, detectors: readonly AnyDetector[] = DETECTORS): Record<string, unknown> {
  const registry = new DetectorRegistry(detectors)
  const ruleSet = document === undefined ? RuleSet.load(DEFAULT_RULE_SET_PATH, registry) : RuleSet.parse(structuredClone(document), registry)
  const rule = ruleSet.rulesFor(jurisdiction, tier).get(detectorId)
  if (rule === undefined) throw new Error(`no rule for ${detectorId} in the rule set`)
  return { ...rule.params }
}

/**
 * The shipped default rule set restricted to some detectors (their defaults and overrides, as
 * shipped), for end-to-end tests that must not depend on what other detectors decide. The
 * version gets a `+only` suffix and any recorded content hash is dropped (the content changed).
 */
export function shippedRuleSetWith(detectorIds: readonly string[]): RuleSetDocument {
  const shipped = JSON.parse(fs.readFileSync(DEFAULT_RULE_SET_PATH, 'utf8')) as RuleSetDocument
  const pick = <T>(rules: Readonly<Record<string, T>>): Record<string, T> => Object.fromEntries(Object.entries(rules).filter(([id]) => detectorIds.includes(id)))
  const { contentHash: _contentHash, ...rest } = shipped as RuleSetDocument & { contentHash?: string }
  return {
    ...rest,
    version: `${shipped.version}+only`,
    detectors: pick(shipped.detectors),
    overrides: (shipped.overrides ?? []).map((override) => ({ ...override, detectors: pick(override.detectors) })).filter((override) => Object.keys(override.detectors).length > 0),
  }
}

/** The alerts a test pipeline emitted, decoded. */
export async function alertsOf(pipeline: TestPipeline): Promise<Alert[]> {
  const alerts: Alert[] = []
  for (const message of pipeline.driver.output('alerts')) {
    const decoded = await pipeline.codec.decode('alerts', message.value)
    if (!decoded.ok) throw new Error(decoded.message)
    alerts.push(decoded.value as Alert)
  }
  return alerts
}
