/**
 * The latency bench's loaded relay (bench/latency.bench.ts): a process of its own that consumes
 * every input topic the engine consumes, in the engine's consumer group settings (fetch wait,
 * session, four partitions at a time), and re-produces the latency bench's injected withdrawal
 * requests unchanged to `<prefix>bench.latency-relay-loaded` (acks from all replicas, one request
 * in flight, like the engine). It decodes nothing and decides nothing: what it measures is what
 * the client library and the broker give a record that must make a decision's two hops in a
 * process whose fetches carry the engine's whole input (5k events/s), rather than the do-nothing
 * relay's 20 requests a second.
 *
 * Started by the bench with the run's environment (PITBOSS_* config); logs JSON lines on stdout;
 * 'loaded relay ready' once its partitions are assigned; stops on SIGTERM.
 *
 *   PITBOSS_TOPIC_PREFIX=... node --import tsx bench/lib/loaded-relay.ts
 */
import { Partitioners } from 'kafkajs'
import { loadConfig } from '../../core/config.js'
import { createKafka, groupConsumerConfig } from '../../core/kafka.js'
import { silentLogger } from '../../core/logger.js'
import { INPUT_TOPIC_KEYS, topicName } from '../../core/topics.js'
import { LATENCY_PLAYER_PREFIX, loadedRelayTopic } from './harness.js'

const log = (msg: string, fields: Record<string, unknown> = {}): void => {
  process.stdout.write(`${JSON.stringify({ time: Date.now(), msg, ...fields })}\n`)
}

async function main(): Promise<void> {
  const config = loadConfig()
  const kafka = createKafka(config.kafka, silentLogger)
  const withdrawals = topicName(config.kafka, 'withdrawals')
  const target = loadedRelayTopic(config.kafka.topicPrefix)
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: true, maxInFlightRequests: 1 })
  const consumer = kafka.consumer(groupConsumerConfig(config.kafka, `${config.kafka.topicPrefix}bench-loaded-relay`))
  let forwarded = 0
  let consumed = 0
  await producer.connect()
  await consumer.connect()
  consumer.on(consumer.events.GROUP_JOIN, (event) => log('loaded relay ready', { assigned: Object.keys(event.payload.memberAssignment).length }))
  await consumer.subscribe({ topics: INPUT_TOPIC_KEYS.map((key) => topicName(config.kafka, key)), fromBeginning: false })
  // Like the engine: no offsets committed per batch (the engine commits after its checkpoints), and
  // eachBatch does not wait for the produce, so the next fetch is not held behind its round trip.
  // The produces go one after another, in order.
  let producing: Promise<void> = Promise.resolve()
  await consumer.run({
    autoCommit: false,
    partitionsConsumedConcurrently: Math.min(4, INPUT_TOPIC_KEYS.length * 2),
    eachBatch: async ({ batch }) => {
      consumed += batch.messages.length
      if (batch.topic !== withdrawals) return
      const messages = batch.messages.filter((message) => message.key?.toString('utf8').startsWith(LATENCY_PLAYER_PREFIX) === true).map((message) => ({ key: message.key, value: message.value }))
      if (messages.length === 0) return
      producing = producing.then(async () => {
        await producer.send({ topic: target, messages, acks: -1 })
        forwarded += messages.length
      })
      producing.catch((error: unknown) => {
        log('loaded relay failed', { error: error instanceof Error ? error.stack ?? error.message : String(error) })
        process.exit(1)
      })
    },
  })
  let stopping = false
  process.on('SIGTERM', () => {
    if (stopping) return
    stopping = true
    log('loaded relay stopping', { consumed, forwarded })
    Promise.all([consumer.disconnect(), producer.disconnect()]).then(() => process.exit(0), () => process.exit(1))
  })
}

main().catch((error: unknown) => {
  log('loaded relay failed', { error: error instanceof Error ? error.stack ?? error.message : String(error) })
  process.exit(1)
})
