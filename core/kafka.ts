/**
 * A kafkajs client configured from PitbossConfig, logging through our structured logger.
 */
import { Kafka, logLevel as KafkaLogLevel, type LogEntry } from 'kafkajs'
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
