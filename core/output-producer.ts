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
 * each partition in send order across retries (one request in flight per broker; librdkafka's
 * link records go through a second producer, a lane of their own: OutputLane) with the Java
 * client's partitioner (murmur2 of the key: test/integration/output-producer.test.ts checks that
 * librdkafka picks the partitions kafkajs's JavaCompatiblePartitioner picks). Neither is
 * idempotent (the local mock broker lacks it for kafkajs): a retry after a lost acknowledgement
 * can duplicate a message, which the outputs' consumers absorb (outputs carry deterministic ids).
 *
 * librdkafka's statistics reports (every PITBOSS_KAFKA_OUTPUT_STATS_INTERVAL_MS) go to
 * `onStatistics` as OutputProducerStatistics, per lane, which the engine exports as
 * pitboss_output_producer_*.
 *
 * Example:
 *   const outputs = createOutputProducer(config.kafka, kafka, logger, { bulkTopics: ['risk.links.v1'], onStatistics: (statistics, lane) => metrics.outputProducerStatistics(statistics, lane) })
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
  on(event: 'event.stats', listener: (stats: { readonly message: string }) => void): unknown
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

export interface OutputProducerOptions {
  /** Where the binding comes from (tests). */
  readonly load?: () => Binding | Error
  /** Called with librdkafka's statistics every `config.outputStatisticsIntervalMs`, per lane (kafkajs has none). */
  readonly onStatistics?: (statistics: OutputProducerStatistics, lane: OutputLane) => void
  /** Topics librdkafka produces in a lane of their own (LibrdkafkaOptions.bulkTopics); kafkajs has one. */
  readonly bulkTopics?: readonly string[]
}

/** The engine's output producer as `config.outputProducer` says. */
export function createOutputProducer(config: KafkaConfig, kafka: Kafka, logger: Logger, options: OutputProducerOptions = {}): OutputProducer {
  if (config.outputProducer === 'kafkajs') return new KafkajsOutputProducer(kafka)
  const binding = (options.load ?? loadLibrdkafka)()
  if (!(binding instanceof Error)) return new LibrdkafkaOutputProducer(binding, config, logger, { onStatistics: options.onStatistics, bulkTopics: options.bulkTopics })
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
  /** Called with each lane's statistics every `config.outputStatisticsIntervalMs` (none when that is 0). */
  readonly onStatistics?: (statistics: OutputProducerStatistics, lane: OutputLane) => void
  /**
   * Topics produced through a second librdkafka producer, the `bulk` lane: its own connection and
   * its own request in flight, so the `primary` lane's requests (the decisions and the rest) do
   * not queue behind theirs. A topic always goes through the same lane, so each partition keeps
   * its send order. None: one lane.
   */
  readonly bulkTopics?: readonly string[]
}

/**
 * The engine's two librdkafka producers. Each has one request in flight per broker, and librdkafka
 * puts one partition in each request (confluentinc/librdkafka#1700), so every partition a send
 * touches costs a round trip in turn: the link records (three quarters of the output messages at 5k events/s, spread over
 * every partition of risk.links.v1) go through `bulk`, and a decision waits behind the few
 * partitions of its own batch's other outputs only (bench/README.md, session 20).
 */
export type OutputLane = 'primary' | 'bulk'

/**
 * What librdkafka says about its producer, from one statistics report (`statistics.interval.ms`),
 * over the brokers the outputs go to. The latencies cover the report's interval only
 * (librdkafka starts each interval's histograms afresh); the counts are since the start.
 *
 * `queue` is what one partition per request and one request in flight cost each message (OutputLane).
 */
export interface OutputProducerStatistics {
  /** Produce requests sent since the producer started. */
  readonly produceRequests: number
  /** Messages sent since the producer started (librdkafka's `txmsgs`). */
  readonly messagesSent: number
  /** Messages in the producer's queues at the report (`msg_cnt`): handed over, not yet acknowledged. */
  readonly queuedMessages: number
  /**
   * Over the interval, per stage: `queue`, a message from its hand-over until it is in a request
   * (`int_latency`, one per message); `outbuf`, a request waiting to be written to its socket
   * (`outbuf_latency`); `rtt`, a request from its write to its answer (`rtt`, one per request).
   */
  readonly latency: Readonly<Record<OutputLatencyStage, LatencyWindow>>
}

export type OutputLatencyStage = 'queue' | 'outbuf' | 'rtt'
export const OUTPUT_LATENCY_STAGES: readonly OutputLatencyStage[] = ['queue', 'outbuf', 'rtt']

/** One interval's latencies; with several brokers, counts and sums add up and p50/p99/max are the highest broker's. */
export interface LatencyWindow {
  readonly count: number
  readonly sumMs: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly maxMs: number
}

/** librdkafka's windowed histogram (microseconds), the fields read here. */
interface RdHistogram { readonly cnt?: number; readonly sum?: number; readonly p50?: number; readonly p99?: number; readonly max?: number }
interface RdBrokerStatistics {
  readonly nodeid?: number
  readonly req?: Readonly<Record<string, number>>
  readonly int_latency?: RdHistogram
  readonly outbuf_latency?: RdHistogram
  readonly rtt?: RdHistogram
}

/**
 * Reads one librdkafka statistics report (its JSON, STATISTICS.md in librdkafka). The bootstrap
 * and internal pseudo-brokers (node id -1) are left out. Throws on a report that is not JSON.
 *
 * Example: parseProducerStatistics(report).latency.queue.p99Ms -> 7.4
 */
