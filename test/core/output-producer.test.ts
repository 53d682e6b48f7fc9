import { readFileSync } from 'node:fs'
import { Kafka } from 'kafkajs'
import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../core/config.js'
import { createOutputProducer, KafkajsOutputProducer, LibrdkafkaOutputProducer, loadLibrdkafka, parseProducerStatistics } from '../../core/output-producer.js'

const kafka = new Kafka({ brokers: ['127.0.0.1:1'] })
const missing = (): Error => new Error("Cannot find module '@confluentinc/kafka-javascript'")

function recordingLogger(): { logger: pino.Logger; lines: Array<{ level: number; msg: string }> } {
  const lines: Array<{ level: number; msg: string }> = []
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as { level: number; msg: string }) })
  return { logger, lines }
}

describe('the output producer choice (PITBOSS_KAFKA_OUTPUT_PRODUCER)', () => {
  it('auto: librdkafka when the binding loads (it is installed here: CKJS_LINKING=dynamic)', () => {
    expect(loadLibrdkafka()).not.toBeInstanceOf(Error)
    const { logger, lines } = recordingLogger()
    const producer = createOutputProducer(loadConfig({}).kafka, kafka, logger)
    expect(producer).toBeInstanceOf(LibrdkafkaOutputProducer)
    expect(producer.client).toBe('librdkafka')
    expect(lines).toEqual([])
  })

  it('auto: kafkajs with a warning naming the cause when the binding does not load', () => {
    const { logger, lines } = recordingLogger()
    const producer = createOutputProducer(loadConfig({}).kafka, kafka, logger, { load: missing })
    expect(producer).toBeInstanceOf(KafkajsOutputProducer)
    expect(lines).toHaveLength(1)
    expect(lines[0]?.level).toBe(40)
    expect(lines[0]?.msg).toMatch(/producing the outputs with kafkajs/)
    expect(JSON.stringify(lines[0])).toMatch(/Cannot find module/)
  })

  it('librdkafka: refuses to start without the binding, naming the variable and the fix', () => {
    const config = loadConfig({ PITBOSS_KAFKA_OUTPUT_PRODUCER: 'librdkafka' }).kafka
    let thrown: unknown = null
    try {
      createOutputProducer(config, kafka, recordingLogger().logger, { load: missing })
    } catch (error) {
      thrown = error
    }
    expect(thrown).toMatchObject({ code: 'RISK_ERR_CONFIG_INVALID', message: expect.stringMatching(/PITBOSS_KAFKA_OUTPUT_PRODUCER is librdkafka but @confluentinc\/kafka-javascript cannot be loaded.*CKJS_LINKING=dynamic/) })
  })

  it('kafkajs: kafkajs without loading the binding', () => {
    let loaded = false
    const producer = createOutputProducer(loadConfig({ PITBOSS_KAFKA_OUTPUT_PRODUCER: 'kafkajs' }).kafka, kafka, recordingLogger().logger, {
      load: () => {
        loaded = true
        return missing()
      },
    })
    expect(producer.client).toBe('kafkajs')
    expect(loaded).toBe(false)
  })
})

/** A statistics report of librdkafka 2.15.1 (the binding's) producing to the local broker, its per-topic and per-partition parts left out. */
const report = readFileSync(new URL('./librdkafka-statistics.json', import.meta.url), 'utf8')

describe('librdkafka statistics reports (parseProducerStatistics)', () => {
  it('reads the counts and the interval\'s latencies of a real report, microseconds to milliseconds', () => {
    const statistics = parseProducerStatistics(report)
    expect(statistics.produceRequests).toBe(3283)
    expect(statistics.messagesSent).toBe(8200)
    expect(statistics.queuedMessages).toBe(0)
    expect(statistics.latency.queue).toEqual({ count: 246, sumMs: 168.591, p50Ms: 0.667, p99Ms: 1.319, maxMs: 1.32 })
    expect(statistics.latency.outbuf).toEqual({ count: 98, sumMs: 7.31, p50Ms: 0.064, p99Ms: 0.149, maxMs: 0.16 })
    expect(statistics.latency.rtt).toEqual({ count: 98, sumMs: 3.769, p50Ms: 0.038, p99Ms: 0.101, maxMs: 0.118 })
  })

  it('adds up the brokers\' counts and sums, takes the highest broker\'s percentiles, and leaves out the bootstrap pseudo-broker', () => {
    const parsed = JSON.parse(report) as { brokers: Record<string, Record<string, unknown>> }
    const [name, broker] = Object.entries(parsed.brokers)[0] as [string, Record<string, unknown>]
    const slower = { ...broker, nodeid: 2, req: { Produce: 17 }, rtt: { cnt: 2, sum: 9000, p50: 4000, p99: 5000, max: 5000 } }
    const bootstrap = { ...broker, nodeid: -1, req: { Produce: 1000 }, rtt: { cnt: 1000, sum: 1e9, p50: 1e6, p99: 1e6, max: 1e6 } }
    const statistics = parseProducerStatistics(JSON.stringify({ ...parsed, brokers: { [name]: broker, 'other:9092/2': slower, 'bootstrap:9092/bootstrap': bootstrap } }))
    expect(statistics.produceRequests).toBe(3283 + 17)
    expect(statistics.latency.rtt).toMatchObject({ count: 100, p50Ms: 4, p99Ms: 5, maxMs: 5 })
    expect(statistics.latency.rtt.sumMs).toBeCloseTo(3.769 + 9, 9)
    // the second broker carries a copy of the first one's queue histogram: its count adds up, its p99 is the same
    expect(statistics.latency.queue).toMatchObject({ count: 246 * 2, p99Ms: 1.319 })
  })

  it('throws on a report that is not JSON (the producer logs it and skips the report)', () => {
    expect(() => parseProducerStatistics('{"brokers":')).toThrow()
  })
})
