/**
 * The case worker: the Kafka side of the case service.
 *
 * In: consumes `risk.alerts.v1` (consumer group `<groupId>-cases`), decodes each record with the
 * codec and files it with CaseService.ingestAlert. Offsets are committed only after the batch's
 * alerts are in the case store (synced) and its dead letters are acknowledged, so a crash
 * re-reads at most the uncommitted stretch, whose alerts ingest as duplicates (no change).
 * Alerts of one player are filed in offset order; different players' in parallel (the store
 * writes them in one group commit).
 *
 * Bad records go to `risk.dlq.v1` with the reason, like the engine's input: undecodable
 * payloads (the codec's RISK_ERR_DECODE_*), a key that is not the alert's playerId
 * (RISK_ERR_KEY_MISMATCH), an alert the case service refuses (RISK_ERR_INVALID_FIELD) or one
 * whose filing threw unexpectedly (RISK_ERR_PROCESSING_FAILED). Store and broker failures are
 * not the record's fault: the batch is retried (kafkajs backoff), never dead-lettered.
 *
 * Out: an OutboxRelay publishes the store's outbox (case events to `risk.case-events.v1`,
 * labels to `risk.labels.v1`, both keyed by caseId) with acks from all in-sync replicas.
 *
 * Example:
 *   const cases = await createCaseService({ directory: config.cases.dir, clock: systemClock })
 *   const worker = new CaseWorker({ config, kafka: createKafka(config.kafka, logger), codec, service: cases, logger })
 *   await worker.start()
 *   ...
 *   await worker.stop()
 *   await cases.shutdown()
 */
import { type Consumer, type EachBatchPayload, type Kafka, type KafkaMessage, type Producer } from 'kafkajs'
import { groupConsumerConfig, ORDERED_PRODUCER_CONFIG } from '../core/kafka.js'
import type { PitbossConfig } from '../core/config.js'
import { isRiskError, type ErrorCode } from '../core/errors.js'
import type { Logger } from '../core/logger.js'
import { topicName } from '../core/topics.js'
import type { AvroCodec } from '../schemas/codec.js'
import { deadLetterIdOf } from '../schemas/domain.js'
import type { Alert, DeadLetter } from '../schemas/generated/types.js'
import type { CaseService } from './case-service.js'
import { OutboxRelay } from './outbox-relay.js'
import type { OutboxMessage } from './types.js'

export interface CaseWorkerOptions {
  readonly config: PitbossConfig
  readonly kafka: Kafka
  readonly codec: AvroCodec
  readonly service: CaseService
  readonly logger: Logger
  /** Consumer group; default `${config.kafka.groupId}-cases`. */
  readonly groupId?: string
  /** How often the relay looks at the outbox without being woken (default 1000 ms). */
  readonly relayPollIntervalMs?: number
  /** Called when the consumer crashed and kafkajs will not restart it (the process should exit and be restarted). */
  readonly onFatal?: (error: Error) => void
  readonly onIngested?: (count: number) => void
  readonly onDeadLetter?: (reason: ErrorCode) => void
}

interface Filing {
  readonly offset: string
  readonly message: KafkaMessage
  readonly alert: Alert
}

export class CaseWorker {
  private readonly consumer: Consumer
  private readonly producer: Producer
  private readonly relay: OutboxRelay
  private readonly alertsTopic: string
  private readonly deadLettersTopic: string
  private readonly caseEventsTopic: string
  private readonly labelsTopic: string

  constructor(private readonly options: CaseWorkerOptions) {
    const { config, kafka } = options
    this.alertsTopic = topicName(config.kafka, 'alerts')
    this.deadLettersTopic = topicName(config.kafka, 'deadLetters')
    this.caseEventsTopic = topicName(config.kafka, 'caseEvents')
    this.labelsTopic = topicName(config.kafka, 'labels')
    this.consumer = kafka.consumer(groupConsumerConfig(config.kafka, options.groupId ?? `${config.kafka.groupId}-cases`))
    // Each partition's messages stay in outbox order across retries.
    this.producer = kafka.producer(ORDERED_PRODUCER_CONFIG)
    this.relay = new OutboxRelay({
      source: options.service.outbox,
      publish: (messages) => this.publish(messages),
      logger: options.logger.child({ component: 'case-outbox' }),
      pollIntervalMs: options.relayPollIntervalMs,
    })
  }

