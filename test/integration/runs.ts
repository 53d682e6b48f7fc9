/**
 * Helpers for comparing a faulted run with a clean one: the RocksDB state dumped partition by
 * partition, decisions normalised across topic prefixes, and the comparison the fault tests and
 * bench/faults.ts assert on (none lost, none conflicting, re-emissions byte-identical).
 *
 * Example:
 *   const comparison = compareDecisions(clean, cleanPrefix, faulted, faultedPrefix)
 *   expect(comparison.missing).toEqual([]); expect(comparison.conflicting).toEqual([])
 */
import { INPUT_PARTITIONS, type TopicKey } from '../../core/topics.js'
import { deposit, player, withdrawal } from '../../bench/events.js'
import type { AvroCodec } from '../../schemas/codec.js'
import { openRocksStore } from '../../pipelines/state/store.js'
import type { Decision } from '../../schemas/generated/types.js'
import type { SimulatedEvent } from '../../bench/simulator/world.js'
import { scrapeCounter, scrapeLabels, type EngineChild } from '../../bench/lib/harness.js'
import { sleep } from '../../core/clock.js'

/**
 * Waits for a kill point while the engine decides: once it has its partitions (the group
 * joined, the tasks opened) and has emitted a decision not seen before (it is past its pending
 * replay and making progress), the earlier of a seeded random 0..maxDelayMs more and a seeded
 * random 1..maxNewDecisions more decisions. Returns at once when every withdrawal is decided.
 * Killing on a timer from the process start instead mostly hit an engine still joining the
 * group (nothing processed) or, once it got faster, one that had finished: 41 of 50 kills of the
 * long fault run found every withdrawal decided already. The cap on new decisions keeps the
 * kills spread over the run however fast the engine decides: with the delay alone, an engine
 * that caught up faster after each restart (session 12) had decided everything by the 18th of
 * 50 kills.
 */
export async function untilKillPoint(
  engine: Pick<EngineChild, 'waitForLog'>, startedAtMs: number, random: () => number, maxDelayMs: number,
  decided: () => number, expected: number, timeoutMs = 120_000, maxNewDecisions = Number.POSITIVE_INFINITY,
): Promise<void> {
  const before = decided()
  if (before >= expected) return
  await engine.waitForLog((line) => line.msg === 'partitions assigned' && Array.isArray(line.partitions) && line.partitions.length > 0, timeoutMs, startedAtMs)
  const deadlineMs = Date.now() + timeoutMs
  while (decided() === before) {
    if (Date.now() > deadlineMs) throw new Error(`the engine decided nothing new within ${timeoutMs} ms of its start (${before} of ${expected} decided)`)
    await sleep(5)
  }
  const untilMs = Date.now() + Math.floor(random() * maxDelayMs)
  const target = Number.isFinite(maxNewDecisions) ? decided() + 1 + Math.floor(random() * maxNewDecisions) : Number.POSITIVE_INFINITY
  while (Date.now() < untilMs && decided() < target) await sleep(2)
}

/** The cap on new decisions per kill (untilKillPoint) that spreads `kills` kills over `expected` withdrawals: twice the even share. */
export const killSpread = (expected: number, kills: number): number => Math.max(1, Math.ceil((2 * expected) / Math.max(1, kills)))

/**
 * Waits until the engine started at `startedAtMs` holds every input partition and reports no
 * lag on any of them (`pitboss_consumer_lag`): it has processed everything on the broker, so a
 * graceful stop now checkpoints the whole input. Waiting for the decisions instead is not enough
 * once earlier (killed) runs emitted them all: the last run may still be joining the group or
 * working through events after the last withdrawal when the decisions go quiet.
 */
