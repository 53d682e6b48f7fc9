/**
 * An in-memory pipeline for unit tests: the real codec (over an in-memory registry), decoder,
 * detectors, rule set and partition tasks, on the MemoryDriver.
 */
import { silentLogger } from '../../core/logger.js'
import type { InputTopicKey, TopicKey } from '../../core/topics.js'
import type { ScreenFunction } from '../../detectors/detector.js'
import { DetectorRegistry } from '../../detectors/index.js'
import { RuleSet, RuleSetHolder, type RuleSetDocument } from '../../detectors/rule-set.js'
import { RegistryRecordDecoder } from '../../pipelines/decoder.js'
import { MemoryDriver, type DriverOptions } from '../../pipelines/memory-driver.js'
import type { PartitionTaskOptions } from '../../pipelines/partition-task.js'
import { EventProcessor } from '../../pipelines/processor.js'
import { createMemoryStore, type StateStore } from '../../pipelines/state/store.js'
import { AvroCodec } from '../../schemas/codec.js'
import type { Decision, DeadLetter } from '../../schemas/generated/types.js'
import { InMemorySchemaRegistry } from '../schemas/memory-registry.js'

export const DEFAULT_RULE_SET_PATH = new URL('../../detectors/rule-sets/default.json', import.meta.url).pathname

export interface TestPipeline {
  readonly driver: MemoryDriver
  readonly codec: AvroCodec
  readonly store: StateStore & { data?: Map<string, Buffer> }
  readonly ruleSets: RuleSetHolder
  send(topic: InputTopicKey, value: { playerId: string; eventTimeMs: number }, options?: { key?: string | null }): void
  sendRaw(topic: InputTopicKey, key: string | null, bytes: Buffer | null): void
  decisions(): Promise<Decision[]>
  deadLetters(): Promise<DeadLetter[]>
  /** Every output of a topic, decoded, in emission order. */
  outputs<T>(topic: TopicKey): Promise<T[]>
}

/** `detectors` replaces the registered list (e.g. a test-only detector); `metrics` and `logger` let a test see what the tasks count and log. */
export async function testPipeline(options: Partial<Pick<DriverOptions, 'partitions' | 'fetchSize' | 'batchSize' | 'checkpointBatches' | 'cacheSize' | 'crashOnEmit' | 'metrics' | 'logger'>> & { store?: StateStore; ruleSet?: RuleSetDocument; maxPayloadBytes?: number; detectors?: DetectorRegistry; screen?: ScreenFunction | null; scorer?: PartitionTaskOptions['scorer'] } = {}): Promise<TestPipeline> {
  const codec = new AvroCodec(new InMemorySchemaRegistry(), '', { maxPayloadBytes: options.maxPayloadBytes ?? 4096 })
  await codec.registerAll()
  const detectors = options.detectors ?? new DetectorRegistry()
  const ruleSets = new RuleSetHolder(options.ruleSet === undefined ? RuleSet.load(DEFAULT_RULE_SET_PATH, detectors) : RuleSet.parse(options.ruleSet, detectors))
  const store = options.store ?? createMemoryStore()
  const driver = new MemoryDriver({
    partitions: options.partitions ?? 2,
    store,
    decoder: new RegistryRecordDecoder(codec, silentLogger),
    encoder: { encode: (topic, value) => codec.encode(topic, value) },
    processor: new EventProcessor(detectors, { screen: options.screen ?? null, scoring: options.scorer !== undefined && options.scorer !== null }),
    scorer: options.scorer ?? null,
    ruleSets,
    fetchSize: options.fetchSize,
    batchSize: options.batchSize,
    checkpointBatches: options.checkpointBatches,
    cacheSize: options.cacheSize,
    crashOnEmit: options.crashOnEmit,
    metrics: options.metrics,
    logger: options.logger,
  })
  const decodeAll = async <T>(topic: TopicKey): Promise<T[]> => {
    const values: T[] = []
    for (const message of driver.output(topic)) {
      const decoded = await codec.decode(topic, message.value)
      if (!decoded.ok) throw new Error(decoded.message)
      values.push(decoded.value as T)
    }
    return values
  }
  return {
    driver, codec, store, ruleSets,
    send(topic, value, sendOptions = {}) {
      const key = sendOptions.key === undefined ? value.playerId : sendOptions.key
      driver.produce(topic, key, codec.encode(topic, value), value.eventTimeMs)
    },
    sendRaw(topic, key, bytes) {
      driver.produce(topic, key, bytes, 0)
    },
    decisions: () => decodeAll<Decision>('decisions'),
    deadLetters: () => decodeAll<DeadLetter>('deadLetters'),
    outputs: <T>(topic: TopicKey) => decodeAll<T>(topic),
  }
}
