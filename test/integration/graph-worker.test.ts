/**
 * The graph worker on the real broker and registry, as a real process: link records of a
 * 4-account farm in, cluster records and a farm alert out; SIGKILLed and restarted it never
 * publishes one id with two different contents; and a crash between publishing and
 * snapshotting (the pending record left behind) is replayed into byte-identical records.
 */
import fs from 'node:fs'
import { describe, expect, it } from 'vitest'
import { deposit, device } from '../../bench/events.js'
import { linkKeyOf, linksFor } from '../../graph/links.js'
import type { InputEvent } from '../../schemas/domain.js'
import type { Alert, DeadLetter, PlayerCluster } from '../../schemas/generated/types.js'
import { openRocksStore } from '../../pipelines/state/store.js'
import { EngineProcess, TopicReader, produce, type Isolated, type Message } from './support.js'
import { isolated } from './support.js'

const T = 1_767_225_600_000
const FARM = ['farm-1', 'farm-2', 'farm-3', 'farm-4']

function linkMessages(test: Isolated, events: readonly InputEvent[]): Message[] {
  return events.flatMap((event) => linksFor(event)).map((record) => ({ topic: 'links' as const, key: linkKeyOf(record), value: test.codec.encode('links', record) }))
}

const onDevice = (playerId: string, fingerprint: string, minute: number): InputEvent =>
  ({ kind: 'device', ...device({ playerId, eventTimeMs: T + minute * 60_000, deviceFingerprint: fingerprint, ip: `198.51.${minute}.${minute}` }) })
const withCard = (playerId: string, token: string, minute: number): InputEvent =>
  ({ kind: 'deposit', ...deposit({ playerId, eventTimeMs: T + minute * 60_000, instrument: { token, cardBin: null, walletAddress: null, holderName: null } }) })

/** Latest cluster record per player. */
function latest(values: readonly PlayerCluster[]): Map<string, PlayerCluster> {
  const byPlayer = new Map<string, PlayerCluster>()
  for (const value of values) if ((byPlayer.get(value.playerId)?.sequence ?? -1) <= value.sequence) byPlayer.set(value.playerId, value)
  return byPlayer
}

/** Every id published with more than one content. */
function conflicting(raw: ReadonlyArray<{ value: Buffer | null }>, idOf: (index: number) => string): string[] {
  const copies = new Map<string, Set<string>>()
  raw.forEach((message, index) => {
    const set = copies.get(idOf(index)) ?? new Set<string>()
    set.add((message.value ?? Buffer.alloc(0)).toString('hex'))
    copies.set(idOf(index), set)
  })
  return [...copies].filter(([, set]) => set.size > 1).map(([id]) => id)
}

interface RecomputeLog { sequence: number; cut: Record<string, string> }

function recomputesIn(log: string): RecomputeLog[] {
  return log.split('\n').filter((line) => line.includes('"graph recomputed"')).map((line) => JSON.parse(line) as RecomputeLog)
}

