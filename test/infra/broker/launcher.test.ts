// The launcher against the real mock broker: one 3-broker cluster for this file, started by a
// separate Node process that exits at once (the broker must outlive it), then used with kafkajs.
import { execFile } from 'node:child_process'
import { existsSync, promises as fs, readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { Kafka, logLevel } from 'kafkajs'
import type { Admin } from 'kafkajs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isRiskError } from '../../../core/errors.js'
import { BrokerControl, brokerPaths, brokerStatus, startBroker, stopBroker } from '../../../infra/broker/launcher.js'
import type { BrokerInfo } from '../../../infra/broker/launcher.js'

const repositoryRoot = fileURLToPath(new URL('../../../', import.meta.url))
const launcherUrl = pathToFileURL(path.join(repositoryRoot, 'infra/broker/launcher.ts')).href

/** Alive and not a zombie: an orphaned broker that exited stays a zombie until init reaps it. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).charAt(0) !== 'Z'
  } catch {
    return true // no /proc: trust kill(0)
  }
}

async function partitionCount(admin: Admin, topic: string): Promise<number> {
  const metadata = await admin.fetchTopicMetadata({ topics: [topic] })
  return metadata.topics.find((entry) => entry.name === topic)?.partitions.length ?? 0
}

describe('local broker launcher', () => {
  let homeDir: string
  let broker: BrokerInfo
  let kafka: Kafka
  let admin: Admin
  let control: BrokerControl

  beforeAll(async () => {
    homeDir = await fs.mkdtemp(path.join(os.tmpdir(), 'pitboss-broker-launcher-'))
    // .mts: a script outside the package would otherwise be compiled as CommonJS.
    const script = path.join(homeDir, 'start-broker.mts')
    await fs.writeFile(script, [
      `import { startBroker } from ${JSON.stringify(launcherUrl)}`,
      `const info = await startBroker({ homeDir: ${JSON.stringify(homeDir)}, brokers: 3, topics: [{ name: 'launcher.seed', partitions: 2 }] })`,
      'console.log(JSON.stringify(info))',
    ].join('\n'))
    const { stdout } = await promisify(execFile)(path.join(repositoryRoot, 'node_modules/.bin/tsx'), [script], { cwd: repositoryRoot, timeout: 30_000 })
    broker = JSON.parse(stdout.trim()) as BrokerInfo
    kafka = new Kafka({ clientId: 'launcher-test', brokers: broker.brokers, logLevel: logLevel.NOTHING, connectionTimeout: 500, requestTimeout: 3000 })
    admin = kafka.admin()
    await admin.connect()
    control = new BrokerControl(broker.controlPort)
  })

  afterAll(async () => {
    await control?.close()
    await admin?.disconnect()
    if (homeDir !== undefined) {
      await stopBroker(homeDir)
      await fs.rm(homeDir, { recursive: true, force: true })
    }
  })

  it('keeps running after the process that started it exits, and start returns the same broker', async () => {
    expect(broker.brokerCount).toBe(3)
    expect(broker.brokers).toHaveLength(3)
    expect(broker.brokers.every((address) => address.startsWith('127.0.0.1:'))).toBe(true)
    expect(isAlive(broker.pid)).toBe(true)
    expect(await brokerStatus(homeDir)).toEqual(broker)

    const again = await startBroker({ homeDir, brokers: 3, topics: [{ name: 'launcher.seed', partitions: 2 }, { name: 'launcher.added', partitions: 3 }] })
    const thrice = await startBroker({ homeDir, topics: [] })
    expect(again.pid).toBe(broker.pid)
    expect(thrice).toEqual(again)
    // A topic missing from the running broker is created; the existing one keeps its partitions.
    expect(await partitionCount(admin, 'launcher.added')).toBe(3)
    expect(await partitionCount(admin, 'launcher.seed')).toBe(2)
  })

  it('refuses to hand out a running broker with another broker count', async () => {
    const error = await startBroker({ homeDir, brokers: 1, topics: [] }).catch((caught: unknown) => caught)
    expect(isRiskError(error, 'RISK_ERR_SUBSTRATE')).toBe(true)
    expect(String(error)).toMatch(/3 broker\(s\) already runs.*stop it first/)
  })

  it('creates topics through the control channel with their partition count', async () => {
    expect(await control.createTopic('launcher.six', 6)).toBe('created')
    expect(await partitionCount(admin, 'launcher.six')).toBe(6)
    // Creating it again is harmless and does not change it.
    expect(await control.createTopic('launcher.six', 2)).toBe('exists')
    expect(await partitionCount(admin, 'launcher.six')).toBe(6)
  })

  it('reports control errors as RiskErrors', async () => {
    await expect(control.brokerDown(9)).rejects.toThrow(/no broker '9'; broker ids are 1\.\.3/)
    await expect(control.createTopic('bad name', 1)).rejects.toMatchObject({ code: 'RISK_ERR_CONFIG_INVALID' })
    await control.ping() // the connection survives a refused command
  })

  it('round-trips 100 messages through a consumer group', async () => {
    const topic = 'launcher.roundtrip'
    await control.createTopic(topic, 4)
    const producer = kafka.producer()
    await producer.connect()
    const sent = Array.from({ length: 100 }, (_, index) => ({ key: `player-${index % 10}`, value: String(index) }))
    await producer.send({ topic, messages: sent })
    await producer.disconnect()

    const consumer = kafka.consumer({ groupId: 'launcher-roundtrip', sessionTimeout: 6000, heartbeatInterval: 500, maxWaitTimeInMs: 100 })
    const received: Array<{ key: string; value: string }> = []
    try {
      await consumer.connect()
      await consumer.subscribe({ topic, fromBeginning: true })
      const done = new Promise<void>((resolve) => {
        void consumer.run({
          eachMessage: async ({ message }) => {
            received.push({ key: message.key?.toString() ?? '', value: message.value?.toString() ?? '' })
            if (received.length === sent.length) resolve()
          },
        })
      })
      await Promise.race([done, new Promise((_, reject) => setTimeout(() => reject(new Error(`only ${received.length} of 100 messages arrived`)), 20_000))])
    } finally {
      await consumer.disconnect()
    }
    expect(received.map((message) => Number(message.value)).sort((a, b) => a - b)).toEqual(sent.map((_, index) => index))
    // Same key, same partition: each player's messages arrive in the order they were sent.
    for (let player = 0; player < 10; player++) {
      const values = received.filter((message) => message.key === `player-${player}`).map((message) => Number(message.value))
      expect(values).toEqual([...values].sort((a, b) => a - b))
    }
  })

  it('fails produce while the partition leader is down and recovers when it is up', async () => {
    const topic = 'launcher.outage'
    await control.createTopic(topic, 1)
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] })
    const leader = metadata.topics.find((entry) => entry.name === topic)?.partitions[0]?.leader ?? -1
    expect(leader).toBeGreaterThanOrEqual(1)
    const producer = kafka.producer({ retry: { retries: 2, initialRetryTime: 100 } })
    await producer.connect()
    try {
      await producer.send({ topic, messages: [{ value: 'before' }] })
      await control.brokerDown(leader)
      const during = await Promise.race([
        producer.send({ topic, messages: [{ value: 'during' }] }).then(() => 'sent', () => 'failed'),
        new Promise<string>((resolve) => setTimeout(() => resolve('stalled'), 5000)),
      ])
      expect(during).not.toBe('sent')
      await control.brokerUp(leader)
      let lastError: unknown = null
      for (let attempt = 0; attempt < 20; attempt++) {
        try {
          await producer.send({ topic, messages: [{ value: 'after' }] })
          lastError = null
          break
        } catch (error) {
          lastError = error
        }
      }
      expect(lastError).toBeNull()
    } finally {
      await control.brokerUp(leader)
      await producer.disconnect()
    }
  })

  it('stops the broker, leaves no process or run files behind, and stops again harmlessly', async () => {
    const paths = brokerPaths(homeDir)
    await stopBroker(homeDir)
    // The exited process may stay a zombie until this process's event loop reaps it.
    for (let waitedMs = 0; isAlive(broker.pid) && waitedMs < 5000; waitedMs += 50) await new Promise((resolve) => setTimeout(resolve, 50))
    expect(isAlive(broker.pid)).toBe(false)
    expect(existsSync(paths.runFile)).toBe(false)
    expect(existsSync(paths.stateFile)).toBe(false)
    expect(existsSync(paths.lockFile)).toBe(false)
    expect(await brokerStatus(homeDir)).toBeNull()
    await stopBroker(homeDir)
    await expect(new BrokerControl(broker.controlPort, '127.0.0.1', { timeoutMs: 1000 }).ping()).rejects.toMatchObject({ code: 'RISK_ERR_SUBSTRATE' })
  })
})
