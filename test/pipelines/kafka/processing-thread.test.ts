/**
 * What crosses between the engine's main thread and its processing thread: records and outputs
 * packed into one buffer each way, errors with their codes, and the fetch-position rule the main
 * thread applies on its own (it must agree with the task's, record for record). The thread
 * threads themselves run in every integration test that starts an engine (one by default,
 * PITBOSS_PROCESSING_THREADS); test/integration/end-to-end.test.ts also runs two and none.
 */
import { describe, expect, it } from 'vitest'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { loadConfig } from '../../../core/config.js'
import { RiskError } from '../../../core/errors.js'
import { silentLogger } from '../../../core/logger.js'
import { INPUT_TOPIC_KEYS, type InputTopicKey } from '../../../core/topics.js'
import { DetectorRegistry } from '../../../detectors/index.js'
import { RuleSet, RuleSetHolder } from '../../../detectors/rule-set.js'
import { ProcessingThreads } from '../../../pipelines/kafka/processing-thread-client.js'
import { fromCrossing, packOutputs, packRecords, packValues, toCrossing, unpackOutputs, unpackRecords, unpackValues } from '../../../pipelines/kafka/thread-protocol.js'
import { PartitionTask, takeInOrder, type DecodedRecord, type RawRecord } from '../../../pipelines/partition-task.js'
import { EventProcessor } from '../../../pipelines/processor.js'
import { createMemoryStore } from '../../../pipelines/state/store.js'
import { DEFAULT_RULE_SET_PATH } from '../../support/pipeline.js'

const raw = (offset: bigint, key: Buffer | null, value: Buffer | null, timestampMs = 1_700_000_000_000): RawRecord => ({
  topicKey: 'bets', topic: 'casino.bets.v1', partition: 3, offset, timestampMs, key, value,
})

/** A pseudo-random sequence, so a failure repeats. */
function random(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return state / 2 ** 32
  }
}

describe('records crossing to the processing thread', () => {
  it('come back with the same offsets, timestamps, keys and values, nulls and empty ones included', () => {
    // Views into one larger buffer, as kafkajs hands them out.
    const fetched = Buffer.from('xxkey-1value-1key-2€uro-value', 'utf8')
    const records = [
      raw(7n, fetched.subarray(2, 7), fetched.subarray(7, 14)),
      raw(8n, null, Buffer.from([0, 1, 2, 255]), -1),
      raw(9n, Buffer.alloc(0), null),
      raw(2n ** 62n, fetched.subarray(14, 19), fetched.subarray(19)),
    ]
    const packed = packRecords(records)
    expect(packed.bytes.byteLength).toBe(5 + 7 + 4 + 5 + fetched.subarray(19).length)
    const back = unpackRecords(structuredClone(packed, { transfer: [packed.bytes] }), 'bets', 'casino.bets.v1', 3)
    expect(back).toEqual(records)
    expect(back.map((record) => record.value?.toString('utf8'))).toEqual(['value-1', Buffer.from([0, 1, 2, 255]).toString('utf8'), undefined, '€uro-value'])
  })

  it('moves the bytes instead of copying the fetch buffer behind each view', () => {
    const big = Buffer.alloc(1024 * 1024, 1)
    const packed = packRecords([raw(0n, big.subarray(0, 3), big.subarray(3, 10))])
    expect(packed.bytes.byteLength).toBe(10)
  })
})

describe('outputs crossing back to the main thread', () => {
  it('keep their topics, order per topic, keys, values and the batch headers', () => {
    const headers = { 'pitboss-processing-ms': '1.500', 'pitboss-instance': 'engine-a' }
    const byTopic = new Map([
      ['risk.decisions.v1', [{ key: 'w1:1', value: Buffer.from('first') }, { key: 'w2:1', value: Buffer.from('') }]],
      ['risk.alerts.v1', [{ key: 'a1', value: Buffer.from([9, 8, 7]) }]],
    ])
    const packed = packOutputs(byTopic, headers)
    const back = unpackOutputs(structuredClone(packed, { transfer: [packed.values] }))
    expect(back.map(({ topic, messages }) => [topic, messages.map((message) => [message.key, message.value.toString('hex'), message.headers])])).toEqual([
      ['risk.decisions.v1', [['w1:1', Buffer.from('first').toString('hex'), headers], ['w2:1', '', headers]]],
      ['risk.alerts.v1', [['a1', '090807', headers]]],
    ])
  })
})