describe('graph worker', () => {
  it('publishes a farm cluster and alert, survives SIGKILL, and replays a published-but-not-snapshotted recompute identically', async () => {
    const test = await isolated('graph')
    const stateDir = `${test.config.state.dir}-graph`
    const clusters = await new TopicReader<PlayerCluster>(test, 'clusters').start()
    const alerts = await new TopicReader<Alert>(test, 'alerts').start()
    const deadLetters = await new TopicReader<DeadLetter>(test, 'deadLetters').start()
    let worker = new EngineProcess(test, 'graph', 'pipelines/graph-main.ts')
    try {
      // wave 1: four accounts on one device, two loners, one record that is not Avro
      await produce(test, [
        ...linkMessages(test, [...FARM.map((playerId, index) => onDevice(playerId, 'fp:farm', index)), onDevice('solo-1', 'fp:s1', 10), onDevice('solo-2', 'fp:s2', 11)]),
        { topic: 'links', key: 'device:x', value: Buffer.from('{"not":"avro"}') },
      ])
      worker.start()
      await clusters.waitFor((values) => FARM.every((playerId) => latest(values).get(playerId)?.size === 4 && latest(values).get(playerId)?.stale === false))
      await alerts.waitFor((values) => values.some((alert) => alert.detectorId === 'graph_multi_account_farm'))
      await deadLetters.waitFor((values) => values.length >= 1)
      const farmCluster = latest(clusters.values).get('farm-3') as PlayerCluster
      expect(farmCluster).toMatchObject({ clusterId: 'cmp:farm-1', erased: false, typologies: ['MULTI_ACCOUNT_FARM'] })
      expect(farmCluster.eventId).toBe(`cmp:farm-1:farm-3:${farmCluster.sequence}`)
      expect(farmCluster.sharedIdentifiers[0]).toEqual({ identifierType: 'DEVICE', identifier: 'fp:farm', playerCount: 4 })
      expect(latest(clusters.values).get('solo-1')).toMatchObject({ clusterId: 'cmp:solo-1', size: 1 })
      const farmAlert = alerts.values.find((alert) => alert.detectorId === 'graph_multi_account_farm') as Alert
      expect(farmAlert).toMatchObject({ playerId: 'farm-1', value: 4, severity: 'HIGH' })
      expect(farmAlert.evidenceEventIds).toEqual(expect.arrayContaining([...FARM.map((playerId) => `player:${playerId}`), 'device:fp:farm']))
      expect(deadLetters.values[0]).toMatchObject({ reason: 'RISK_ERR_DECODE_MAGIC_BYTE', sourceTopic: `${test.config.kafka.topicPrefix}risk.links.v1` })

      // wave 2 while it is dead: a fifth account on a card of farm-4's; SIGKILL again right after it publishes
      await worker.stop('SIGKILL')
      await produce(test, linkMessages(test, [withCard('farm-4', 'card:f4', 20), withCard('farm-5', 'card:f4', 21)]))
      worker = new EngineProcess(test, 'graph', 'pipelines/graph-main.ts').start()
      await clusters.waitFor((values) => latest(values).get('farm-5')?.size === 5)
      await worker.stop('SIGKILL')
      worker = new EngineProcess(test, 'graph', 'pipelines/graph-main.ts').start()
      await produce(test, linkMessages(test, [onDevice('solo-3', 'fp:s3', 30)]))
      await clusters.waitFor((values) => latest(values).has('solo-3'))
      expect(await worker.stop('SIGTERM')).toBe(0)
      const settled = latest(clusters.values)
      for (const playerId of [...FARM, 'farm-5']) expect(settled.get(playerId), playerId).toMatchObject({ clusterId: 'cmp:farm-1', size: 5, stale: false })

      // A crash between publishing and snapshotting, made exact: keep the state as it is now,
      // run one more wave, then put the old state back with the pending record that crash leaves.
      const savedState = `${stateDir}.saved`
      fs.cpSync(stateDir, savedState, { recursive: true })
      const logBefore = worker.log().length
      const sequenceBefore = Math.max(...clusters.values.map((value) => value.sequence))
      await produce(test, linkMessages(test, [withCard('farm-6', 'card:f4', 40), onDevice('solo-4', 'fp:s4', 41)]))
      worker = new EngineProcess(test, 'graph', 'pipelines/graph-main.ts').start()
      await clusters.waitFor((values) => latest(values).get('farm-6')?.size === 6 && latest(values).has('solo-4'))
      expect(await worker.stop('SIGTERM')).toBe(0)
      const [replayed] = recomputesIn(worker.log().slice(logBefore))
      expect(replayed?.sequence).toBe(sequenceBefore + 1)
      const published = clusters.values.filter((value) => value.sequence === replayed!.sequence).length
      expect(published).toBeGreaterThan(0)
      fs.rmSync(stateDir, { recursive: true, force: true })
      fs.renameSync(savedState, stateDir)
      const store = await openRocksStore(stateDir)
      await store.partition(0).write({ puts: [['graph/pending', Buffer.from(JSON.stringify({ version: 1, sequence: replayed!.sequence, cut: replayed!.cut }))]], deletes: [] })
      await store.close()
      worker = new EngineProcess(test, 'graph', 'pipelines/graph-main.ts').start()
      await clusters.waitFor((values) => values.filter((value) => value.sequence === replayed!.sequence).length >= 2 * published)
      // Killed, not stopped: the first run went on past the replayed recompute, which a real
      // crash would not have; records after it are not comparable.
      await worker.stop('SIGKILL')
      expect(worker.log()).toContain('replaying the recompute a previous run published but did not snapshot')

      // every id was only ever published with one content; the dead letter too
      const comparable = clusters.raw.filter((_message, index) => (clusters.values[index] as PlayerCluster).sequence <= replayed!.sequence)
      const comparableValues = clusters.values.filter((value) => value.sequence <= replayed!.sequence)
      expect(conflicting(comparable, (index) => (comparableValues[index] as PlayerCluster).eventId)).toEqual([])
      expect(conflicting(alerts.raw, (index) => (alerts.values[index] as Alert).alertId)).toEqual([])
      expect(conflicting(deadLetters.raw, (index) => (deadLetters.values[index] as DeadLetter).dlqId)).toEqual([])
      expect(worker.log()).not.toMatch(/"level":60/) // no fatal
    } finally {
      await worker.stop('SIGKILL')
      await Promise.all([clusters.stop(), alerts.stop(), deadLetters.stop()])
      fs.rmSync(test.workDir, { recursive: true, force: true })
    }
  })
})
