import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Kafka, logLevel } from 'kafkajs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BrokerControl, startBroker, stopBroker, type BrokerInfo } from '../../../infra/broker/launcher.js'
import { HighWatermarkReader } from '../../../pipelines/kafka/high-watermarks.js'

// Its own mock broker in a temp folder (random ports), torn down after.
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'pitboss-high-watermarks-'))
const topics = ['hw-test.a', 'hw-test.b', 'hw-test.c']
let broker: BrokerInfo
let kafka: Kafka

beforeAll(async () => {
  broker = await startBroker({ homeDir: home, topics: topics.map((name) => ({ name, partitions: 3 })) })
  kafka = new Kafka({ brokers: broker.brokers, logLevel: logLevel.NOTHING })
}, 60_000)

afterAll(async () => {
  await stopBroker(home)
  fs.rmSync(home, { recursive: true, force: true })
})

describe('HighWatermarkReader', () => {
  it('reads every partition of every topic, and sees records produced since the last read', async () => {
    const reader = new HighWatermarkReader(kafka, topics)
    const producer = kafka.producer({ allowAutoTopicCreation: false })
    await Promise.all([reader.connect(), producer.connect()])
    try {
      const before = await reader.fetch()
      expect([...before.keys()].sort()).toEqual(topics)
      for (const topic of topics) expect(before.get(topic)?.map(({ partition, high }) => [partition, high]).sort()).toEqual([[0, 0n], [1, 0n], [2, 0n]])

      // a: 5 records on partition 1; b: 2 on partition 0 and 1 on 2; c: none.
      await producer.sendBatch({ acks: -1, topicMessages: [
        { topic: 'hw-test.a', messages: Array.from({ length: 5 }, (_, index) => ({ partition: 1, value: `a${index}` })) },
        { topic: 'hw-test.b', messages: [{ partition: 0, value: 'b0' }, { partition: 0, value: 'b1' }, { partition: 2, value: 'b2' }] },
      ] })
      const after = await reader.fetch()
      const highs = (topic: string): Record<number, bigint> => Object.fromEntries((after.get(topic) ?? []).map(({ partition, high }) => [partition, high]))
      expect(highs('hw-test.a')).toEqual({ 0: 0n, 1: 5n, 2: 0n })
      expect(highs('hw-test.b')).toEqual({ 0: 2n, 1: 0n, 2: 1n })
      expect(highs('hw-test.c')).toEqual({ 0: 0n, 1: 0n, 2: 0n })
      // a subset: only the topics asked
      expect([...(await reader.fetch(['hw-test.b'])).keys()]).toEqual(['hw-test.b'])
      await expect(reader.fetch(['hw-test.elsewhere'])).rejects.toThrow(/not one of its topics/)
    } finally {
      await Promise.all([reader.disconnect(), producer.disconnect()])
    }
  }, 60_000)

  it('answers again after the broker was down: the failed request rejects, the next asks afresh', async () => {
    const reader = new HighWatermarkReader(kafka, topics)
    const control = new BrokerControl(broker.controlPort)
    await reader.connect()
    try {
      const before = await reader.fetch(['hw-test.a'])
      await control.brokerDown(1)
      await expect(reader.fetch(['hw-test.a'])).rejects.toThrow()
      await control.brokerUp(1)
      await expect.poll(async () => (await reader.fetch(['hw-test.a']).catch(() => null))?.get('hw-test.a'), { timeout: 30_000, interval: 200 }).toEqual(before.get('hw-test.a'))
    } finally {
      await control.brokerUp(1).catch(() => undefined)
      await Promise.all([reader.disconnect(), control.close()])
    }
  }, 60_000)

  it('refuses a kafkajs without the cluster client it uses, naming what is missing', () => {
    expect(() => new HighWatermarkReader({} as Kafka, topics)).toThrow(/no private:Kafka:createCluster method/)
  })
})
