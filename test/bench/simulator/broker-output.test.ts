import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Kafka, logLevel } from 'kafkajs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig, type PitbossConfig } from '../../../core/config.js'
import { CASINO_TOPIC_KEYS, topicCatalog, topicName } from '../../../core/topics.js'
import { startBroker, stopBroker, type BrokerInfo } from '../../../infra/broker/launcher.js'
import { startRegistry, stopRegistry } from '../../../infra/registry/launcher.js'
import { produceToBroker } from '../../../bench/simulator/broker-output.js'
import { simulate } from '../../../bench/simulator/simulate.js'

// Its own broker and registry in a temp folder (random ports), torn down after.
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'pitboss-simulator-broker-'))
const prefix = 'simulator-test.'
let broker: BrokerInfo
let config: PitbossConfig

beforeAll(async () => {
  const [started, registry] = await Promise.all([startBroker({ homeDir: home, topics: topicCatalog(prefix) }), startRegistry({ homeDir: home })])
  broker = started
  config = loadConfig({ PITBOSS_HOME: home, PITBOSS_KAFKA_BROKERS: broker.bootstrap, PITBOSS_REGISTRY_URL: registry.url, PITBOSS_TOPIC_PREFIX: prefix })
})

afterAll(async () => {
  await Promise.all([stopBroker(home), stopRegistry(home)])
  fs.rmSync(home, { recursive: true, force: true })
})

describe('produceToBroker', () => {
  it('puts every simulated event on its topic through the registry, at the target rate', async () => {
    const { events } = simulate({ seed: 7, players: 40, days: 1 })
    const startedMs = performance.now()
    let reported = 0
    await produceToBroker(events, config, { ratePerSecond: 4000, onProgress: (produced) => { reported = produced } })
    const elapsedMs = performance.now() - startedMs
    expect(reported).toBe(events.length)
    // The last batch is sent when its time comes, so the run lasts at least (events - one step) / rate.
    expect(elapsedMs).toBeGreaterThanOrEqual(((events.length - 400) / 4000) * 1000)
    const admin = new Kafka({ brokers: broker.brokers, logLevel: logLevel.NOTHING }).admin()
    await admin.connect()
    try {
      for (const key of CASINO_TOPIC_KEYS) {
        const offsets = await admin.fetchTopicOffsets(topicName(config.kafka, key))
        const onBroker = offsets.reduce((sum, partition) => sum + Number(partition.high), 0)
        expect(onBroker, key).toBe(events.filter((event) => event.topic === key).length)
      }
    } finally {
      await admin.disconnect()
    }
  })
})
