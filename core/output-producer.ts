/**
 * What produces the engine's outputs: librdkafka (@confluentinc/kafka-javascript's native
 * binding) where it is installed, kafkajs otherwise or when configured
 * (PITBOSS_KAFKA_OUTPUT_PRODUCER = auto | librdkafka | kafkajs).
 *
 * Why librdkafka: kafkajs encodes every record batch, its CRC and the produce request in
 * JavaScript on the engine's main thread, beside the consumer's decoding; librdkafka does that
 * on its own threads, and the main thread only hands over each message's key, value and headers
 * (bench/README.md, "The outputs through librdkafka": ~7% less CPU on the main thread at 5k
 * events/s; the latency did not move measurably on two cores).
 * The binding is an optional dependency: it compiles at install time (CKJS_LINKING=dynamic
 * builds it against Debian's libssl-dev and zlib1g-dev, README.md), and where it did not, `auto`
 * produces with kafkajs and says so at start.
 *
 * Both producers resolve `send` once the broker acknowledged every message (acks=all), and keep
 * each partition in send order across retries (one request in flight per broker) with the Java
 * client's partitioner (murmur2 of the key: test/integration/output-producer.test.ts checks that
 * librdkafka picks the partitions kafkajs's JavaCompatiblePartitioner picks). Neither is
 * idempotent (the local mock broker lacks it for kafkajs): a retry after a lost acknowledgement
 * can duplicate a message, which the outputs' consumers absorb (outputs carry deterministic ids).
 *
 * Example:
 *   const outputs = createOutputProducer(config.kafka, kafka, logger)
 *   await outputs.connect()
 *   await outputs.send([{ topic: 'risk.decisions.v1', messages: [{ key: 'wd-1', value, headers }] }])
 */
import { createRequire } from 'node:module'
import type { Kafka, TopicMessages as KafkajsTopicMessages } from 'kafkajs'
import type { KafkaConfig } from './config.js'
import { RiskError } from './errors.js'
import { ORDERED_PRODUCER_CONFIG } from './kafka.js'
import type { Logger } from './logger.js'

export interface ProducedMessage {
  readonly key: string
  readonly value: Buffer
  readonly headers: Readonly<Record<string, string>>
}

export interface ProducedTopic {
  readonly topic: string
  readonly messages: readonly ProducedMessage[]
}

export interface OutputProducer {
  readonly client: 'librdkafka' | 'kafkajs'
  /**
   * Whether messages sent while a request is in flight go out together in the next request
   * without the caller's help (librdkafka). kafkajs sends each call as a request of its own, one
   * in flight at a time, so its callers gather (pipelines/kafka/output-coalescer.ts).
   */
  readonly gathersRequests: boolean
  connect(): Promise<void>
  /** Resolves once the broker acknowledged every message; rejects if any of them failed. */
  send(topicMessages: readonly ProducedTopic[]): Promise<void>
  disconnect(): Promise<void>
}

/**
 * The part of @confluentinc/kafka-javascript's node-rdkafka API used here, declared locally:
 * the package is optional, and the engine typechecks where it is not installed.
 */
interface LibrdkafkaError extends Error {
  readonly code?: number
}
interface DeliveryReport {
  readonly opaque?: unknown
}
type MessageHeader = Record<string, string>
interface RdProducer {
  connect(options: { timeout: number }, callback: (error: LibrdkafkaError | null) => void): unknown
  setPollInBackground(set: boolean): void
  produce(topic: string, partition: number, value: Buffer, key: string, timestamp: number | null, opaque: unknown, headers: MessageHeader[]): unknown
  disconnect(flushTimeoutMs: number, callback: () => void): unknown
  on(event: 'delivery-report', listener: (error: LibrdkafkaError | null, report: DeliveryReport) => void): unknown
  on(event: 'event.error', listener: (error: LibrdkafkaError) => void): unknown
}
export interface Binding {
  readonly Producer: new (config: Record<string, string | number | boolean>) => RdProducer
}

/** The native binding, or why it cannot be loaded (not installed, or built for another Node). */
export function loadLibrdkafka(): Binding | Error {
  try {
    return createRequire(import.meta.url)('@confluentinc/kafka-javascript') as Binding
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error))
  }
}

/** The engine's output producer as `config.outputProducer` says; `load` is for tests. */
export function createOutputProducer(config: KafkaConfig, kafka: Kafka, logger: Logger, load: () => Binding | Error = loadLibrdkafka): OutputProducer {
  if (config.outputProducer === 'kafkajs') return new KafkajsOutputProducer(kafka)
  const binding = load()
  if (!(binding instanceof Error)) return new LibrdkafkaOutputProducer(binding, config, logger)
  if (config.outputProducer === 'librdkafka') {
    throw new RiskError('RISK_ERR_CONFIG_INVALID', `PITBOSS_KAFKA_OUTPUT_PRODUCER is librdkafka but @confluentinc/kafka-javascript cannot be loaded (${binding.message}); install it with CKJS_LINKING=dynamic npm install, or choose kafkajs`, { variable: 'PITBOSS_KAFKA_OUTPUT_PRODUCER' }, { cause: binding })
  }
  logger.warn({ err: binding }, 'the librdkafka binding (@confluentinc/kafka-javascript) is not installed or does not load: producing the outputs with kafkajs, which costs the main thread more (README.md, install)')
  return new KafkajsOutputProducer(kafka)
}

/** kafkajs's producer, one request in flight (ORDERED_PRODUCER_CONFIG). */
export class KafkajsOutputProducer implements OutputProducer {
  readonly client = 'kafkajs' as const
  readonly gathersRequests = false
  private readonly producer

