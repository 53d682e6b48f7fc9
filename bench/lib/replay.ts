/**
 * Replay of recorded (or generated) input events through the real partition tasks on the
 * in-memory driver: the Avro codec over an in-memory schema registry, the decoder, the
 * detectors of a registry and a rule set, no broker. Benchmarks use it; a backtest can too.
 *
 * Example:
 *   const replay = await createReplay({ registry: new DetectorRegistry(), ruleSet, partitions: 8 })
 *   const input = replay.encode(generateFixture({ seed: 7, players: 100, days: 2 }))
 *   const run = await replay.run(input)   // { events, decisions, alerts, elapsedMs, cpuMs }
 *
 * `decode` + `step` measure the detectors alone: the same input decoded once up front, in the
 * order a partition task would process it, then stepped through `EventProcessor.process` with
 * the player states in a Map (no codec, merge, store or checkpoint in the timed loop).
 *   const decoded = await replay.decode(input)
 *   const run = replay.step(decoded, ruleSet)   // { events, decisions, alerts, elapsedMs, cpuMs }
 */
import { createHash } from 'node:crypto'
import { silentLogger } from '../../core/logger.js'
import { INPUT_TOPIC_KEYS, TOPICS, type InputTopicKey } from '../../core/topics.js'
import type { DetectorRegistry } from '../../detectors/index.js'
import { RuleSetHolder, type RuleSet } from '../../detectors/rule-set.js'
import { RegistryRecordDecoder } from '../../pipelines/decoder.js'
import { partitionForKey } from '../../core/partitioner.js'
import { MemoryDriver } from '../../pipelines/memory-driver.js'
import { EventProcessor, newPlayerState, type PlayerState } from '../../pipelines/processor.js'
import { createMemoryStore } from '../../pipelines/state/store.js'
import { AvroCodec, type SchemaRegistryClient } from '../../schemas/codec.js'
import type { InputEvent } from '../../schemas/domain.js'
import type { FixtureEvent } from '../fixture.js'

/** A schema registry in memory: one id per distinct schema text, no compatibility checks. */
export function memorySchemaRegistry(): SchemaRegistryClient {
  const ids = new Map<string, number>()
  const texts = new Map<number, string>()
  return {
    async register(_subject, schema) {
      let id = ids.get(schema)
      if (id === undefined) {
        id = ids.size + 1
        ids.set(schema, id)
        texts.set(id, schema)
      }
      return id
    },
    getSchemaById: async (id) => texts.get(id) ?? null,
  }
}

/** An input event on the wire, with its partition already computed. */
export interface EncodedEvent {
  readonly topic: InputTopicKey
  readonly key: string
  readonly partition: number
  readonly bytes: Buffer
  readonly eventTimeMs: number
}

export interface ReplayRun {
  readonly events: number
  readonly decisions: number
  readonly alerts: number
  readonly deadLetters: number
  /** Wall time of the run, milliseconds. */
  readonly elapsedMs: number
  /** CPU time of the process during the run (user + system, all threads), milliseconds. */
  readonly cpuMs: number
  /** With `inspectState`: players in the final state, and the mean JSON bytes per player of each part of their state. */
  readonly state?: { readonly players: number; readonly meanBytes: Readonly<Record<string, number>> }
}

/** An input event decoded once, with where it came from, in the order its partition task processes it. */
export interface DecodedInput {
  readonly topic: string
  readonly partition: number
  readonly offset: number
  readonly event: InputEvent
}

/** A run of `step`: decoded events through the processor alone. */
export interface StepRun {
  readonly events: number
  readonly decisions: number
  readonly alerts: number
  readonly elapsedMs: number
  readonly cpuMs: number
  /** With `fingerprint`: sha256 of every output (topic, key, value as JSON) in order. */
  readonly fingerprint?: string
  /** With `inspectState`: as ReplayRun's, from the final player states. */
  readonly state?: { readonly players: number; readonly meanBytes: Readonly<Record<string, number>> }
}