export async function untilCaughtUp(engine: Pick<EngineChild, 'metricsPort' | 'logFile'>, startedAtMs: number, timeoutMs: number): Promise<void> {
  const port = await engine.metricsPort(timeoutMs, startedAtMs)
  const deadlineMs = Date.now() + timeoutMs
  for (;;) {
    let partitions: Set<string>
    let lag: number
    try {
      partitions = new Set(await scrapeLabels(port, 'pitboss_consumer_lag', 'partition'))
      lag = await scrapeCounter(port, 'pitboss_consumer_lag') // a sum of gauges that are never negative
    } catch (error) {
      throw new Error(`the engine's metrics endpoint (port ${port}) stopped answering; see ${engine.logFile}`, { cause: error })
    }
    if (partitions.size === INPUT_PARTITIONS && lag === 0) return
    if (Date.now() > deadlineMs) throw new Error(`the engine did not catch up within ${timeoutMs} ms (${partitions.size} partitions reported, ${lag} records behind)`)
    await sleep(200)
  }
}

/**
 * A checkpoint's position in risk.transfers-received.v1 depends on the run, not only on its
 * input: a killed sender task re-emits the transfers of its replayed batches, so that topic holds
 * duplicates (which the receiver's pass_through drops by transferId). Every other field must match.
 */
function withoutRepartitionOffset(checkpoint: string): string {
  const parsed = JSON.parse(checkpoint) as { nextOffsets: Record<string, string> }
  if (parsed.nextOffsets.transfersReceived !== undefined) parsed.nextOffsets.transfersReceived = '(run-dependent)'
  return JSON.stringify(parsed)
}

/**
 * Every key and value of the engine's RocksDB state, partition by partition (checkpoints
 * normalised as above), without the players in `skipPlayers` (see transferReceivers).
 */
export async function stateDump(stateDir: string, skipPlayers: ReadonlySet<string> = new Set()): Promise<string[]> {
  const store = await openRocksStore(stateDir)
  const entries: string[] = []
  try {
    for (let partition = 0; partition < INPUT_PARTITIONS; partition += 1) {
      for await (const [key, value] of store.partition(partition).entries()) {
        if (key.startsWith('s/') && skipPlayers.has(key.slice(2))) continue
        entries.push(`${partition}/${key}=${key === 'checkpoint' ? withoutRepartitionOffset(value.toString()) : value.toString()}`)
      }
    }
  } finally {
    await store.close()
  }
  return entries
}

/** A decision names its source topic, which carries the run's prefix: compare without it. */
export function normalisedDecision(decision: Decision, topicPrefix: string): string {
  return JSON.stringify({ ...decision, source: { ...decision.source, topic: decision.source.topic.slice(topicPrefix.length) } })
}

/**
 * Receivers of transfers from other players, with the transfers' event times. What such a
 * player's partition knows of a transfer depends on timing: the sender's partition task re-keys
 * it to risk.transfers-received.v1, and a receiver's partition that runs ahead of the sender's
 * (after a kill, each restarted task catches up at its own pace) decides without it
 * (docs/detectors.md, "How the receiver sees a transfer"). A faulted run may therefore decide a
 * receiver's withdrawal differently from the clean run, once and for good (never two forms).
 */
export function transferReceivers(events: readonly SimulatedEvent[]): Map<string, number[]> {
  const receivers = new Map<string, number[]>()
  for (const event of events) {
    if (event.topic !== 'transfers' || event.value.toPlayerId === event.value.playerId) continue
    const times = receivers.get(event.value.toPlayerId) ?? []
    times.push(event.value.eventTimeMs)
    receivers.set(event.value.toPlayerId, times)
  }
  return receivers
}

/** pass_through's window in the shipped rule set: a transfer received earlier cannot change a decision. */
export const RECEIVED_TRANSFER_WINDOW_MS = 48 * 60 * 60 * 1000

/** True when the decided player received a transfer within RECEIVED_TRANSFER_WINDOW_MS before the request. */
export function receivedBefore(receivers: ReadonlyMap<string, readonly number[]>, decision: Decision): boolean {
  return (receivers.get(decision.playerId) ?? []).some((timeMs) => timeMs <= decision.eventTimeMs && timeMs > decision.eventTimeMs - RECEIVED_TRANSFER_WINDOW_MS)
}

