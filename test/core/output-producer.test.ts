import { Kafka } from 'kafkajs'
import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../core/config.js'
import { createOutputProducer, KafkajsOutputProducer, LibrdkafkaOutputProducer, loadLibrdkafka } from '../../core/output-producer.js'

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
    const producer = createOutputProducer(loadConfig({}).kafka, kafka, logger, missing)
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
      createOutputProducer(config, kafka, recordingLogger().logger, missing)
    } catch (error) {
      thrown = error
    }
    expect(thrown).toMatchObject({ code: 'RISK_ERR_CONFIG_INVALID', message: expect.stringMatching(/PITBOSS_KAFKA_OUTPUT_PRODUCER is librdkafka but @confluentinc\/kafka-javascript cannot be loaded.*CKJS_LINKING=dynamic/) })
  })

  it('kafkajs: kafkajs without loading the binding', () => {
    let loaded = false
    const producer = createOutputProducer(loadConfig({ PITBOSS_KAFKA_OUTPUT_PRODUCER: 'kafkajs' }).kafka, kafka, recordingLogger().logger, () => {
      loaded = true
      return missing()
    })
    expect(producer.client).toBe('kafkajs')
    expect(loaded).toBe(false)
  })
})