export interface StepOptions {
  /** Hash every output, to compare two runs (or two versions of the detectors) byte for byte. */
  readonly fingerprint?: boolean
  /**
   * Round-trip a player's state through JSON whenever it is taken up in a new batch, as a
   * restart from a checkpoint would: the outputs must not change.
   */
  readonly roundTripStates?: boolean
  /** Measure the JSON bytes of the final player states (as a checkpoint would write them). */
  readonly inspectState?: boolean
}

export interface ReplayOptions {
  readonly registry: DetectorRegistry
  readonly ruleSet: RuleSet
  readonly partitions: number
  readonly batchSize?: number
  readonly fetchSize?: number
}

export interface Replay {
  encode(events: readonly FixtureEvent[]): EncodedEvent[]
  /** A fresh driver and store each time, so runs are independent. */
  run(input: readonly EncodedEvent[], options?: { readonly inspectState?: boolean }): Promise<ReplayRun>
  /**
   * Decodes every event once (codec, event time, domain rules) and orders each partition as its
   * task merges it (event time, then topic order, then offset); partitions one after another.
   */
  decode(input: readonly EncodedEvent[]): Promise<DecodedInput[]>
  /**
   * Steps decoded events through the processor with `ruleSet`, player states in a Map and stream
   * time per partition; a player's state counts as owned once it was changed in the current batch
   * of `batchSize` events of its partition, as in a partition task. Fresh states each call.
   */
  step(decoded: readonly DecodedInput[], ruleSet: RuleSet, stepOptions?: StepOptions): StepRun
}