  async start(): Promise<void> {
    const { logger } = this.options
    await this.producer.connect()
    this.relay.start()
    await this.consumer.connect()
    this.consumer.on(this.consumer.events.CRASH, (event) => {
      logger.error({ err: event.payload.error, restart: event.payload.restart }, 'case worker consumer crashed')
      if (!event.payload.restart) this.options.onFatal?.(event.payload.error)
    })
    await this.consumer.subscribe({ topics: [this.alertsTopic], fromBeginning: true })
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 4,
      eachBatch: (payload) => this.onBatch(payload),
    })
    logger.info({ topic: this.alertsTopic }, 'case worker consuming alerts')
  }

  /** Finishes the batch in hand (it commits), stops the relay after its batch, disconnects. */
  async stop(): Promise<void> {
    await this.consumer.disconnect()
    await this.relay.stop()
    await this.producer.disconnect()
  }

  private async onBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const { codec, service, logger } = this.options
    const deadLetters: DeadLetter[] = []
    const deadLetter = (message: KafkaMessage, reason: ErrorCode, text: string, schemaId: number | null): void => {
      deadLetters.push({
        dlqId: deadLetterIdOf(batch.topic, batch.partition, message.offset),
        sourceTopic: batch.topic,
        sourcePartition: batch.partition,
        sourceOffset: Number(message.offset),
        sourceTimestampMs: Number(message.timestamp),
        reason,
        message: text,
        schemaId,
        key: message.key ?? null,
        payload: message.value ?? Buffer.alloc(0),
      })
      this.options.onDeadLetter?.(reason)
      logger.warn({ topic: batch.topic, partition: batch.partition, offset: message.offset, reason, message: text }, 'alert sent to the dead-letter topic')
    }

    const byPlayer = new Map<string, Filing[]>()
    for (const message of batch.messages) {
      if (!isRunning() || isStale()) return
      const decoded = await codec.decode('alerts', message.value)
      if (!decoded.ok) {
        deadLetter(message, decoded.code, decoded.message, decoded.schemaId)
        continue
      }
      const key = message.key === null ? null : message.key.toString('utf8')
      if (key !== decoded.value.playerId) {
        deadLetter(message, 'RISK_ERR_KEY_MISMATCH', `message key ${JSON.stringify(key)} is not the alert's playerId ${JSON.stringify(decoded.value.playerId)}`, null)
        continue
      }
      const filings = byPlayer.get(key) ?? []
      filings.push({ offset: message.offset, message, alert: decoded.value })
      byPlayer.set(key, filings)
    }

    let ingested = 0
    await Promise.all([...byPlayer.values()].map(async (filings) => {
      for (const filing of filings) {
        try {
          await service.ingestAlert(filing.alert)
          ingested += 1
        } catch (error) {
          if (isRiskError(error, 'RISK_ERR_INVALID_FIELD')) {
            deadLetter(filing.message, error.code, error.message, null)
          } else if (!isRiskError(error)) {
            logger.error({ err: error, topic: batch.topic, partition: batch.partition, offset: filing.offset }, 'filing an alert threw unexpectedly; sent to the dead-letter topic')
            deadLetter(filing.message, 'RISK_ERR_PROCESSING_FAILED', error instanceof Error ? error.message : String(error), null)
          } else {
            // The store or shutdown: not the record's fault. Retried from the last commit; filed alerts come back as duplicates.
            throw error
          }
        }
      }
    }))
    if (deadLetters.length > 0) {
      await this.producer.send({
        topic: this.deadLettersTopic,
        acks: -1,
        messages: deadLetters.map((letter) => ({ key: letter.dlqId, value: codec.encode('deadLetters', letter) })),
      })
    }
    const last = batch.messages[batch.messages.length - 1]
    if (last !== undefined) {
      resolveOffset(last.offset)
      await this.consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: String(BigInt(last.offset) + 1n) }])
    }
    this.options.onIngested?.(ingested)
    await heartbeat()
  }

  /** The relay's publisher: both topics in one request, acknowledged by all in-sync replicas. */
  private async publish(messages: readonly OutboxMessage[]): Promise<void> {
    const { codec } = this.options
    const caseEvents: Array<{ key: string; value: Buffer }> = []
    const labels: Array<{ key: string; value: Buffer }> = []
    for (const message of messages) {
      if (message.topic === 'caseEvents') caseEvents.push({ key: message.key, value: codec.encode('caseEvents', message.value) })
      else labels.push({ key: message.key, value: codec.encode('labels', message.value) })
    }
    const topicMessages = [
      ...(caseEvents.length > 0 ? [{ topic: this.caseEventsTopic, messages: caseEvents }] : []),
      ...(labels.length > 0 ? [{ topic: this.labelsTopic, messages: labels }] : []),
    ]
    await this.producer.sendBatch({ topicMessages, acks: -1 })
  }
}