describe('store values crossing between the threads', () => {
  it('come back in order, with undefined for a missing key and empty values kept', () => {
    const values = [Buffer.from('{"a":1}'), undefined, Buffer.alloc(0), Buffer.from([1, 2, 3])]
    const packed = packValues(values)
    expect(unpackValues(structuredClone(packed, { transfer: [packed.bytes] }))).toEqual(values)
    expect(unpackValues(packValues([]))).toEqual([])
  })
})

describe('errors crossing threads', () => {
  it('keep a RiskError\'s code, message, context and retriability', () => {
    const error = new RiskError('RISK_ERR_REGISTRY_UNAVAILABLE', 'the registry did not answer', { url: 'http://127.0.0.1:1' })
    const back = fromCrossing(structuredClone(toCrossing(error)), 'processing thread')
    expect(back).toBeInstanceOf(RiskError)
    expect(back).toMatchObject({ code: 'RISK_ERR_REGISTRY_UNAVAILABLE', message: error.message, retriable: true, context: { url: 'http://127.0.0.1:1' } })
    expect(back.stack).toContain('processing thread')
  })

  it('keep a plain error\'s name and message', () => {
    const back = fromCrossing(structuredClone(toCrossing(new TypeError('not a function'))), 'main thread')
    expect([back.name, back.message]).toEqual(['TypeError', 'not a function'])
    expect(fromCrossing(toCrossing('a string'), 'x').message).toBe('a string')
  })
})

describe('which fetched records a task takes (takeInOrder, shared by the task and its proxy)', () => {
  const offsets = (...values: number[]): RawRecord[] => values.map((value) => raw(BigInt(value), null, null))
  const take = (records: RawRecord[], from: number, acceptGap: boolean): [string, number, number[], string | null] => {
    const taken = takeInOrder(records, BigInt(from), acceptGap)
    return [taken.outcome, Number(taken.position), taken.accepted.map((record) => Number(record.offset)), taken.acceptedGap === null ? null : `${taken.acceptedGap.expected}->${taken.acceptedGap.got}`]
  }

  it('skips what it has, takes the rest in order', () => {
    expect(take(offsets(3, 4, 5, 6), 5, false)).toEqual(['ok', 7, [5, 6], null])
    expect(take(offsets(1, 2), 5, false)).toEqual(['ok', 5, [], null])
    expect(take([], 5, false)).toEqual(['ok', 5, [], null])
  })

  it('stops at a gap with what came before it, unless told to accept one gap', () => {
    expect(take(offsets(5, 6, 9, 10), 5, false)).toEqual(['gap', 7, [5, 6], null])
    expect(take(offsets(8, 9), 5, false)).toEqual(['gap', 5, [], null])
    expect(take(offsets(5, 6, 9, 10), 5, true)).toEqual(['ok', 11, [5, 6, 9, 10], '7->9'])
    expect(take(offsets(5, 8, 12), 5, true)).toEqual(['gap', 9, [5, 8], '6->8'])
  })
})

