/**
 * Wire -> domain for input events: `toInputEvent` tags a decoded record with its `kind` and
 * checks the domain rules Avro cannot express. A record that breaks one is refused with
 * RISK_ERR_INVALID_FIELD naming the field, for the dead-letter route; it never reaches state.
 *
 * Rules:
 * - ids are non-empty (not blank): eventId, playerId and each topic's own ids. An empty device
 *   fingerprint or instrument token would link every player that has one in the graph.
 * - nullable ids and hashes are null or non-empty (absent is null, not '').
 * - amounts (amountMinor, stakeMinor, winMinor) are safe integers >= 0; a CHARGEBACK or a
 *   REVERSED deposit carries the positive amount, its status says which way money moved.
 * - currency matches ^[A-Z]{3}$ (ISO 4217 alphabetic code).
 * - country and ipCountry, when present, match ^[A-Z]{2}$; dateOfBirth is a real YYYY-MM-DD date.
 * - a transfer's toPlayerId differs from its playerId; a received transfer's fromPlayerId differs
 *   from its playerId (the receiver).
 * - a review verdict or payout event type is a known symbol (UNKNOWN never moves a withdrawal);
 *   a payout attempt is >= 1; a retry names its rail.
 * Event time is not checked here: event-time.ts is the one place that reads it.
 *
 * Output adapters: none. Decisions, alerts, commands and dead letters are built directly as the
 * generated wire types (see domain.ts), since a domain -> wire mapping would be the identity.
 *
 * Example:
 *   const result = toInputEvent('deposits', decoded.value)
 *   if (result.ok) process(result.event)            // result.event.kind === 'deposit'
 *   else deadLetter(result.code, result.message)    // e.g. 'currency: "eur" is not ...'
 */
import type { InputTopicKey } from '../core/topics.js'
import { INPUT_EVENT_KIND_BY_TOPIC, type InputEventByTopic } from './domain.js'
import type { TopicWireTypes } from './generated/types.js'

export type InputEventResult<E = InputEventByTopic[InputTopicKey]> =
  | { readonly ok: true; readonly event: E }
  | { readonly ok: false; readonly code: 'RISK_ERR_INVALID_FIELD'; readonly message: string; readonly field: string }

interface Problem {
  readonly field: string
  readonly message: string
}

type Fields = Readonly<Record<string, unknown>>
type Check = (record: Fields) => Problem | null

const CURRENCY = /^[A-Z]{3}$/
const COUNTRY = /^[A-Z]{2}$/
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/

function show(value: unknown): string {
  return value === undefined ? 'missing' : JSON.stringify(value) ?? String(value)
}

/** Dotted paths split once (field runs per checked field per event; a split per call showed in the profile). */
const splitPaths = new Map<string, readonly string[]>()

function field(record: Fields, path: string): unknown {
  if (!path.includes('.')) return record[path]
  let parts = splitPaths.get(path)
  if (parts === undefined) {
    parts = path.split('.')
    splitPaths.set(path, parts)
  }
  let value: unknown = record
  for (const part of parts) value = value !== null && typeof value === 'object' ? (value as Fields)[part] : undefined
  return value
}

const id = (path: string): Check => (record) => {
  const value = field(record, path)
  return typeof value === 'string' && value.trim() !== '' ? null : { field: path, message: `${path}: ${show(value)} must be a non-empty id` }
}

const optionalId = (path: string): Check => (record) => {
  const value = field(record, path)
  return value === null || (typeof value === 'string' && value.trim() !== '') ? null : { field: path, message: `${path}: ${show(value)} must be null or non-empty (send null when absent)` }
}

const amount = (path: string): Check => (record) => {
  const value = field(record, path)
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? null : { field: path, message: `${path}: ${show(value)} must be an integer amount of minor units >= 0` }
}

const currency = (path: string): Check => (record) => {
  const value = field(record, path)
  return typeof value === 'string' && CURRENCY.test(value) ? null : { field: path, message: `${path}: ${show(value)} is not an ISO 4217 code (three capital letters, e.g. EUR)` }
}

const optionalCountry = (path: string): Check => (record) => {
  const value = field(record, path)
  return value === null || (typeof value === 'string' && COUNTRY.test(value)) ? null : { field: path, message: `${path}: ${show(value)} is not an ISO 3166-1 alpha-2 code (two capital letters, e.g. MT)` }
}

const optionalDate = (path: string): Check => (record) => {
  const value = field(record, path)
  if (value === null) return null
  const match = typeof value === 'string' ? DATE.exec(value) : null
  if (match !== null) {
    const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])]
    const date = new Date(Date.UTC(year, month - 1, day))
    if (date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day) return null
  }
  return { field: path, message: `${path}: ${show(value)} is not a calendar date YYYY-MM-DD` }
}

const notSelf: Check = (record) =>
  record.toPlayerId !== record.playerId ? null : { field: 'toPlayerId', message: `toPlayerId: ${show(record.toPlayerId)} is the sender itself (playerId); a transfer goes to another player` }