export interface DecisionComparison {
  /** Decision ids of the clean run the faulted run never emitted. */
  readonly missing: string[]
  /**
   * Decision ids the faulted run emitted in two forms, or in another form than the clean run
   * without `mayDiffer` allowing it.
   */
  readonly conflicting: string[]
  /** Decision ids emitted in one form that differs from the clean run's, allowed by `mayDiffer`. */
  readonly timingDependent: string[]
  /** Decision ids the faulted run emitted that the clean run did not. */
  readonly unexpected: string[]
  /** Records beyond one per decision id (byte-identical re-emissions after a restart). */
  readonly reEmitted: number
}

export function compareDecisions(clean: readonly Decision[], cleanPrefix: string, faulted: readonly Decision[], faultedPrefix: string, mayDiffer: (decision: Decision) => boolean = () => false): DecisionComparison {
  const cleanById = new Map(clean.map((decision) => [decision.decisionId, normalisedDecision(decision, cleanPrefix)]))
  const faultedById = new Map<string, Set<string>>()
  for (const decision of faulted) {
    const copies = faultedById.get(decision.decisionId) ?? new Set<string>()
    copies.add(normalisedDecision(decision, faultedPrefix))
    faultedById.set(decision.decisionId, copies)
  }
  const decisionById = new Map(faulted.map((decision) => [decision.decisionId, decision]))
  const differs = ([id, copies]: [string, Set<string>]): boolean => cleanById.has(id) && !copies.has(cleanById.get(id) as string)
  const allowed = ([id, copies]: [string, Set<string>]): boolean => copies.size === 1 && mayDiffer(decisionById.get(id) as Decision)
  return {
    missing: [...cleanById.keys()].filter((id) => !faultedById.has(id)),
    conflicting: [...faultedById].filter((entry) => entry[1].size > 1 || (differs(entry) && !allowed(entry))).map(([id]) => id),
    timingDependent: [...faultedById].filter((entry) => differs(entry) && allowed(entry)).map(([id]) => id),
    unexpected: [...faultedById.keys()].filter((id) => !cleanById.has(id)),
    reEmitted: faulted.length - faultedById.size,
  }
}

/** Withdrawals with more than one decision id for the same revision (a withdrawal decided twice). */
export function decidedTwice(decisions: readonly Decision[]): string[] {
  const ids = new Map<string, Set<string>>()
  for (const decision of decisions) {
    const key = `${decision.withdrawalId}#${decision.revision}`
    ids.set(key, (ids.get(key) ?? new Set<string>()).add(decision.decisionId))
  }
  return [...ids].filter(([, set]) => set.size > 1).map(([key]) => key)
}

export interface HostileMessage {
  readonly topic: TopicKey
  readonly key: string | null
  readonly value: Buffer | null
}

export interface HostileFlood {
  readonly messages: HostileMessage[]
  /** Dead-letter reason expected for each hostile record, by its key (each has a player of its own). */
  readonly expectedReason: Map<string, string>
  /** Good withdrawal requests mixed in (ids good-wd-0..), each to be decided. */
  readonly goodWithdrawals: number
}

const DAY_MS = 24 * 60 * 60 * 1000

/**
 * `count` hostile records of ten kinds in turn (bad bytes, null value, unknown schema id, another
 * topic's schema, truncated Avro, key mismatch, negative and far-future event times, an invalid
 * field, a field beyond a 2048-byte PITBOSS_MAX_PAYLOAD_BYTES), with a good withdrawal of one of
 * 100 registered players after every 50th. Event times near `baseMs`.
 *
 * Example: const flood = hostileFlood(codec, 10_000, 10 * DAY_MS) // flood.expectedReason.get('flood-3') === 'RISK_ERR_DECODE_WRONG_SCHEMA'
 */