export async function createReplay(options: ReplayOptions): Promise<Replay> {
  const codec = new AvroCodec(memorySchemaRegistry(), '', { maxPayloadBytes: 64 * 1024 })
  await codec.registerAll()
  const decoder = new RegistryRecordDecoder(codec, silentLogger)
  const processor = new EventProcessor(options.registry)
  return {
    encode: (events) => events.map((event) => ({
      topic: event.topic,
      key: event.value.playerId,
      partition: partitionForKey(event.value.playerId, options.partitions),
      bytes: codec.encode(event.topic, event.value),
      eventTimeMs: event.value.eventTimeMs,
    })),
    async run(input, runOptions = {}) {
      const store = createMemoryStore()
      const driver = new MemoryDriver({
        partitions: options.partitions,
        store,
        decoder,
        encoder: { encode: (topic, value) => codec.encode(topic, value) },
        processor,
        ruleSets: new RuleSetHolder(options.ruleSet),
        batchSize: options.batchSize,
        fetchSize: options.fetchSize,
      })
      for (const event of input) driver.produce(event.topic, event.key, event.bytes, event.eventTimeMs, event.partition)
      const cpuBefore = process.cpuUsage()
      const startMs = performance.now()
      await driver.run()
      const elapsedMs = performance.now() - startMs
      const cpu = process.cpuUsage(cpuBefore)
      return {
        events: input.length,
        decisions: driver.output('decisions').length,
        alerts: driver.output('alerts').length,
        deadLetters: driver.output('deadLetters').length,
        elapsedMs,
        cpuMs: (cpu.user + cpu.system) / 1000,
        state: runOptions.inspectState === true ? stateSizes(store.data) : undefined,
      }
    },
    async decode(input) {
      const offsets = new Map<string, number>()
      const decoded: Array<DecodedInput & { readonly topicIndex: number }> = []
      for (const encoded of input) {
        const offsetKey = `${encoded.topic}:${encoded.partition}`
        const offset = offsets.get(offsetKey) ?? 0
        offsets.set(offsetKey, offset + 1)
        const topic = TOPICS[encoded.topic].name
        const record = await decoder.decode({ topicKey: encoded.topic, topic, partition: encoded.partition, offset: BigInt(offset), timestampMs: encoded.eventTimeMs, key: Buffer.from(encoded.key), value: encoded.bytes })
        if (!record.ok) throw new Error(`benchmark input ${topic}/${encoded.partition}@${offset} does not decode: ${record.code} ${record.message}`)
        decoded.push({ topic, partition: encoded.partition, offset, event: record.event, topicIndex: INPUT_TOPIC_KEYS.indexOf(encoded.topic) })
      }
      decoded.sort((a, b) => a.partition - b.partition || a.event.eventTimeMs - b.event.eventTimeMs || a.topicIndex - b.topicIndex || a.offset - b.offset)
      return decoded.map(({ topic, partition, offset, event }) => ({ topic, partition, offset, event }))
    },
    step(decoded, ruleSet, stepOptions = {}) {
      const hash = stepOptions.fingerprint === true ? createHash('sha256') : null
      const roundTrip = stepOptions.roundTripStates === true
      const batchSize = options.batchSize ?? 500
      const players = new Map<string, PlayerState>()
      let changed = new Set<string>()
      let partition = -1
      let inBatch = 0
      let streamTimeMs = Number.NEGATIVE_INFINITY
      let decisions = 0
      let alerts = 0
      const cpuBefore = process.cpuUsage()
      const startMs = performance.now()
      for (const input of decoded) {
        if (input.partition !== partition) {
          partition = input.partition
          streamTimeMs = Number.NEGATIVE_INFINITY
          inBatch = batchSize
        }
        if (inBatch === batchSize) {
          changed = new Set()
          inBatch = 0
        }
        inBatch += 1
        const event = input.event
        if (event.eventTimeMs > streamTimeMs) streamTimeMs = event.eventTimeMs
        const owned = changed.has(event.playerId)
        const stored = players.get(event.playerId)
        const player = stored === undefined ? newPlayerState() : roundTrip && !owned ? (JSON.parse(JSON.stringify(stored)) as PlayerState) : stored
        const result = processor.process(event, player, ruleSet, input, streamTimeMs, owned)
        if (result.duplicate) continue
        players.set(event.playerId, result.player)
        changed.add(event.playerId)
        for (const output of result.outputs) {
          if (hash !== null) hash.update(`${output.topic}\u0000${output.key}\u0000${JSON.stringify(output.value)}\n`)
          if (output.topic === 'decisions') decisions += 1
          else if (output.topic === 'alerts') alerts += 1
        }
      }
      const elapsedMs = performance.now() - startMs
      const cpu = process.cpuUsage(cpuBefore)
      return {
        events: decoded.length, decisions, alerts, elapsedMs, cpuMs: (cpu.user + cpu.system) / 1000, fingerprint: hash === null ? undefined : hash.digest('hex'),
        state: stepOptions.inspectState === true ? stateSizes(new Map([...players].map(([playerId, player]) => [`p0000/s/${playerId}`, Buffer.from(JSON.stringify(player))]))) : undefined,
      }
    },
  }
}

/** Mean JSON bytes per player of the profile, the decided list and each detector's state, from the stored player records. */
function stateSizes(data: ReadonlyMap<string, Buffer>): { players: number; meanBytes: Record<string, number> } {
  const totals = new Map<string, number>()
  let players = 0
  for (const [key, value] of data) {
    if (!/^p\d{4}\/s\//.test(key)) continue
    players += 1
    const player = JSON.parse(value.toString('utf8')) as PlayerState
    const add = (part: string, bytes: number): void => void totals.set(part, (totals.get(part) ?? 0) + bytes)
    add('(whole record)', value.length)
    add('(profile)', JSON.stringify(player.profile).length)
    add('(withdrawals)', JSON.stringify(player.withdrawals).length)
    for (const [detectorId, entry] of Object.entries(player.detectors)) add(detectorId, JSON.stringify(entry).length)
  }
  return { players, meanBytes: Object.fromEntries([...totals].map(([part, bytes]) => [part, players === 0 ? 0 : Math.round(bytes / players)])) }
}