const notSelfReceived: Check = (record) =>
  record.fromPlayerId !== record.playerId ? null : { field: 'fromPlayerId', message: `fromPlayerId: ${show(record.fromPlayerId)} is the receiver itself (playerId); a received transfer comes from another player` }

const knownSymbol = (path: string): Check => (record) =>
  field(record, path) !== 'UNKNOWN' ? null : { field: path, message: `${path}: UNKNOWN (a symbol this reader does not know) cannot move a withdrawal; upgrade the reader or fix the producer` }

const positiveCount = (path: string): Check => (record) => {
  const value = field(record, path)
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1 ? null : { field: path, message: `${path}: ${show(value)} must be an integer >= 1` }
}

const railForRetry: Check = (record) =>
  record.type !== 'RETRY_REQUESTED' || (typeof record.rail === 'string' && record.rail.trim() !== '') ? null : { field: 'rail', message: `rail: ${show(record.rail)} must name the rail to retry on for RETRY_REQUESTED` }

const verdictNamesEntry: Check = (record) =>
  record.type === 'RESCREEN' || (typeof record.listId === 'string' && typeof record.entryId === 'string' && typeof record.officerId === 'string')
    ? null
    : { field: 'entryId', message: `a ${String(record.type)} verdict must name listId, entryId and officerId` }

const COMMON: readonly Check[] = [id('eventId'), id('playerId')]

const CHECKS: { readonly [K in InputTopicKey]: readonly Check[] } = {
  players: [...COMMON, id('jurisdiction'), optionalCountry('country'), optionalDate('dateOfBirth'), optionalId('emailHash'), optionalId('phoneHash'), optionalId('referrerPlayerId')],
  devices: [...COMMON, id('sessionId'), id('deviceFingerprint'), id('ip'), optionalCountry('ipCountry')],
  deposits: [...COMMON, id('depositId'), amount('amountMinor'), currency('currency'), id('instrument.token'), optionalId('instrument.cardBin'), optionalId('instrument.walletAddress'), id('psp')],
  bets: [...COMMON, id('betId'), id('gameId'), optionalId('tableId'), optionalId('roundId'), amount('stakeMinor'), amount('winMinor'), currency('currency'), optionalId('sessionId')],
  withdrawals: [...COMMON, id('withdrawalId'), amount('amountMinor'), currency('currency'), id('instrument.token'), optionalId('instrument.cardBin'), optionalId('instrument.walletAddress')],
  transfers: [...COMMON, id('transferId'), id('toPlayerId'), notSelf, amount('amountMinor'), currency('currency'), optionalId('tableId')],
  reviews: [...COMMON, id('withdrawalId'), knownSymbol('verdict'), id('reviewerId'), optionalId('caseId'), id('reasonCode')],
  clusters: [...COMMON, optionalId('clusterId'), optionalId('communityId')],
  screening: [...COMMON, knownSymbol('type'), optionalId('listId'), optionalId('entryId'), optionalId('officerId'), optionalId('caseId'), verdictNamesEntry],
  transfersReceived: [...COMMON, id('transferId'), id('fromPlayerId'), notSelfReceived, amount('amountMinor'), currency('currency'), optionalId('tableId'), id('sourceTopic')],
  payouts: [...COMMON, id('withdrawalId'), knownSymbol('type'), positiveCount('attempt'), optionalId('rail'), optionalId('pspReference'), railForRetry],
}

/**
 * Turns a decoded input record into its domain event, or says which field breaks a domain rule.
 * The event is a shallow copy of the record plus `kind` (a transfer's wire `kind` becomes
 * `transferKind`); the record is not modified. With `owned` (the caller decoded the record and
 * hands it over, as pipelines/decoder.ts does), `kind` is set on the record itself instead of a
 * copy: the copy of every event was ~2.4% of the processing thread's time (issue 10). A
 * transfer is copied either way.
 */
export function toInputEvent<K extends InputTopicKey>(topic: K, wire: TopicWireTypes[K], owned = false): InputEventResult<InputEventByTopic[K]> {
  if (wire === null || typeof wire !== 'object') {
    return { ok: false, code: 'RISK_ERR_INVALID_FIELD', field: '', message: `a ${topic} record must be an object, got ${show(wire)}` }
  }
  const record = wire as unknown as Fields
  for (const check of CHECKS[topic]) {
    const problem = check(record)
    if (problem !== null) return { ok: false, code: 'RISK_ERR_INVALID_FIELD', field: problem.field, message: problem.message }
  }
  if (topic === 'transfers') {
    // The wire's `kind` (P2P, TIP...) would collide with the union's discriminator.
    const { kind: transferKind, ...rest } = record
    return { ok: true, event: { ...rest, transferKind, kind: 'transfer' } as unknown as InputEventByTopic[K] }
  }
  if (owned) {
    const event = record as Record<string, unknown>
    event.kind = INPUT_EVENT_KIND_BY_TOPIC[topic]
    return { ok: true, event: event as unknown as InputEventByTopic[K] }
  }
  const event = { ...record, kind: INPUT_EVENT_KIND_BY_TOPIC[topic] } as unknown as InputEventByTopic[K]
  return { ok: true, event }
}
