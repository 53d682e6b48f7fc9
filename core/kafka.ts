/**
 * A kafkajs client configured from PitbossConfig, logging through our structured logger.
 */
import { Kafka, logLevel as KafkaLogLevel, type ConsumerConfig, type LogEntry, type ProducerConfig } from 'kafkajs'
import { JavaCompatiblePartitioner } from './partitioner.js'
import type { KafkaConfig } from './config.js'
import type { Logger } from './logger.js'

export function createKafka(config: KafkaConfig, logger: Logger): Kafka {
  const log = logger.child({ component: 'kafkajs' })
  return new Kafka({
    clientId: config.clientId,
    brokers: [...config.brokers],
    connectionTimeout: 3000,
    requestTimeout: 30_000,
    // kafkajs's INFO level narrates every join and rebalance; ours records those itself.
    logLevel: KafkaLogLevel.WARN,
    logCreator: () => ({ namespace, level, log: entry }: LogEntry) => {
      const { message, ...rest } = entry
      const fields = { namespace, ...rest }
      if (level <= KafkaLogLevel.ERROR) log.error(fields, message)
      else if (level === KafkaLogLevel.WARN) log.warn(fields, message)
      else log.debug(fields, message)
    },
  })
}

/**
 * The consumer settings every pitboss consumer group shares (engine, graph worker, case worker):
 * the group timing of the config, no topic auto-creation (topics come from the catalog), and
 * retries with backoff. Callers add their group id and, where they need one, an assigner.
 *
 * Example: kafka.consumer({ ...groupConsumerConfig(config.kafka, `${config.kafka.groupId}-graph`), partitionAssigners: [assigner] })
 */
export function groupConsumerConfig(config: KafkaConfig, groupId: string): ConsumerConfig {
  return {
    groupId,
    sessionTimeout: config.sessionTimeoutMs,
    heartbeatInterval: config.heartbeatIntervalMs,
    rebalanceTimeout: config.rebalanceTimeoutMs,
    maxWaitTimeInMs: config.maxWaitTimeMs,
    allowAutoTopicCreation: false,
    retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 5000 },
  }
}

/** A producer that keeps each partition in send order across retries (one request in flight). */
export const ORDERED_PRODUCER_CONFIG: ProducerConfig = Object.freeze({
  createPartitioner: JavaCompatiblePartitioner,
  allowAutoTopicCreation: false,
  maxInFlightRequests: 1,
  retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2000 },
})