export function hostileFlood(codec: AvroCodec, count: number, baseMs: number): HostileFlood {
  const wd = (fields: Parameters<typeof withdrawal>[0]): Buffer => codec.encode('withdrawals', withdrawal(fields))
  const kinds: Array<{ reason: string; make: (id: string, index: number) => HostileMessage }> = [
    { reason: 'RISK_ERR_DECODE_MAGIC_BYTE', make: (id, index) => ({ topic: 'withdrawals', key: id, value: Buffer.from(`{"json":"not avro ${index}"}`) }) },
    { reason: 'RISK_ERR_DECODE_MAGIC_BYTE', make: (id) => ({ topic: 'deposits', key: id, value: null }) },
    { reason: 'RISK_ERR_DECODE_UNKNOWN_SCHEMA', make: (id, index) => ({ topic: 'bets', key: id, value: Buffer.from([0, 0x7f, 0xff, (index >> 8) & 0xff, index & 0xff, 2, 3]) }) },
    { reason: 'RISK_ERR_DECODE_WRONG_SCHEMA', make: (id) => ({ topic: 'withdrawals', key: id, value: codec.encode('deposits', deposit({ playerId: id, eventTimeMs: baseMs })) }) },
    { reason: 'RISK_ERR_DECODE_AVRO', make: (id) => ({ topic: 'withdrawals', key: id, value: wd({ playerId: id, eventTimeMs: baseMs }).subarray(0, 12) }) },
    { reason: 'RISK_ERR_KEY_MISMATCH', make: (id) => ({ topic: 'withdrawals', key: id, value: wd({ playerId: `${id}-other`, eventTimeMs: baseMs }) }) },
    { reason: 'RISK_ERR_EVENT_TIME_NEGATIVE', make: (id) => ({ topic: 'withdrawals', key: id, value: wd({ playerId: id, eventTimeMs: -5 }) }) },
    // 30 days after it is written (the record timestamp is the producer's clock)
    { reason: 'RISK_ERR_EVENT_TIME_FUTURE', make: (id) => ({ topic: 'deposits', key: id, value: codec.encode('deposits', deposit({ playerId: id, eventTimeMs: Date.now() + 30 * DAY_MS })) }) },
    { reason: 'RISK_ERR_INVALID_FIELD', make: (id) => ({ topic: 'withdrawals', key: id, value: wd({ playerId: id, eventTimeMs: baseMs, amountMinor: -100 }) }) },
    { reason: 'RISK_ERR_PAYLOAD_TOO_LARGE', make: (id) => ({ topic: 'withdrawals', key: id, value: wd({ playerId: id, eventTimeMs: baseMs, instrument: { token: 't', cardBin: null, walletAddress: null, holderName: 'x'.repeat(2100) } }) }) },
  ]
  const goodPlayers = 100
  const messages: HostileMessage[] = []
  for (let index = 0; index < goodPlayers; index += 1) {
    const playerId = `good-${index}`
    messages.push({ topic: 'players', key: playerId, value: codec.encode('players', player({ playerId, eventTimeMs: baseMs - 60_000 })) })
  }
  const expectedReason = new Map<string, string>()
  let good = 0
  for (let index = 0; index < count; index += 1) {
    const kind = kinds[index % kinds.length] as (typeof kinds)[number]
    const id = `flood-${index}`
    expectedReason.set(id, kind.reason)
    messages.push(kind.make(id, index))
    if (index % 50 === 0) {
      const playerId = `good-${good % goodPlayers}`
      messages.push({ topic: 'withdrawals', key: playerId, value: wd({ playerId, withdrawalId: `good-wd-${good}`, eventTimeMs: baseMs + good * 60_000 }) })
      good += 1
    }
  }
  return { messages, expectedReason, goodWithdrawals: good }
}
