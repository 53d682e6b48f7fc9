/**
 * Integration-test helpers over the shared local substrate: isolated topics and groups per
 * test, an engine as a real child process (so it can be SIGKILLed), producing and consuming
 * through the real registry.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Partitioners, type Consumer, type Producer } from 'kafkajs'
import { inject } from 'vitest'
import { sleep } from '../../core/clock.js'
import type { PitbossConfig } from '../../core/config.js'
import { createKafka } from '../../core/kafka.js'
import { silentLogger } from '../../core/logger.js'
import { topicName, type TopicKey } from '../../core/topics.js'
import { isolatedRun } from '../../infra/isolated-run.js'
import { nodeArgs } from '../../infra/node-args.js'
import type { AvroCodec } from '../../schemas/codec.js'

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

export interface Isolated {
  readonly name: string
  readonly env: Record<string, string>
  readonly config: PitbossConfig
  readonly workDir: string
  readonly codec: AvroCodec
}

/** Fresh topics (created on the broker), group, state folder and ClickHouse database for one test. */
export async function isolated(name: string, overrides: Record<string, string> = {}): Promise<Isolated> {
  const substrate = inject('substrate')
  const id = `${name}-${randomUUID().slice(0, 8)}`
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), `pitboss-${name}-`))
  const { env, config, codec } = await isolatedRun(substrate, id, workDir, overrides)
  return { name: id, env, config, workDir, codec }
}

export interface Message {
  readonly topic: TopicKey
  readonly key: string | null
  readonly value: Buffer | null
}

export async function produce(test: Isolated, messages: readonly Message[]): Promise<void> {
  const producer: Producer = createKafka(test.config.kafka, silentLogger).producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false })
  await producer.connect()
  try {
    for (let start = 0; start < messages.length; start += 500) {
      const byTopic = new Map<string, Array<{ key: string | null; value: Buffer | null }>>()
      for (const message of messages.slice(start, start + 500)) {
        const name = topicName(test.config.kafka, message.topic)
        const list = byTopic.get(name) ?? []
        list.push({ key: message.key, value: message.value })
        byTopic.set(name, list)
      }
      await producer.sendBatch({ topicMessages: [...byTopic].map(([topic, list]) => ({ topic, messages: list })), acks: -1 })
    }
  } finally {
    await producer.disconnect()
  }
}

export function encoded(test: Isolated, topic: TopicKey, value: { playerId: string }): Message {
  return { topic, key: value.playerId, value: test.codec.encode(topic, value) }
}

/** Reads a topic from the beginning with its own group, decoding through the registry. */
export class TopicReader<T> {
  readonly values: T[] = []
  readonly raw: Array<{ key: string | null; value: Buffer | null; headers: Record<string, string> }> = []
  private readonly consumer: Consumer

  constructor(private readonly test: Isolated, private readonly topic: TopicKey) {
    const kafka = createKafka(test.config.kafka, silentLogger)
    this.consumer = kafka.consumer({ groupId: `${test.name}-reader-${topic}-${randomUUID().slice(0, 6)}`, sessionTimeout: 6000, heartbeatInterval: 500, maxWaitTimeInMs: 100 })
  }

  async start(): Promise<this> {
    await this.consumer.connect()
    await this.consumer.subscribe({ topic: topicName(this.test.config.kafka, this.topic), fromBeginning: true })
    await this.consumer.run({
      eachMessage: async ({ message }) => {
        const decoded = await this.test.codec.decode(this.topic, message.value)
        if (!decoded.ok) throw new Error(`cannot decode ${this.topic}: ${decoded.message}`)
        this.values.push(decoded.value as T)
        const headers: Record<string, string> = {}
        for (const [name, value] of Object.entries(message.headers ?? {})) headers[name] = String(value)
        this.raw.push({ key: message.key?.toString() ?? null, value: message.value, headers })
      },
    })
    return this
  }

  async waitFor(predicate: (values: readonly T[]) => boolean, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!predicate(this.values)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting on ${this.topic}: have ${this.values.length} records`)
      await sleep(50)
    }
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect()
  }
}

/** The engine as a real process. */
export class EngineProcess {
  private child: ChildProcess | null = null
  private exit: Promise<number | null> = Promise.resolve(null)
  readonly logFile: string

  /** `env`: variables for this process only, over the test's. */
  constructor(private readonly test: Isolated, private readonly label = 'engine', private readonly entry = 'pipelines/main.ts', private readonly env: Record<string, string> = {}) {
    this.logFile = path.join(test.workDir, `${label}.log`)
  }

  start(): this {
    const log = fs.openSync(this.logFile, 'a')
    const child = spawn(process.execPath, nodeArgs(this.entry), { cwd: REPO_ROOT, env: { ...process.env, ...this.test.env, ...this.env }, stdio: ['ignore', log, log] })
    fs.closeSync(log)
    this.child = child
    this.exit = new Promise((resolve) => child.once('exit', (code) => resolve(code)))
    return this
  }

  /** Sends the signal and waits for the process to end; returns its exit code. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child === null) return null
    this.child.kill(signal)
    const code = await this.exit
    this.child = null
    return code
  }

  log(): string {
    return fs.existsSync(this.logFile) ? fs.readFileSync(this.logFile, 'utf8') : ''
  }
}
