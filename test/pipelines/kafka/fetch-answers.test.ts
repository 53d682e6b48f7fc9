import fs from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { Kafka, logLevel, type Batch } from 'kafkajs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startBroker, stopBroker, type BrokerInfo } from '../../../infra/broker/launcher.js'
import { fetchAnswerOf, partitionBatches, tagFetchAnswers, type FetchAnswer } from '../../../pipelines/kafka/fetch-answers.js'

// Its own mock broker in a temp folder (random ports), torn down after.
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'pitboss-fetch-answers-'))
const topics = ['fa-test.a', 'fa-test.b', 'fa-test.c']
let broker: BrokerInfo
let kafka: Kafka

beforeAll(async () => {
  broker = await startBroker({ homeDir: home, topics: topics.map((name) => ({ name, partitions: 2 })) })
  kafka = new Kafka({ brokers: broker.brokers, logLevel: logLevel.NOTHING })
}, 60_000)

afterAll(async () => {
  await stopBroker(home)
  fs.rmSync(home, { recursive: true, force: true })
})

describe('fetch answers (kafkajs consumer-group fetch, tagged)', () => {
  it('tags each batch eachBatch sees with its answer, which holds the empty partitions\' high watermarks too', async () => {
    tagFetchAnswers()
    const consumerGroup = createRequire(import.meta.url)('kafkajs/src/consumer/consumerGroup.js') as { prototype: { fetch: unknown } }
    const wrapped = consumerGroup.prototype.fetch
    tagFetchAnswers()
    expect(consumerGroup.prototype.fetch).toBe(wrapped) // a second call does not wrap twice
    const producer = kafka.producer({ allowAutoTopicCreation: false })
    await producer.connect()
    // a: 3 records on partition 0; b: 2 on partition 1 (written first, read in an earlier or the same answer); c: none.
    await producer.sendBatch({ acks: -1, topicMessages: [{ topic: 'fa-test.b', messages: [{ partition: 1, value: 'b0' }, { partition: 1, value: 'b1' }] }] })
    await producer.sendBatch({ acks: -1, topicMessages: [{ topic: 'fa-test.a', messages: [0, 1, 2].map((index) => ({ partition: 0, value: `a${index}` })) }] })
    await producer.disconnect()

    const consumer = kafka.consumer({ groupId: `fa-test-${process.pid}`, sessionTimeout: 6000, heartbeatInterval: 500, maxWaitTimeInMs: 50 })
    const seen: Array<{ batch: Batch; answer: FetchAnswer | undefined; startedMs: number }> = []
    let done!: () => void
    const allSeen = new Promise<void>((resolve) => { done = resolve })
    await consumer.connect()
    await consumer.subscribe({ topics, fromBeginning: true })
    await consumer.run({
      eachBatch: async ({ batch }) => {
        seen.push({ batch, answer: fetchAnswerOf(batch), startedMs: performance.now() })
        if (seen.reduce((count, entry) => count + entry.batch.messages.length, 0) >= 5) done()
      },
    })
    try {
      await allSeen
    } finally {
      await consumer.disconnect()
    }

    const a = seen.find(({ batch }) => batch.topic === 'fa-test.a')
    const b = seen.find(({ batch }) => batch.topic === 'fa-test.b')
    expect(a?.answer).toBeDefined()
    expect(b?.answer).toBeDefined()
    const answerA = a?.answer as FetchAnswer
    const answerB = b?.answer as FetchAnswer
    // One broker here: node ids from 1 (the mock's), one reader, answers in order.
    expect(answerA.node).toBeGreaterThan(0)
    expect(answerA.reader).toBe(answerB.reader)
    expect(answerA.sequence).toBeGreaterThanOrEqual(answerB.sequence)
    expect(answerA.askedAtMs).toBeLessThanOrEqual(a?.startedMs as number)
    // Partition 0 of every topic in a's answer: a at 3, the empty ones (b has nothing there, c nothing at all) at 0.
    const highs = (partition: number): string[][] => partitionBatches(answerA, partition).map((batch) => [batch.topic, batch.highWatermark]).sort()
    expect(highs(0)).toEqual([['fa-test.a', '3'], ['fa-test.b', '0'], ['fa-test.c', '0']])
    // Partition 1: b's 2 records are in the log before a's answer was built, whichever answer brought them.
    expect(highs(1)).toEqual([['fa-test.a', '0'], ['fa-test.b', '2'], ['fa-test.c', '0']])
  })
})