export function parseProducerStatistics(report: string): OutputProducerStatistics {
  const parsed = JSON.parse(report) as { readonly txmsgs?: number; readonly msg_cnt?: number; readonly brokers?: Readonly<Record<string, RdBrokerStatistics>> }
  const windows = Object.fromEntries(OUTPUT_LATENCY_STAGES.map((stage) => [stage, { count: 0, sumMs: 0, p50Ms: 0, p99Ms: 0, maxMs: 0 }])) as Record<OutputLatencyStage, { -readonly [K in keyof LatencyWindow]: LatencyWindow[K] }>
  const fields: ReadonlyArray<readonly [OutputLatencyStage, keyof RdBrokerStatistics]> = [['queue', 'int_latency'], ['outbuf', 'outbuf_latency'], ['rtt', 'rtt']]
  let produceRequests = 0
  for (const broker of Object.values(parsed.brokers ?? {})) {
    if ((broker.nodeid ?? -1) < 0) continue
    produceRequests += broker.req?.['Produce'] ?? 0
    for (const [stage, field] of fields) {
      const histogram = broker[field] as RdHistogram | undefined
      const count = histogram?.cnt ?? 0
      if (histogram === undefined || count === 0) continue
      const window = windows[stage]
      window.count += count
      window.sumMs += (histogram.sum ?? 0) / 1000
      window.p50Ms = Math.max(window.p50Ms, (histogram.p50 ?? 0) / 1000)
      window.p99Ms = Math.max(window.p99Ms, (histogram.p99 ?? 0) / 1000)
      window.maxMs = Math.max(window.maxMs, (histogram.max ?? 0) / 1000)
    }
  }
  return { produceRequests, messagesSent: parsed.txmsgs ?? 0, queuedMessages: parsed.msg_cnt ?? 0, latency: windows }
}

/** How long a graceful disconnect waits for messages in flight before dropping them (they are re-emitted after restart). */
const DISCONNECT_FLUSH_MS = 5000

/** librdkafka's producers (one per lane); delivery reports come from their background threads. */
export class LibrdkafkaOutputProducer implements OutputProducer {
  readonly client = 'librdkafka' as const
  readonly gathersRequests = true
  private readonly primary: RdProducer
  /** The bulk lane's producer, when there are bulk topics. */
  private readonly bulk: RdProducer | null
  private readonly bulkTopics: ReadonlySet<string>
  private readonly pending = new Set<Pending>()
  private readonly connectTimeoutMs: number
  private connected = false

  constructor(binding: Binding, config: KafkaConfig, private readonly logger: Logger, options: LibrdkafkaOptions = {}) {
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000
    this.bulkTopics = new Set(options.bulkTopics ?? [])
    const create = (lane: OutputLane): RdProducer => {
      const producer = new binding.Producer({
        'bootstrap.servers': config.brokers.join(','),
        'client.id': lane === 'primary' ? config.clientId : `${config.clientId}-${lane}`,
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
        ...(options.onStatistics !== undefined && config.outputStatisticsIntervalMs > 0 ? { 'statistics.interval.ms': config.outputStatisticsIntervalMs } : {}),
      })
      producer.on('delivery-report', (error, report) => this.delivered(error, report.opaque as Pending))
      const onStatistics = options.onStatistics
      if (onStatistics !== undefined) {
        producer.on('event.stats', (stats) => {
          try {
            onStatistics(parseProducerStatistics(stats.message), lane)
          } catch (error) {
            this.logger.warn({ err: error, lane }, 'output producer (librdkafka): a statistics report could not be read; the pitboss_output_producer_* metrics skip it')
          }
        })
      }
      producer.on('event.error', (error) => this.logger.warn({ err: error, lane }, 'output producer (librdkafka): broker connection error; it reconnects and retries by itself'))
      return producer
    }
    this.primary = create('primary')
    this.bulk = this.bulkTopics.size > 0 ? create('bulk') : null
  }

  private get producers(): RdProducer[] {
    return this.bulk === null ? [this.primary] : [this.primary, this.bulk]
  }

  async connect(): Promise<void> {
    const connecting = this.producers.map((producer) => new Promise<void>((resolve, reject) => {
      producer.connect({ timeout: this.connectTimeoutMs }, (error) => {
        if (error) reject(new RiskError('RISK_ERR_KAFKA_PRODUCE', `the output producer (librdkafka) could not reach the brokers: ${error.message}`, {}, { cause: error }))
        else resolve()
      })
    }))
    const outcomes = await Promise.allSettled(connecting)
    const failed = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected')
    if (failed !== undefined) {
      // One lane connected and the other did not: close the one, so nothing is left running.
      await Promise.all(this.producers.map((producer, index) => outcomes[index]?.status === 'fulfilled' ? new Promise<void>((resolve) => producer.disconnect(DISCONNECT_FLUSH_MS, () => resolve())) : Promise.resolve()))
      throw failed.reason
    }
    for (const producer of this.producers) producer.setPollInBackground(true)
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
          const producer = this.bulk !== null && this.bulkTopics.has(topic) ? this.bulk : this.primary
          for (const message of messages) {
            // A batch's messages share one headers object (outputHeaders): converted once.
            if (message.headers !== headersOf) {
              headersOf = message.headers
              headers = Object.entries(message.headers).map(([key, value]) => ({ [key]: value }))
            }
            producer.produce(topic, -1, message.value, message.key, null, pending, headers)
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
    await Promise.all(this.producers.map((producer) => new Promise<void>((resolve) => {
      producer.disconnect(DISCONNECT_FLUSH_MS, () => resolve())
    })))
    for (const pending of [...this.pending]) {
      this.settle(pending, new RiskError('RISK_ERR_SHUTDOWN', 'the output producer closed before the broker acknowledged these outputs; they are re-emitted after restart'))
    }
  }
}
