/**
 * Produces simulated events to the configured broker through the schema registry (Confluent wire
 * format, the topics of core/topics.ts with the configured prefix), keyed by playerId, in
 * batches of up to 1000 as bench/demo.ts does; at a target rate, or as fast as the broker takes
 * them. The topics must exist (`npm run infra:up` creates the catalog; the local mock broker
 * cannot create topics through the admin API).
 *
 * Example: await produceToBroker(simulation.events, loadConfig(), { ratePerSecond: 5000 })
 */
import { Partitioners } from 'kafkajs'
import { sleep } from '../../core/clock.js'
import type { PitbossConfig } from '../../core/config.js'
import { createKafka } from '../../core/kafka.js'
import { silentLogger } from '../../core/logger.js'
import { topicName } from '../../core/topics.js'
import { AvroCodec, createHttpRegistryClient } from '../../schemas/codec.js'
import type { SimulatedEvent } from './world.js'

export interface BrokerOutputOptions {
  /** Target events per second; absent or 0 = as fast as possible. */
  readonly ratePerSecond?: number
  readonly batchSize?: number
  readonly onProgress?: (produced: number) => void
}

export async function produceToBroker(events: readonly SimulatedEvent[], config: PitbossConfig, options: BrokerOutputOptions = {}): Promise<void> {
  const codec = new AvroCodec(createHttpRegistryClient(config.registry.url), config.kafka.topicPrefix, { maxPayloadBytes: config.pipeline.maxPayloadBytes })
  await codec.registerAll()
  const producer = createKafka(config.kafka, silentLogger).producer({ createPartitioner: Partitioners.DefaultPartitioner })
  await producer.connect()
  try {
    const batchSize = options.batchSize ?? 1000
    const rate = options.ratePerSecond ?? 0
    // Smaller batches at a low rate, so the pacing is smooth (about ten sends a second).
    const step = rate > 0 ? Math.max(1, Math.min(batchSize, Math.ceil(rate / 10))) : batchSize
    const startedMs = performance.now()
    for (let start = 0; start < events.length; start += step) {
      const byTopic = new Map<string, Array<{ key: string; value: Buffer }>>()
      for (const event of events.slice(start, start + step)) {
        const name = topicName(config.kafka, event.topic)
        const messages = byTopic.get(name) ?? []
        messages.push({ key: event.value.playerId, value: codec.encode(event.topic, event.value) })
        byTopic.set(name, messages)
      }
      await producer.sendBatch({ topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) })
      const produced = Math.min(events.length, start + step)
      options.onProgress?.(produced)
      if (rate > 0) {
        const aheadMs = (produced / rate) * 1000 - (performance.now() - startedMs)
        if (aheadMs > 0) await sleep(aheadMs)
      }
    }
  } finally {
    await producer.disconnect()
  }
}