describe('a partition task taking fetched records', () => {
  it('counts an accepted gap once and refuses the next one', async () => {
    const detectors = new DetectorRegistry()
    const undecodable: DecodedRecord = { ok: false, code: 'RISK_ERR_DECODE_MAGIC_BYTE', message: 'test', schemaId: null }
    const gaps: string[] = []
    const task = new PartitionTask({
      partition: 3, store: createMemoryStore().partition(3), decoder: { decode: async () => undecodable, decodeSync: () => undecodable },
      processor: new EventProcessor(detectors), ruleSets: new RuleSetHolder(RuleSet.load(DEFAULT_RULE_SET_PATH, detectors)), emit: async () => undefined, monotonicMs: () => 0, logger: silentLogger,
      metrics: { eventsProcessed: () => undefined, deadLetter: () => undefined, decision: () => undefined, detectorError: () => undefined, duplicateInput: () => undefined, offsetGap: (topic) => gaps.push(topic), lateEvent: () => undefined },
    })
    await task.open()
    expect(await task.enqueue('bets', [raw(0n, null, null), raw(1n, null, null)], null, false)).toBe('ok')
    expect(await task.enqueue('bets', [raw(5n, null, null), raw(6n, null, null), raw(9n, null, null)], null, true)).toBe('gap')
    expect([gaps, task.fetchPosition('bets'), task.bufferedCount()]).toEqual([['bets'], 7n, 4])
  })
})

describe('the main thread\'s fetch positions', () => {
  it('agree with the partition task\'s own, for fetches with repeats, overlaps and gaps', async () => {
    const detectors = new DetectorRegistry()
    const ruleSets = new RuleSetHolder(RuleSet.load(DEFAULT_RULE_SET_PATH, detectors))
    const undecodable: DecodedRecord = { ok: false, code: 'RISK_ERR_DECODE_MAGIC_BYTE', message: 'test', schemaId: null }
    const next = random(2026)
    for (let trial = 0; trial < 200; trial += 1) {
      const task = new PartitionTask({
        partition: 3, store: createMemoryStore().partition(3), decoder: { decode: async () => undecodable, decodeSync: () => undecodable },
        processor: new EventProcessor(detectors), ruleSets, emit: async () => undefined, monotonicMs: () => 0, logger: silentLogger,
      })
      await task.open()
      const topic: InputTopicKey = INPUT_TOPIC_KEYS[trial % INPUT_TOPIC_KEYS.length] as InputTopicKey
      let position = 0n
      let end = 0n
      for (let fetch = 0; fetch < 12; fetch += 1) {
        // A fetch starts somewhat before, at, or past what was fetched last, and may skip offsets inside.
        let offset = end + BigInt(Math.floor(next() * 7) - 3)
        if (offset < 0n) offset = 0n
        const records: RawRecord[] = []
        for (let count = Math.floor(next() * 6); count > 0; count -= 1) {
          records.push({ ...raw(offset, null, null), topicKey: topic })
          offset += next() < 0.15 ? 2n + BigInt(Math.floor(next() * 3)) : 1n
        }
        end = offset
        const acceptGap = next() < 0.3
        const mine = takeInOrder(records, position, acceptGap)
        const theirs = await task.enqueue(topic, records, null, acceptGap)
        expect([mine.outcome, mine.position]).toEqual([theirs, task.fetchPosition(topic)])
        expect(mine.accepted.every((record, index) => index === 0 || record.offset > (mine.accepted[index - 1] as RawRecord).offset)).toBe(true)
        position = mine.position
      }
      expect(task.bufferedCount()).toBeGreaterThanOrEqual(0)
    }
  })
})

describe('starting a processing thread', () => {
  it('fails with the thread\'s own error, code included, when its parts cannot be opened', async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'pitboss-thread-'))
    const ruleSetPath = path.join(home, 'broken-rule-set.json')
    fs.writeFileSync(ruleSetPath, '{"version": 7}')
    const config = loadConfig({ PITBOSS_HOME: home, PITBOSS_RULE_SET: ruleSetPath, PITBOSS_MODELS: 'off', PITBOSS_SCREENING_LISTS_DIR: 'off' })
    const started = ProcessingThreads.start(config, silentLogger, createMemoryStore(), 2)
    await expect(started).rejects.toBeInstanceOf(RiskError)
    await expect(started).rejects.toMatchObject({ code: 'RISK_ERR_RULE_SET_INVALID' })
  }, 30_000)
})
