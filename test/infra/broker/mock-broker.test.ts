// The compiled mock-broker.c on its own: state file, loopback-only listeners, the control
// protocol line by line, clean exit on signals, and the mock's topic auto-creation.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { existsSync, promises as fs } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { once } from 'node:events'
import { Kafka, logLevel } from 'kafkajs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sleep } from '../../../core/clock.js'
import { ensureBrokerBinary } from '../../../infra/broker/launcher.js'

interface State { bootstrap: string; controlPort: number; pid: number; brokers: number }

async function waitForState(file: string, child: ChildProcess): Promise<State> {
  for (let attempt = 0; attempt < 400; attempt++) {
    if (child.exitCode !== null) throw new Error(`mock broker exited with ${child.exitCode}`)
    try {
      return JSON.parse(await fs.readFile(file, 'utf8')) as State
    } catch {
      await sleep(25)
    }
  }
  throw new Error('mock broker did not write its state file')
}

/** Sends `text` on one connection and collects `replyCount` reply lines. */
async function converse(port: number, text: string, replyCount: number): Promise<string[]> {
  const socket = net.connect({ port, host: '127.0.0.1' })
  let received = ''
  socket.setEncoding('utf8')
  socket.on('data', (chunk: string) => { received += chunk })
  // The broker resets a connection it drops with unread input; the replies before it count.
  socket.on('error', () => {})
  await once(socket, 'connect')
  socket.write(text)
  for (let attempt = 0; attempt < 200 && received.split('\n').length <= replyCount; attempt++) await sleep(10)
  socket.destroy()
  return received.split('\n').slice(0, replyCount)
}

/** Local addresses (hex `0100007F:PORT`) of the listening TCP sockets on `port`, from /proc. */
async function listeners(port: number): Promise<string[]> {
  const suffix = `:${port.toString(16).toUpperCase().padStart(4, '0')}`
  const tables = await Promise.all(['/proc/net/tcp', '/proc/net/tcp6'].map((file) => fs.readFile(file, 'utf8').catch(() => '')))
  return tables.flatMap((table) => table.split('\n').slice(1))
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields[3] === '0A' && fields[1]?.endsWith(suffix))
    .map((fields) => fields[1] ?? '')
}

describe('mock-broker binary', () => {
  let homeDir: string
  let binary: string
  let child: ChildProcess
  let state: State
  let stateFile: string

  beforeAll(async () => {
    homeDir = await fs.mkdtemp(path.join(os.tmpdir(), 'pitboss-mock-broker-'))
    binary = await ensureBrokerBinary(homeDir)
    stateFile = path.join(homeDir, 'state.json')
    child = spawn(binary, ['--brokers', '2', '--topic', 'mock.pre:3', '--state-file', stateFile, '--control-port', '0'], { stdio: 'ignore' })
    state = await waitForState(stateFile, child)
  })

  afterAll(async () => {
    if (child?.exitCode === null) {
      child.kill('SIGKILL')
      await once(child, 'exit')
    }
    if (homeDir !== undefined) await fs.rm(homeDir, { recursive: true, force: true })
  })

  it('writes its state file and listens on 127.0.0.1 only', async () => {
    expect(state.pid).toBe(child.pid)
    expect(state.brokers).toBe(2)
    const ports = [state.controlPort, ...state.bootstrap.split(',').map((address) => {
      expect(address).toMatch(/^127\.0\.0\.1:\d+$/)
      return Number(address.split(':')[1])
    })]
    expect(ports).toHaveLength(3)
    if (!existsSync('/proc/net/tcp')) return // the bootstrap check above still holds
    for (const port of ports) expect(await listeners(port)).toEqual([`0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`])
  })

  it('answers every control line on one connection, one reply per line', async () => {
    const replies = await converse(state.controlPort, [
      'ping', 'topic mock.pre 5', 'topic mock.new 2', 'down 2', 'up 2', 'down 3', 'up x', 'fly away', '', 'topic bad/name 1', 'topic mock.zero 0', 'ping extra', 'ping\r',
    ].join('\n') + '\n', 13)
    expect(replies).toEqual([
      'ok',
      'ok exists',
      'ok',
      'ok',
      'ok',
      "error no broker '3'; broker ids are 1..2",
      "error no broker 'x'; broker ids are 1..2",
      "error unknown command 'fly' (known: ping, topic, down, up)",
      'error empty command',
      'error invalid topic name (use 1-249 of [A-Za-z0-9._-])',
      'error partitions must be an integer 1..10000',
      'error usage: ping',
      'ok',
    ])
  })

  it('drops a connection that sends an endless line, and keeps serving others', async () => {
    expect(await converse(state.controlPort, 'x'.repeat(600), 1)).toEqual(['error line too long'])
    expect(await converse(state.controlPort, 'ping\n', 1)).toEqual(['ok'])
  })

  it('auto-creates an unknown topic with 4 partitions when a client produces to it', async () => {
    const kafka = new Kafka({ clientId: 'mock-broker-test', brokers: state.bootstrap.split(','), logLevel: logLevel.NOTHING, connectionTimeout: 500 })
    const producer = kafka.producer()
    const admin = kafka.admin()
    try {
      await Promise.all([producer.connect(), admin.connect()])
      await producer.send({ topic: 'mock.auto', messages: [{ value: 'x' }] })
      const metadata = await admin.fetchTopicMetadata({ topics: ['mock.auto', 'mock.pre'] })
      const partitions = Object.fromEntries(metadata.topics.map((topic) => [topic.name, topic.partitions.length]))
      // Pre-created topics keep their count (the 'topic mock.pre 5' above changed nothing).
      expect(partitions).toEqual({ 'mock.auto': 4, 'mock.pre': 3 })
    } finally {
      await Promise.all([producer.disconnect(), admin.disconnect()])
    }
  })

  it('exits cleanly on SIGTERM and removes its state file', async () => {
    const exited = once(child, 'exit')
    child.kill('SIGTERM')
    const [code, signal] = await exited
    expect({ code, signal }).toEqual({ code: 0, signal: null })
    expect(existsSync(stateFile)).toBe(false)
  })

  it('exits cleanly on SIGINT too, and rejects bad arguments with status 2', async () => {
    const interruptedStateFile = path.join(homeDir, 'interrupted.json')
    const interrupted = spawn(binary, ['--state-file', interruptedStateFile], { stdio: 'ignore' })
    await waitForState(interruptedStateFile, interrupted)
    const exited = once(interrupted, 'exit')
    interrupted.kill('SIGINT')
    expect(await exited).toEqual([0, null])
    expect(existsSync(interruptedStateFile)).toBe(false)

    for (const args of [['--topic', 'no-partitions'], ['--brokers', '0'], ['--bogus', '1'], ['--brokers']]) {
      const bad = spawn(binary, args, { stdio: 'ignore' })
      expect(await once(bad, 'exit')).toEqual([2, null])
    }
  })
})