  constructor(kafka: Kafka) {
    this.producer = kafka.producer(ORDERED_PRODUCER_CONFIG)
  }

  connect(): Promise<void> {
    return this.producer.connect()
  }

  async send(topicMessages: readonly ProducedTopic[]): Promise<void> {
    // kafkajs only reads the messages; its types ask for mutable arrays.
    await this.producer.sendBatch({ topicMessages: topicMessages as KafkajsTopicMessages[], acks: -1 })
  }

  disconnect(): Promise<void> {
    return this.producer.disconnect()
  }
}

/** One send's messages still waiting for their delivery reports. */
interface Pending {
  remaining: number
  settled: boolean
  readonly resolve: () => void
  readonly reject: (error: unknown) => void
}

export interface LibrdkafkaOptions {
  /** How long connect waits for the first broker. */
  readonly connectTimeoutMs?: number
}

/** How long a graceful disconnect waits for messages in flight before dropping them (they are re-emitted after restart). */
const DISCONNECT_FLUSH_MS = 5000

/** librdkafka's producer; delivery reports come from its background thread. */
export class LibrdkafkaOutputProducer implements OutputProducer {
  readonly client = 'librdkafka' as const
  readonly gathersRequests = true
  private readonly producer: RdProducer
  private readonly pending = new Set<Pending>()
  private readonly connectTimeoutMs: number
  private connected = false

  constructor(binding: Binding, config: KafkaConfig, private readonly logger: Logger, options: LibrdkafkaOptions = {}) {
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000
    this.producer = new binding.Producer({
      'bootstrap.servers': config.brokers.join(','),
      'client.id': config.clientId,
      'acks': -1,
      'enable.idempotence': false,
      // One request in flight per broker: a retried request cannot overtake the next one.
      'max.in.flight.requests.per.connection': 1,
      // The Java client's partitioner: murmur2 of the key, as kafkajs's JavaCompatiblePartitioner.
      'partitioner': 'murmur2_random',
      'allow.auto.create.topics': false,
      // The outputs of a batch are handed over in one turn; librdkafka sends what is queued as
      // soon as the previous request is acknowledged, without lingering.
      'linger.ms': 0,
      'socket.nagle.disable': true,
      'retry.backoff.ms': 100,
      'retry.backoff.max.ms': 2000,
      // A message not acknowledged within this fails its send; the runner retries the batch
      // (kafkajs's request timeout is the same).
      'message.timeout.ms': 30_000,
      'dr_cb': true,
    })
    this.producer.on('delivery-report', (error, report) => this.delivered(error, report.opaque as Pending))
    this.producer.on('event.error', (error) => this.logger.warn({ err: error }, 'output producer (librdkafka): broker connection error; it reconnects and retries by itself'))
  }

  async connect(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.producer.connect({ timeout: this.connectTimeoutMs }, (error) => {
        if (error) reject(new RiskError('RISK_ERR_KAFKA_PRODUCE', `the output producer (librdkafka) could not reach the brokers: ${error.message}`, {}, { cause: error }))
        else resolve()
      })
    })
    this.producer.setPollInBackground(true)
    this.connected = true
  }

  send(topicMessages: readonly ProducedTopic[]): Promise<void> {
    if (!this.connected) return Promise.reject(new RiskError('RISK_ERR_KAFKA_PRODUCE', 'the output producer (librdkafka) is not connected'))
    let count = 0
    for (const { messages } of topicMessages) count += messages.length
    if (count === 0) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      const pending: Pending = { remaining: count, settled: false, resolve, reject }
      this.pending.add(pending)
      let headersOf: Readonly<Record<string, string>> | null = null
      let headers: MessageHeader[] = []
      try {
        for (const { topic, messages } of topicMessages) {
          for (const message of messages) {
            // A batch's messages share one headers object (outputHeaders): converted once.
            if (message.headers !== headersOf) {
              headersOf = message.headers
              headers = Object.entries(message.headers).map(([key, value]) => ({ [key]: value }))
            }
            this.producer.produce(topic, -1, message.value, message.key, null, pending, headers)
          }
        }
      } catch (error) {
        // librdkafka refused a message (its queue is full, or the producer is closing). The ones
        // already queued still report, but the send has failed: the runner retries all of it.
        this.settle(pending, new RiskError('RISK_ERR_KAFKA_PRODUCE', `librdkafka refused an output: ${(error as Error).message}`, {}, { cause: error }))
      }
    })
  }

  private delivered(error: LibrdkafkaError | null, pending: Pending): void {
    pending.remaining -= 1
    if (error) this.settle(pending, new RiskError('RISK_ERR_KAFKA_PRODUCE', `an output was not acknowledged: ${error.message}`, {}, { cause: error }))
    else if (pending.remaining === 0) this.settle(pending, null)
  }

  private settle(pending: Pending, error: Error | null): void {
    if (pending.settled) return
    pending.settled = true
    this.pending.delete(pending)
    if (error === null) pending.resolve()
    else pending.reject(error)
  }

  async disconnect(): Promise<void> {
    if (!this.connected) return
    this.connected = false
    await new Promise<void>((resolve) => {
      this.producer.disconnect(DISCONNECT_FLUSH_MS, () => resolve())
    })
    for (const pending of [...this.pending]) {
      this.settle(pending, new RiskError('RISK_ERR_SHUTDOWN', 'the output producer closed before the broker acknowledged these outputs; they are re-emitted after restart'))
    }
  }
}
