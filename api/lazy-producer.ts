/**
 * The API's Kafka producer: connects on first use, so the API starts (and serves reads) while the
 * broker is still down; sends with acks -1 (all in-sync replicas). Not idempotent: the test broker
 * cannot do it (INFRA-NOTES.md), so a retry may write a record twice and every consumer of what
 * the API produces de-duplicates (reviews and screening instructions by eventId, audit entries by
 * hash). The review, screening and audit publishers share it.
 *
 * Example:
 *   const producer = createLazyProducer(config, logger)
 *   await producer.send('risk.reviews.v1', [{ key: verdict.playerId, value }])
 *   await producer.close()
 */
import type { Producer } from 'kafkajs'
import { JavaCompatiblePartitioner } from '../core/partitioner.js'
import type { KafkaConfig } from '../core/config.js'
import { createKafka } from '../core/kafka.js'
import type { Logger } from '../core/logger.js'

export interface LazyProducer {
  /** Sends to one topic; resolves once acknowledged; rejects with the client's error. */
  send(topic: string, messages: ReadonlyArray<{ readonly key: string; readonly value: Buffer }>): Promise<void>
  /** Disconnects (waits for a connect in flight). */
  close(): Promise<void>
}

export function createLazyProducer(config: { readonly kafka: KafkaConfig }, logger: Logger): LazyProducer {
  let producer: Producer | null = null
  let connecting: Promise<Producer> | null = null

  function connected(): Promise<Producer> {
    connecting ??= (async () => {
      const created = createKafka(config.kafka, logger).producer({ createPartitioner: JavaCompatiblePartitioner, allowAutoTopicCreation: false })
      try {
        await created.connect()
      } catch (error) {
        connecting = null
        throw error
      }
      producer = created
      return created
    })()
    return connecting
  }

  return {
    async send(topic, messages) {
      const ready = await connected()
      await ready.send({ topic, acks: -1, messages: messages.map((message) => ({ key: message.key, value: message.value })) })
    },
    async close() {
      await connecting?.catch(() => undefined)
      await (producer as Producer | null)?.disconnect()
      producer = null
    },
  }
}
