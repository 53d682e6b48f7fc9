/**
 * Replay of recorded (or generated) input events through the real partition tasks on the
 * in-memory driver: the Avro codec over an in-memory schema registry, the decoder, the
 * detectors of a registry and a rule set, no broker. Benchmarks use it; a backtest can too.
 *
 * Example:
 *   const replay = await createReplay({ registry: new DetectorRegistry(), ruleSet, partitions: 8 })
 *   const input = replay.encode(generateFixture({ seed: 7, players: 100, days: 2 }))
 *   const run = await replay.run(input)   // { events, decisions, alerts, elapsedMs, cpuMs }
 */
import { silentLogger } from '../../core/logger.js'
import type { InputTopicKey } from '../../core/topics.js'
import type { DetectorRegistry } from '../../detectors/index.js'
import { RuleSetHolder, type RuleSet } from '../../detectors/rule-set.js'
import { RegistryRecordDecoder } from '../../pipelines/decoder.js'
import { MemoryDriver, partitionForKey } from '../../pipelines/memory-driver.js'
import { EventProcessor, type PlayerState } from '../../pipelines/processor.js'
import { createMemoryStore } from '../../pipelines/state/store.js'
import { AvroCodec, type SchemaRegistryClient } from '../../schemas/codec.js'
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
    add('(decided)', JSON.stringify(player.decided).length)
    for (const [detectorId, entry] of Object.entries(player.detectors)) add(detectorId, JSON.stringify(entry).length)
  }
  return { players, meanBytes: Object.fromEntries([...totals].map(([part, bytes]) => [part, players === 0 ? 0 : Math.round(bytes / players)])) }
}
