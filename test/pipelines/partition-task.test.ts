import { describe, expect, it } from 'vitest'
import { bet, deposit, player, withdrawal } from '../../bench/events.js'
import { createMemoryStore, type PartitionStore } from '../../pipelines/state/store.js'
import { DEFAULT_RULE_SET_PATH, testPipeline } from '../support/pipeline.js'
import { InMemorySchemaRegistry } from '../schemas/memory-registry.js'
import { silentLogger } from '../../core/logger.js'
import { CASINO_TOPIC_KEYS, INPUT_TOPIC_KEYS, type InputTopicKey } from '../../core/topics.js'
import { DetectorRegistry } from '../../detectors/index.js'
import { RuleSet, RuleSetHolder } from '../../detectors/rule-set.js'
import { RegistryRecordDecoder } from '../../pipelines/decoder.js'
import { MERGE_BLOCKING_TOPIC_KEYS, PartitionTask, noopTaskMetrics, type DecisionStageMs, type PartitionTaskOptions, type RawRecord } from '../../pipelines/partition-task.js'
import { EventProcessor } from '../../pipelines/processor.js'
import { AvroCodec } from '../../schemas/codec.js'

const HOUR = 60 * 60 * 1000
/** Decisions land on the partitions of their withdrawal ids; read them in event-time order. */
const byTime = <T extends { eventTimeMs: number }>(values: T[]): T[] => [...values].sort((a, b) => a.eventTimeMs - b.eventTimeMs)

/**
 * A codec with every schema registered, and PartitionTasks on partition 0 with the default rule
 * set, no screening or model, a still clock and no logs unless `options` says otherwise.
 */
async function taskKit(): Promise<{ codec: AvroCodec; task: (options: Pick<PartitionTaskOptions, 'store' | 'emit'> & Partial<PartitionTaskOptions>) => PartitionTask }> {
  const codec = new AvroCodec(new InMemorySchemaRegistry(), '', { maxPayloadBytes: 4096 })
  await codec.registerAll()
  const detectors = new DetectorRegistry()
  const ruleSets = new RuleSetHolder(RuleSet.load(DEFAULT_RULE_SET_PATH, detectors))
  return {
    codec,
    task: (options) => new PartitionTask({
      partition: 0, decoder: new RegistryRecordDecoder(codec, silentLogger), processor: new EventProcessor(detectors), ruleSets, monotonicMs: () => 0, logger: silentLogger, ...options,
    }),
  }
}

describe('partition task: withdrawal velocity decisions', () => {
  it('approves three withdrawals in a day and sends the fourth to review (MT default limit 3)', async () => {
    const pipeline = await testPipeline()
    pipeline.send('players', player({ playerId: 'p1', eventTimeMs: 0, jurisdiction: 'MT' }))
    for (let index = 0; index < 4; index += 1) pipeline.send('withdrawals', withdrawal({ playerId: 'p1', withdrawalId: `w${index}`, eventTimeMs: (index + 1) * HOUR }))
    await pipeline.driver.run()
    const decisions = byTime(await pipeline.decisions())
    expect(decisions.map((decision) => [decision.decisionId, decision.outcome])).toEqual([
      ['w0:1', 'APPROVE'], ['w1:1', 'APPROVE'], ['w2:1', 'APPROVE'], ['w3:1', 'REVIEW'],
    ])
    const last = decisions[3]
    expect(last?.executions.find((execution) => execution.detectorId === 'withdrawal_velocity')).toEqual({ detectorId: 'withdrawal_velocity', detectorVersion: 1, status: 'HIT', value: 4, threshold: 3, detail: '4 withdrawal requests in 24 h, limit 3' })
    expect(last?.playerReasonCode).toBe('PENDING_STANDARD_CHECKS')
    expect(last?.ruleSetVersion).toBe('2026-11-26.5')
    expect(last?.source).toMatchObject({ topic: 'casino.withdrawals.v1', eventId: 'ev:w3' })
    const alerts = await Promise.all(pipeline.driver.output('alerts').map(async (message) => pipeline.codec.decode('alerts', message.value)))
    expect(alerts.filter((alert) => alert.ok && alert.value.detectorId === 'withdrawal_velocity')).toHaveLength(1)
  })

  it('applies the jurisdiction override: in the UK the third withdrawal of the day is reviewed', async () => {
    const pipeline = await testPipeline()
    pipeline.send('players', player({ playerId: 'p-uk', eventTimeMs: 0, jurisdiction: 'UK' }))
    for (let index = 0; index < 3; index += 1) pipeline.send('withdrawals', withdrawal({ playerId: 'p-uk', withdrawalId: `u${index}`, eventTimeMs: (index + 1) * HOUR }))
    await pipeline.driver.run()
    expect(byTime(await pipeline.decisions()).map((decision) => decision.outcome)).toEqual(['APPROVE', 'APPROVE', 'REVIEW'])
  })

  it('does not decide a duplicated withdrawal request twice', async () => {
    const pipeline = await testPipeline()
    const request = withdrawal({ playerId: 'p1', withdrawalId: 'w-dup', eventTimeMs: HOUR })
    pipeline.send('withdrawals', request)
    pipeline.send('withdrawals', request)
    await pipeline.driver.run()
    expect((await pipeline.decisions()).map((decision) => decision.decisionId)).toEqual(['w-dup:1'])
  })
})

describe('partition task: payout and ledger commands', () => {
  it('pays an approval, holds a review and releases a decline, each with its idempotency key', async () => {
    const pipeline = await testPipeline({ partitions: 1 })
    pipeline.send('players', player({ playerId: 'p1', eventTimeMs: 0, jurisdiction: 'MT' }))
    pipeline.send('players', player({ playerId: 'p2', eventTimeMs: 0, jurisdiction: 'MT', selfExcludedUntilMs: 10 * HOUR, type: 'SELF_EXCLUSION_CHANGED' }))
    for (let index = 0; index < 4; index += 1) pipeline.send('withdrawals', withdrawal({ playerId: 'p1', withdrawalId: `w${index}`, eventTimeMs: (index + 1) * HOUR, amountMinor: 40_00 }))
    pipeline.send('withdrawals', withdrawal({ playerId: 'p2', withdrawalId: 'w-excluded', eventTimeMs: HOUR, amountMinor: 25_00 }))
    await pipeline.driver.run()
    const outcomes = Object.fromEntries((await pipeline.decisions()).map((decision) => [decision.withdrawalId, decision.outcome]))
    expect(outcomes).toEqual({ w0: 'APPROVE', w1: 'APPROVE', w2: 'APPROVE', w3: 'REVIEW', 'w-excluded': 'DECLINE' })
    const decode = async (topic: 'payoutCommands' | 'ledgerCommands') => Promise.all(pipeline.driver.output(topic).map(async (message) => {
      const decoded = await pipeline.codec.decode(topic, message.value)
      if (!decoded.ok) throw new Error(decoded.message)
      return decoded.value as { idempotencyKey: string; operation: string; amountMinor: number; decisionId: string }
    }))
    expect((await decode('payoutCommands')).map((command) => [command.idempotencyKey, command.operation, command.amountMinor]).sort()).toEqual([
      ['wd:w0:PAY:1', 'PAY', 40_00], ['wd:w1:PAY:1', 'PAY', 40_00], ['wd:w2:PAY:1', 'PAY', 40_00],
    ])
    expect((await decode('ledgerCommands')).map((command) => [command.idempotencyKey, command.operation, command.decisionId]).sort()).toEqual([
      ['wd:w-excluded:RELEASE:1', 'RELEASE', 'w-excluded:1'], ['wd:w3:HOLD:1', 'HOLD', 'w3:1'],
    ])
  })
})

describe('partition task: event time', () => {
  it('takes a player idle for months (stream time far behind) without calling the next event far-future', async () => {
    const pipeline = await testPipeline({ partitions: 1 })
    pipeline.send('players', player({ playerId: 'p1', eventTimeMs: 0, jurisdiction: 'MT' }))
    pipeline.send('withdrawals', withdrawal({ playerId: 'p1', withdrawalId: 'w-later', eventTimeMs: 200 * 24 * HOUR }))
    await pipeline.driver.run()
    expect(await pipeline.deadLetters()).toEqual([])
    expect((await pipeline.decisions()).map((decision) => decision.decisionId)).toEqual(['w-later:1'])
  })

  it('dead-letters an event dated well after its record was written', async () => {
    const pipeline = await testPipeline({ partitions: 1 })
    const event = withdrawal({ playerId: 'p1', withdrawalId: 'w-future', eventTimeMs: 3 * 24 * HOUR })
    pipeline.driver.produce('withdrawals', 'p1', pipeline.codec.encode('withdrawals', event), 24 * HOUR) // written 2 days before its event time
    await pipeline.driver.run()
    expect((await pipeline.deadLetters()).map((letter) => letter.reason)).toEqual(['RISK_ERR_EVENT_TIME_FUTURE'])
    expect(await pipeline.decisions()).toEqual([])
  })
})

describe('partition task: ordering across co-partitioned topics', () => {
  it('merges topics by event time whatever the fetch size, so the output is the same', async () => {
    const outputs: string[][] = []
    for (const fetchSize of [1, 3, 100]) {
      const pipeline = await testPipeline({ fetchSize, batchSize: 4 })
      // registered in MT at 0; the player becomes UK (limit 2) at 2.5 h: only events after that see the UK limit
      pipeline.send('players', player({ playerId: 'p1', eventTimeMs: 0, jurisdiction: 'MT' }))
      for (let index = 0; index < 4; index += 1) pipeline.send('withdrawals', withdrawal({ playerId: 'p1', withdrawalId: `w${index}`, eventTimeMs: (index + 1) * HOUR }))
      pipeline.send('players', player({ playerId: 'p1', eventTimeMs: 2.5 * HOUR, type: 'PROFILE_UPDATED', jurisdiction: 'UK' }))
      for (let index = 0; index < 5; index += 1) pipeline.send('deposits', deposit({ playerId: 'p1', eventTimeMs: index * HOUR }))
      await pipeline.driver.run()
      outputs.push(byTime(await pipeline.decisions()).map((decision) => `${decision.decisionId}=${decision.outcome}/${decision.jurisdiction}`))
    }
    expect(outputs[0]).toEqual(['w0:1=APPROVE/MT', 'w1:1=APPROVE/MT', 'w2:1=REVIEW/UK', 'w3:1=REVIEW/UK'])
    expect(outputs[1]).toEqual(outputs[0])
    expect(outputs[2]).toEqual(outputs[0])
  })
})

describe('partition task: crash between emitting and checkpointing', () => {
  const scenario = (pipeline: Awaited<ReturnType<typeof testPipeline>>): void => {
    for (let index = 0; index < 12; index += 1) {
      pipeline.send('withdrawals', withdrawal({ playerId: `p${index % 3}`, withdrawalId: `w${index}`, eventTimeMs: (index + 1) * HOUR }))
      pipeline.send('deposits', deposit({ playerId: `p${index % 3}`, eventTimeMs: (index + 1) * HOUR - 1 }))
    }
  }
  const dump = (store: ReturnType<typeof createMemoryStore>): string[][] => [...store.data.entries()].map(([key, value]) => [key, value.toString()])

  // checkpoints every batch, every 3 batches, and never before the end; crashes after the 2nd
  // and after the 4th emit (outputs out, checkpoint not written)
  for (const checkpointBatches of [1, 3, 1000]) {
    for (const crashAt of [2, 4]) {
      it(`replays the pending batches in their recorded order and re-emits identical outputs (checkpoint every ${checkpointBatches}, crash at emit ${crashAt})`, async () => {
        const cleanStore = createMemoryStore()
        const clean = await testPipeline({ store: cleanStore, batchSize: 5, partitions: 1, checkpointBatches })
        scenario(clean)
        await clean.driver.run()

        let emits = 0
        const crashingStore = createMemoryStore()
        const crashing = await testPipeline({ store: crashingStore, batchSize: 5, partitions: 1, checkpointBatches, crashOnEmit: () => (++emits === crashAt ? 'after' : null) })
        scenario(crashing)
        await expect(crashing.driver.run()).rejects.toThrow(/crash after emit/)
        expect([...crashingStore.data.keys()].some((key) => key.startsWith('p0000/pending/'))).toBe(true)
        crashing.driver.crash()
        await crashing.driver.run()

        const cleanDecisions = (await clean.decisions()).map((decision) => JSON.stringify(decision))
        const crashedDecisions = (await crashing.decisions()).map((decision) => JSON.stringify(decision))
        // every decision of the clean run, each re-emission byte-identical to the first
        expect([...new Set(crashedDecisions)]).toEqual(cleanDecisions)
        expect(crashedDecisions.length).toBeGreaterThan(cleanDecisions.length)
        expect(dump(crashingStore)).toEqual(dump(cleanStore))
        expect([...crashingStore.data.keys()].filter((key) => key.includes('/pending/'))).toEqual([])
      })
    }
  }

  it('decides the same with no player cache at all (every player read back from the store each batch)', async () => {
    const cachedStore = createMemoryStore()
    const cached = await testPipeline({ store: cachedStore, batchSize: 5, partitions: 1, checkpointBatches: 2 })
    scenario(cached)
    await cached.driver.run()
    const uncachedStore = createMemoryStore()
    const uncached = await testPipeline({ store: uncachedStore, batchSize: 5, partitions: 1, checkpointBatches: 2, cacheSize: 0 })
    scenario(uncached)
    await uncached.driver.run()
    expect((await uncached.decisions()).map((decision) => JSON.stringify(decision))).toEqual((await cached.decisions()).map((decision) => JSON.stringify(decision)))
    expect(dump(uncachedStore)).toEqual(dump(cachedStore))
  })
})

describe('partition task: an unreachable broker while refreshing high watermarks', () => {
  it('keeps the records buffered, does not throw, and processes them once the refresh works again', async () => {
    const { codec, task: newTask } = await taskKit()
    let brokerUp = false
    let refreshes = 0
    const asked: string[][] = []
    const emitted: unknown[] = []
    let clockMs = 0
    const task = newTask({
      store: createMemoryStore().partition(0),
      emit: async (outputs) => void emitted.push(...outputs),
      monotonicMs: () => (clockMs += 1),
      refreshHighWatermarks: async (topics) => {
        refreshes += 1
        asked.push([...topics])
        if (!brokerUp) throw new Error('connect ECONNREFUSED 127.0.0.1:9092')
        for (const topic of CASINO_TOPIC_KEYS) task.setHighWatermark(topic, topic === 'withdrawals' ? 1n : 0n)
        task.setHighWatermark('transfersReceived', 0n)
      },
    })
    await task.open()
    // every other topic looked caught up (empty) before the withdrawal arrived: stale, so a refresh is due
    for (const topic of MERGE_BLOCKING_TOPIC_KEYS) task.setHighWatermark(topic, 0n)
    const request = withdrawal({ playerId: 'p1', withdrawalId: 'w-1', eventTimeMs: HOUR })
    await task.enqueue('withdrawals', [{ topicKey: 'withdrawals', topic: 'casino.withdrawals.v1', partition: 0, offset: 0n, timestampMs: HOUR, key: Buffer.from('p1'), value: codec.encode('withdrawals', request) }], 1n)

    await expect(task.drain()).resolves.toBeUndefined()
    expect(refreshes).toBe(1)
    // only the idle topics are asked, not the one holding the record
    expect(asked[0]).toEqual(['players', 'devices', 'deposits', 'transfers', 'bets', 'transfersReceived'])
    expect(task.bufferedCount()).toBe(1)
    expect(emitted).toEqual([])

    brokerUp = true
    await task.drain()
    await task.flush()
    expect(task.bufferedCount()).toBe(0)
    expect(emitted.some((output) => (output as { topic: string }).topic === 'decisions')).toBe(true)
  })
})

describe('partition task: a record that arrives during a refresh', () => {
  it('is not taken on that refresh\'s watermarks, so an earlier record written meanwhile to an idle topic still goes first', async () => {
    const { codec, task: newTask } = await taskKit()
    let clockMs = 0
    const order: string[] = []
    let refreshes = 0
    const raw = (topicKey: 'withdrawals' | 'bets', offset: bigint, value: Buffer) => ({ topicKey, topic: `casino.${topicKey}.v1`, partition: 0, offset, timestampMs: 0, key: Buffer.from('p1'), value })
    const w2 = raw('withdrawals', 1n, codec.encode('withdrawals', withdrawal({ playerId: 'p1', withdrawalId: 'w-2', eventTimeMs: 2 * HOUR })))
    const task = newTask({
      store: createMemoryStore().partition(0),
      emit: async () => undefined,
      writeAndEmit: async (pending) => {
        for (const record of pending) for (const [topicIndex, offset] of (JSON.parse(record.value) as { order: Array<[number, string]> }).order) order.push(`${INPUT_TOPIC_KEYS[topicIndex]}:${offset}`)
      },
      monotonicMs: () => clockMs,
      checkpointBatches: 1000,
      checkpointIntervalMs: 60_000,
      // Like the runner: the answers count from the round's start.
      refreshHighWatermarks: async (topics) => {
        refreshes += 1
        const startedMs = clockMs
        clockMs += 1
        // Round 1: w-2 arrives while it is asked. Round 2: a bet of 1.5 h has been written since.
        if (refreshes === 1) await task.enqueue('withdrawals', [w2], 2n, false, null, clockMs)
        for (const topic of topics) task.setHighWatermark(topic, refreshes >= 2 && topic === 'bets' ? 1n : 0n, startedMs)
        clockMs += 9
      },
    })
    await task.open()
    for (const topic of MERGE_BLOCKING_TOPIC_KEYS) task.setHighWatermark(topic, 0n, -1)
    await task.enqueue('withdrawals', [raw('withdrawals', 0n, codec.encode('withdrawals', withdrawal({ playerId: 'p1', withdrawalId: 'w-1', eventTimeMs: HOUR })))], 1n, false, null, 0)
    clockMs = 10
    await task.drain()
    // w-1 went on round 1; w-2 waited for round 2, which found the bet unread
    expect(refreshes).toBe(2)
    expect(order).toEqual(['withdrawals:0'])
    expect(task.bufferedCount()).toBe(1)

    clockMs = 30
    await task.enqueue('bets', [raw('bets', 0n, codec.encode('bets', bet({ playerId: 'p1', eventTimeMs: 1.5 * HOUR })))], 1n, false, null, 30)
    await task.drain()
    await task.flush()
    expect(order).toEqual(['withdrawals:0', 'bets:0', 'withdrawals:1'])
  })
})

describe('partition task: high watermarks from the fetch answer a record came in', () => {
  type Raw = Parameters<PartitionTask['enqueue']>[1][number]
  /** FetchContext's flat form of [topic, high] pairs. */
  const flat = (pairs: ReadonlyArray<readonly [InputTopicKey, bigint]>): number[] => pairs.flatMap(([key, high]) => [INPUT_TOPIC_KEYS.indexOf(key), Number(high)])
  const otherBlocking = (topic: InputTopicKey, high: bigint): Array<readonly [InputTopicKey, bigint]> =>
    MERGE_BLOCKING_TOPIC_KEYS.filter((key) => key !== topic).map((key) => [key, high] as const)

  /** A task whose blocking topics were all last seen caught up at 0 long before (-1), counting its refresh rounds and the order it processes. */
  async function watchedTask(): Promise<{ codec: AvroCodec; task: PartitionTask; refreshes: Array<readonly InputTopicKey[]>; order: string[]; raw: (topicKey: 'withdrawals' | 'bets', offset: bigint, value: Buffer) => Raw; clock: { ms: number } }> {
    const { codec, task: newTask } = await taskKit()
    const clock = { ms: 100 }
    const refreshes: Array<readonly InputTopicKey[]> = []
    const order: string[] = []
    const task = newTask({
      store: createMemoryStore().partition(0),
      emit: async () => undefined,
      writeAndEmit: async (pending) => {
        for (const record of pending) for (const [topicIndex, offset] of (JSON.parse(record.value) as { order: Array<[number, string]> }).order) order.push(`${INPUT_TOPIC_KEYS[topicIndex]}:${offset}`)
      },
      monotonicMs: () => clock.ms,
      checkpointBatches: 1000,
      checkpointIntervalMs: 60_000,
      // A round asked now: it covers every record that arrived before.
      refreshHighWatermarks: async (topics) => {
        refreshes.push(topics)
        for (const topic of topics) task.setHighWatermark(topic, 0n, clock.ms)
      },
    })
    await task.open()
    for (const topic of MERGE_BLOCKING_TOPIC_KEYS) task.setHighWatermark(topic, 0n, -1)
    const raw = (topicKey: 'withdrawals' | 'bets', offset: bigint, value: Buffer): Raw => ({ topicKey, topic: `casino.${topicKey}.v1`, partition: 0, offset, timestampMs: 0, key: Buffer.from('p1'), value })
    return { codec, task, refreshes, order, raw, clock }
  }

  it('takes a record past the idle topics its own answer showed caught up, with no refresh round', async () => {
    const { codec, task, refreshes, order, raw } = await watchedTask()
    const answer = { reader: 1, node: 1, sequence: 5 }
    await task.enqueue('withdrawals', [raw('withdrawals', 0n, codec.encode('withdrawals', withdrawal({ playerId: 'p1', withdrawalId: 'w-1', eventTimeMs: HOUR })))], 1n, false, { askedAtMs: 0, answer, highWatermarks: flat(otherBlocking('withdrawals', 0n)) }, 2)
    await task.drain()
    expect(refreshes).toEqual([])
    expect(order).toEqual(['withdrawals:0'])
  })

  it('waits for an earlier record its answer shows unread in an idle topic, with no refresh round', async () => {
    const { codec, task, refreshes, order, raw } = await watchedTask()
    const answer = { reader: 1, node: 1, sequence: 5 }
    const highs = otherBlocking('withdrawals', 0n).map(([key, high]) => [key, key === 'bets' ? 1n : high] as const)
    await task.enqueue('withdrawals', [raw('withdrawals', 0n, codec.encode('withdrawals', withdrawal({ playerId: 'p1', withdrawalId: 'w-1', eventTimeMs: 2 * HOUR })))], 1n, false, { askedAtMs: 0, answer, highWatermarks: flat(highs) }, 2)
    await task.drain()
    expect(order).toEqual([])
    await task.enqueue('bets', [raw('bets', 0n, codec.encode('bets', bet({ playerId: 'p1', eventTimeMs: HOUR })))], 1n, false, { askedAtMs: 0, answer, highWatermarks: flat(otherBlocking('bets', 0n).map(([key, high]) => [key, key === 'withdrawals' ? 1n : high] as const)) }, 2)
    await task.drain()
    await task.flush()
    expect(refreshes).toEqual([])
    expect(order).toEqual(['bets:0', 'withdrawals:0'])
  })

  it('covers a record of an earlier answer from the same broker to the same consumer, and asks for the rest', async () => {
    const { codec, task, refreshes, order, raw, clock } = await watchedTask()
    const request = (offset: bigint, id: string) => raw('withdrawals', offset, codec.encode('withdrawals', withdrawal({ playerId: 'p1', withdrawalId: id, eventTimeMs: HOUR + Number(offset) })))
    // Answer 5 of node 1 brought w-0 and no news of the other topics; answer 7 of node 1 says they are caught up.
    await task.enqueue('withdrawals', [request(0n, 'w-0')], 1n, false, { askedAtMs: 0, answer: { reader: 1, node: 1, sequence: 5 }, highWatermarks: [] }, 2)
    task.setHighWatermark('bets', 0n, 0, { reader: 1, node: 1, sequence: 7 })
    for (const [key, high] of otherBlocking('withdrawals', 0n)) task.setHighWatermark(key, high, 0, { reader: 1, node: 1, sequence: 7 })
    await task.drain()
    expect(refreshes).toEqual([])
    expect(order).toEqual(['withdrawals:0'])

    // A record from another broker's answer (node 2), and one from another consumer's (reader 2):
    // not covered by node 1's answers to reader 1, though their sequence is lower (it counts every
    // answer the process receives).
    await task.enqueue('withdrawals', [request(1n, 'w-1')], 2n, false, { askedAtMs: 0, answer: { reader: 1, node: 2, sequence: 6 }, highWatermarks: [] }, 3)
    await task.drain()
    expect(refreshes).toHaveLength(1)
    expect([...(refreshes[0] ?? [])].sort()).toEqual(otherBlocking('withdrawals', 0n).map(([key]) => key).sort())
    clock.ms = 200 // after the round for w-1
    await task.enqueue('withdrawals', [request(2n, 'w-2')], 3n, false, { askedAtMs: 0, answer: { reader: 2, node: 1, sequence: 6 }, highWatermarks: [] }, 150)
    await task.drain()
    await task.flush()
    expect(refreshes).toHaveLength(2)
    expect(order).toEqual(['withdrawals:0', 'withdrawals:1', 'withdrawals:2'])
  })

  it('does not take a record on an answer older than its own (a later one from the same broker may show an earlier record)', async () => {
    const { codec, task, refreshes, order, raw } = await watchedTask()
    // The idle topics' news came in answer 5; the withdrawal in answer 6.
    for (const [key, high] of otherBlocking('withdrawals', 0n)) task.setHighWatermark(key, high, 0, { reader: 1, node: 1, sequence: 5 })
    await task.enqueue('withdrawals', [raw('withdrawals', 0n, codec.encode('withdrawals', withdrawal({ playerId: 'p1', withdrawalId: 'w-1', eventTimeMs: HOUR })))], 1n, false, { askedAtMs: 1, answer: { reader: 1, node: 1, sequence: 6 }, highWatermarks: [] }, 2)
    await task.drain()
    await task.flush()
    expect(refreshes).toHaveLength(1)
    expect(order).toEqual(['withdrawals:0'])
  })
})

describe('partition task: where a decision\'s latency went', () => {
  it('reports each stage from arrival to acknowledgement, adding up to the latency', async () => {
    const { codec, task: newTask } = await taskKit()
    let clockMs = 0
    const inner = createMemoryStore().partition(0)
    const seen: Array<{ outcome: string; latencyMs: number; stages: DecisionStageMs }> = []
    const task = newTask({
      // each step moves the clock by its own amount, so every stage has a known length
      store: { ...inner, getMany: async (keys) => { clockMs += 5; return inner.getMany(keys) }, write: async (batch) => { clockMs += 3; return inner.write(batch) } },
      emit: async () => { clockMs += 11 },
      processor: new EventProcessor(new DetectorRegistry(), { scoring: true }),
      scorer: {
        scoreOne: async () => { throw new Error('scored one by one') },
        scoreBatch: async (rows) => { clockMs += 13; return rows.map(() => ({ champion: null, shadows: [], error: 'a model that is down' })) },
      },
      monotonicMs: () => clockMs,
      checkpointBatches: 1000,
      checkpointIntervalMs: 60_000,
      refreshHighWatermarks: async (topics) => {
        clockMs += 7
        for (const topic of topics) task.setHighWatermark(topic, 0n)
      },
      metrics: { ...noopTaskMetrics, decision: (outcome, latencyMs, stages) => void seen.push({ outcome, latencyMs, stages }) },
    })
    await task.open()
    // every other topic known caught up only from before the request arrived: the merge refreshes them
    for (const topic of MERGE_BLOCKING_TOPIC_KEYS) task.setHighWatermark(topic, 0n, -1)
    clockMs = 2 // the record reaches the task 2 ms after it was fetched
    // a registered player, so the request goes to the model
    await task.enqueue('players', [{ topicKey: 'players', topic: 'casino.players.v1', partition: 0, offset: 0n, timestampMs: 0, key: Buffer.from('p1'), value: codec.encode('players', player({ playerId: 'p1', eventTimeMs: 0 })) }], 1n, false, null, 0)
    const request = withdrawal({ playerId: 'p1', withdrawalId: 'w-1', eventTimeMs: HOUR })
    await task.enqueue('withdrawals', [{ topicKey: 'withdrawals', topic: 'casino.withdrawals.v1', partition: 0, offset: 0n, timestampMs: HOUR, key: Buffer.from('p1'), value: codec.encode('withdrawals', request) }], 1n, false, null, 0)
    await task.drain()
    await task.flush()
    // REVIEW: the model is down
    expect(seen).toEqual([{ outcome: 'REVIEW', latencyMs: 41, stages: { toTask: 2, refresh: 7, merge: 0, load: 5, score: 13, process: 0, behind: 0, pendingWrite: 3, produce: 11 } }])
  })
})

describe('partition task: a pending record that travels with its outputs', () => {
  it('hands writeAndEmit the batch order and its outputs together, and writes nothing itself before them', async () => {
    const { codec, task: newTask } = await taskKit()
    const inner = createMemoryStore().partition(0)
    const storeWrites: string[][] = []
    const calls: Array<{ pending: ReadonlyArray<{ key: string; value: string }>; outputs: string[] }> = []
    let emitCalls = 0
    const task = newTask({
      store: { ...inner, write: async (batch) => { storeWrites.push(batch.puts.map(([key]) => key)); return inner.write(batch) } },
      emit: async () => { emitCalls += 1 },
      writeAndEmit: async (pending, outputs) => void calls.push({ pending, outputs: outputs.map((output) => output.topic) }),
      checkpointBatches: 1000,
      checkpointIntervalMs: 60_000,
    })
    await task.open()
    for (const topic of MERGE_BLOCKING_TOPIC_KEYS) task.setHighWatermark(topic, topic === 'withdrawals' ? 1n : 0n)
    await task.enqueue('withdrawals', [{ topicKey: 'withdrawals', topic: 'casino.withdrawals.v1', partition: 0, offset: 0n, timestampMs: HOUR, key: Buffer.from('p1'), value: codec.encode('withdrawals', withdrawal({ playerId: 'p1', withdrawalId: 'w-1', eventTimeMs: HOUR })) }], 1n)
    await task.drain()
    await task.flush()
    expect(emitCalls).toBe(0)
    expect(calls).toHaveLength(1)
    expect(calls[0]?.outputs).toContain('decisions')
    // the order of the batch: the withdrawals topic's offset 0
    expect(calls[0]?.pending).toHaveLength(1)
    expect(JSON.parse(calls[0]?.pending[0]?.value ?? 'null')).toEqual({ version: 1, order: [[INPUT_TOPIC_KEYS.indexOf('withdrawals'), '0']] })
    // the store saw only the checkpoint, which deletes that pending record
    expect(storeWrites).toHaveLength(1)
    expect(storeWrites[0]).not.toContain(calls[0]?.pending[0]?.key)
  })

  it('sends the batches processed while an emission is in flight together after it, in order, and waits for each acknowledgement before the next', async () => {
    const { codec, task: newTask } = await taskKit()
    const calls: Array<{ pending: string[]; withdrawals: unknown[] }> = []
    let release: () => void = () => undefined
    const held = new Promise<void>((resolve) => { release = resolve })
    const task = newTask({
      store: createMemoryStore().partition(0),
      emit: async () => undefined,
      writeAndEmit: async (pending, outputs) => {
        calls.push({ pending: pending.map((record) => record.key), withdrawals: outputs.filter((output) => output.topic === 'decisions').map((output) => output.value.withdrawalId) })
        if (calls.length === 1) await held
      },
      batchSize: 1,
      checkpointBatches: 1000,
      checkpointIntervalMs: 60_000,
    })
    await task.open()
    const records = [0, 1, 2, 3].map((index) => ({
      topicKey: 'withdrawals' as const, topic: 'casino.withdrawals.v1', partition: 0, offset: BigInt(index), timestampMs: (index + 1) * HOUR,
      key: Buffer.from(`p${index}`), value: codec.encode('withdrawals', withdrawal({ playerId: `p${index}`, withdrawalId: `w${index}`, eventTimeMs: (index + 1) * HOUR })),
    }))
    for (const topic of MERGE_BLOCKING_TOPIC_KEYS) task.setHighWatermark(topic, topic === 'withdrawals' ? 4n : 0n)
    await task.enqueue('withdrawals', records, 4n)
    await task.drain()
    await new Promise((resolve) => setTimeout(resolve, 10))
    // four batches processed; the first in flight, the other three waiting for its acknowledgement
    expect(calls).toEqual([{ pending: ['pending/0000000000'], withdrawals: ['w0'] }])
    release()
    await task.flush()
    expect(calls).toEqual([
      { pending: ['pending/0000000000'], withdrawals: ['w0'] },
      { pending: ['pending/0000000001', 'pending/0000000002', 'pending/0000000003'], withdrawals: ['w1', 'w2', 'w3'] },
    ])
  })
})

describe('partition task: back-pressure from the emissions', () => {
  it('stops processing while 64 batches wait for an emission in flight, and goes on once it is acknowledged', async () => {
    const { codec, task: newTask } = await taskKit()
    let release: () => void = () => undefined
    const held = new Promise<void>((resolve) => { release = resolve })
    let calls = 0
    const task = newTask({
      store: createMemoryStore().partition(0),
      emit: async () => undefined,
      writeAndEmit: async () => {
        calls += 1
        if (calls === 1) await held
      },
      batchSize: 1,
      checkpointBatches: 1000,
      checkpointIntervalMs: 60_000,
    })
    await task.open()
    const count = 70
    const records = Array.from({ length: count }, (_, index) => ({
      topicKey: 'withdrawals' as const, topic: 'casino.withdrawals.v1', partition: 0, offset: BigInt(index), timestampMs: (index + 1) * HOUR,
      key: Buffer.from(`p${index}`), value: codec.encode('withdrawals', withdrawal({ playerId: `p${index}`, withdrawalId: `w${index}`, eventTimeMs: (index + 1) * HOUR })),
    }))
    for (const topic of MERGE_BLOCKING_TOPIC_KEYS) task.setHighWatermark(topic, topic === 'withdrawals' ? BigInt(count) : 0n)
    await task.enqueue('withdrawals', records, BigInt(count))
    const draining = task.drain()
    await new Promise((resolve) => setTimeout(resolve, 50))
    // the first batch in flight, 64 processed behind it, the next one taken and waiting
    expect(task.bufferedCount()).toBe(count - 1 - 64 - 1)
    release()
    await draining
    await task.flush()
    expect(task.bufferedCount()).toBe(0)
  })
})

type Emitted = Array<{ topic: string; value: Record<string, unknown> }>
interface DrainingTask { readonly task: PartitionTask; readonly draining: Promise<void> }

/** The decisions among the outputs, as JSON (byte-for-byte comparable). */
const decisions = (emitted: Emitted): string[] => emitted.filter((output) => output.topic === 'decisions').map((output) => JSON.stringify(output.value))

/**
 * A task of one-record batches that checkpoints every second batch, opened on `store` (its
 * checkpoint must put it at offset `from`), given the withdrawals `records` from there on, and
 * draining them. The crash tests below start one per run (clean, crashed, restarted).
 */
async function drainingTask(newTask: Awaited<ReturnType<typeof taskKit>>['task'], store: PartitionStore, records: readonly RawRecord[], emitted: Emitted, from: number): Promise<DrainingTask> {
  const task = newTask({ store, emit: async (outputs) => void emitted.push(...outputs), batchSize: 1, checkpointBatches: 2, checkpointIntervalMs: 60_000 })
  expect((await task.open()).get('withdrawals')).toBe(BigInt(from))
  for (const topic of MERGE_BLOCKING_TOPIC_KEYS) task.setHighWatermark(topic, topic === 'withdrawals' ? BigInt(records.length) : 0n)
  await task.enqueue('withdrawals', records.slice(from), BigInt(records.length))
  return { task, draining: task.drain() }
}

async function drainedAndFlushed(started: Promise<DrainingTask>): Promise<void> {
  const { task, draining } = await started
  await draining
  await task.flush()
}

async function collectKeys(store: { entries(prefix?: string): AsyncIterable<[string, Buffer]> }): Promise<string[]> {
  const keys: string[] = []
  for await (const [key] of store.entries()) keys.push(key)
  return keys
}

describe('partition task: checkpoints written behind the processing', () => {
  it('goes on processing while a checkpoint is written, up to two in flight, and keeps its players in memory until they have landed, however small the cache', async () => {
    const { codec, task: newTask } = await taskKit()
    const memory = createMemoryStore()
    const inner = memory.partition(0)
    // The first checkpoint write is held until released; every write after it queues behind it.
    let release: () => void = () => undefined
    const held = new Promise<void>((resolve) => { release = resolve })
    let checkpointWrites = 0
    const store = { ...inner, async write(batch: Parameters<typeof inner.write>[0]) {
      if (batch.puts.some(([key]) => key === 'checkpoint')) {
        checkpointWrites += 1
        if (checkpointWrites === 1) await held
      }
      await inner.write(batch)
    } }
    const emitted: Array<{ topic: string; value: Record<string, unknown> }> = []
    let clockMs = 0
    const task = newTask({ store, emit: async (outputs) => void emitted.push(...outputs), monotonicMs: () => (clockMs += 1), batchSize: 1, cacheSize: 1, checkpointBatches: 1 })
    await task.open()
    // p1's four requests with p2's between them: each batch evicts down to one cached player.
    const order = [['p1', 'a'], ['p2', 'b'], ['p1', 'c'], ['p2', 'd'], ['p1', 'e'], ['p1', 'f']] as const
    const records = order.map(([playerId, id], index) => ({
      topicKey: 'withdrawals' as const, topic: 'casino.withdrawals.v1', partition: 0, offset: BigInt(index), timestampMs: (index + 1) * HOUR,
      key: Buffer.from(playerId), value: codec.encode('withdrawals', withdrawal({ playerId, withdrawalId: id, eventTimeMs: (index + 1) * HOUR })),
    }))
    for (const topic of MERGE_BLOCKING_TOPIC_KEYS) task.setHighWatermark(topic, topic === 'withdrawals' ? BigInt(records.length) : 0n)
    await task.enqueue('withdrawals', records, BigInt(records.length))

    const draining = task.drain()
    await new Promise((resolve) => setTimeout(resolve, 10))
    // two batches processed and emitted while the first checkpoint is held, the second checkpoint
    // queued behind it, and the third batch (taken from the queue) waiting for the first to land
    expect(task.bufferedCount()).toBe(3)
    expect(checkpointWrites).toBe(1)
    expect(emitted.filter((output) => output.topic === 'decisions')).toHaveLength(2)

    release()
    await draining
    await task.flush()
    const velocity = (withdrawalId: string): unknown => {
      const decision = emitted.find((output) => output.topic === 'decisions' && output.value.withdrawalId === withdrawalId)
      return (decision?.value.executions as Array<{ detectorId: string; value: number }>).find((execution) => execution.detectorId === 'withdrawal_velocity')?.value
    }
    // p1's history survived the evictions: its fourth request counts four
    expect(['a', 'c', 'e', 'f'].map(velocity)).toEqual([1, 2, 3, 4])
    expect(velocity('d')).toBe(2)
    expect(JSON.parse((await inner.get('checkpoint') as Buffer).toString()).nextOffsets.withdrawals).toBe('6')
  })

  it("does not hold later batches' outputs for a checkpoint, and a crash once it has landed replays those batches on top of it", async () => {
    const { codec, task: newTask } = await taskKit()
    const records = (['p1', 'p2', 'p1', 'p2', 'p1', 'p1'] as const).map((playerId, index) => ({
      topicKey: 'withdrawals' as const, topic: 'casino.withdrawals.v1', partition: 0, offset: BigInt(index), timestampMs: (index + 1) * HOUR,
      key: Buffer.from(playerId), value: codec.encode('withdrawals', withdrawal({ playerId, withdrawalId: `w${index}`, eventTimeMs: (index + 1) * HOUR })),
    }))
    const run = (store: PartitionStore, emitted: Emitted, from: number): Promise<DrainingTask> => drainingTask(newTask, store, records, emitted, from)

    const clean = createMemoryStore().partition(0)
    const cleanOutputs: Emitted = []
    await drainedAndFlushed(run(clean, cleanOutputs, 0))

    // The first checkpoint (after batch 2) is held until released; the later ones never land (the crash).
    const inner = createMemoryStore().partition(0)
    let release: () => void = () => undefined
    const held = new Promise<void>((resolve) => { release = resolve })
    let checkpointWrites = 0
    let landed = false
    const store: PartitionStore = { ...inner, async write(batch) {
      if (batch.puts.some(([key]) => key === 'checkpoint')) {
        checkpointWrites += 1
        if (checkpointWrites > 1) return new Promise<void>(() => undefined)
        await held
        await inner.write(batch)
        landed = true
        return
      }
      await inner.write(batch)
    } }
    const crashedOutputs: Emitted = []
    const crashed = await run(store, crashedOutputs, 0)
    await new Promise((resolve) => setTimeout(resolve, 10))
    // four decided and emitted with the first checkpoint held (the second waits behind it, and the
    // processing behind both): their pending records are written
    expect(decisions(crashedOutputs)).toEqual(decisions(cleanOutputs).slice(0, 4))
    expect(landed).toBe(false)
    expect((await collectKeys(inner)).filter((key) => key.startsWith('pending/'))).toHaveLength(4)
    release()
    await crashed.draining
    await new Promise((resolve) => setTimeout(resolve, 10))
    expect(landed).toBe(true)
    expect(decisions(crashedOutputs)).toEqual(decisions(cleanOutputs))
    // it deleted only its own batches' records
    expect((await collectKeys(inner)).filter((key) => key.startsWith('pending/'))).toEqual(['pending/0000000002', 'pending/0000000003', 'pending/0000000004', 'pending/0000000005'])

    // the restart takes the checkpoint, replays batches 3-6 from their records, and re-emits them byte for byte
    const restartedOutputs: Emitted = []
    await drainedAndFlushed(run(inner, restartedOutputs, 2))
    expect(decisions(restartedOutputs)).toEqual(decisions(cleanOutputs).slice(2))
    for (const key of ['checkpoint', 's/p1', 's/p2']) expect((await inner.get(key))?.toString()).toBe((await clean.get(key))?.toString())
    expect((await collectKeys(inner)).filter((key) => key.startsWith('pending/'))).toEqual([])
  })

  it('writes the order of a batch that emits nothing and checkpoints at once, so a crash before that checkpoint lands replays every batch', async () => {
    const { codec, task: newTask } = await taskKit()
    const request = (playerId: string, withdrawalId: string, hours: number): Buffer => codec.encode('withdrawals', withdrawal({ playerId, withdrawalId, eventTimeMs: hours * HOUR }))
    // The second record repeats the first request: a duplicate, decided once, so its batch emits nothing.
    const values = [request('p1', 'w0', 1), request('p1', 'w0', 1), request('p2', 'w2', 3), request('p1', 'w3', 4), request('p2', 'w4', 5), request('p1', 'w5', 6)]
    const records = values.map((value, index) => ({ topicKey: 'withdrawals' as const, topic: 'casino.withdrawals.v1', partition: 0, offset: BigInt(index), timestampMs: (index + 1) * HOUR, key: Buffer.from(index === 2 || index === 4 ? 'p2' : 'p1'), value }))
    // No checkpoint lands before a restart here, so every run starts from offset 0.
    const run = (store: PartitionStore, emitted: Emitted): Promise<DrainingTask> => drainingTask(newTask, store, records, emitted, 0)
    const clean = createMemoryStore().partition(0)
    const cleanOutputs: Emitted = []
    await drainedAndFlushed(run(clean, cleanOutputs))
    expect(decisions(cleanOutputs)).toHaveLength(5)

    // No checkpoint ever lands (the crash comes first): four batches go through before the
    // processing waits behind the two checkpoints, the duplicate's batch second, and every one of
    // them leaves its pending record.
    const inner = createMemoryStore().partition(0)
    const store: PartitionStore = { ...inner, async write(batch) {
      if (batch.puts.some(([key]) => key === 'checkpoint')) return new Promise<void>(() => undefined)
      await inner.write(batch)
    } }
    await run(store, [])
    await new Promise((resolve) => setTimeout(resolve, 10))
    expect((await collectKeys(inner)).filter((key) => key.startsWith('pending/'))).toHaveLength(4)
    const restartedOutputs: Emitted = []
    await drainedAndFlushed(run(inner, restartedOutputs))
    expect(decisions(restartedOutputs)).toEqual(decisions(cleanOutputs))
    for (const key of ['checkpoint', 's/p1', 's/p2']) expect((await inner.get(key))?.toString()).toBe((await clean.get(key))?.toString())
  })

  it('is settled only once the writes queued behind a closed task have landed', async () => {
    const { codec, task: newTask } = await taskKit()
    const inner = createMemoryStore().partition(0)
    let release: () => void = () => undefined
    const held = new Promise<void>((resolve) => { release = resolve })
    const store = { ...inner, async write(batch: Parameters<typeof inner.write>[0]) {
      await held
      await inner.write(batch)
    } }
    const task = newTask({ store, emit: async () => undefined, checkpointBatches: 1000 })
    await task.open()
    for (const topic of MERGE_BLOCKING_TOPIC_KEYS) task.setHighWatermark(topic, topic === 'withdrawals' ? 1n : 0n)
    await task.enqueue('withdrawals', [{ topicKey: 'withdrawals', topic: 'casino.withdrawals.v1', partition: 0, offset: 0n, timestampMs: HOUR, key: Buffer.from('p1'), value: codec.encode('withdrawals', withdrawal({ playerId: 'p1', withdrawalId: 'w-1', eventTimeMs: HOUR })) }], 1n)
    await task.drain()
    task.close()
    let settled = false
    const settling = task.settled().then(() => { settled = true })
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(settled).toBe(false)
    expect([...(await collectKeys(inner))]).toEqual([])
    release()
    await settling
    // the batch's pending record is there for the next task that opens the partition
    expect(await collectKeys(inner)).toEqual(['pending/0000000000'])
  })
})

describe('partition task: a checkpoint in the middle of replaying a crashed run', () => {
  it("keeps the pending records of the batches not yet replayed, so a crash after it still replays them in their recorded order", async () => {
    const { codec, task: newTask } = await taskKit()
    const inner = createMemoryStore().partition(0)
    const records = (['p1', 'p2', 'p1', 'p1'] as const).map((playerId, index) => ({
      topicKey: 'withdrawals' as const, topic: 'casino.withdrawals.v1', partition: 0, offset: BigInt(index), timestampMs: (index + 1) * HOUR,
      key: Buffer.from(playerId), value: codec.encode('withdrawals', withdrawal({ playerId, withdrawalId: `w${index}`, eventTimeMs: (index + 1) * HOUR })),
    }))
    const run = (emitted: Array<{ topic: string; value: Record<string, unknown> }>): PartitionTask => {
      const task = newTask({ store: inner, emit: async (outputs) => void emitted.push(...outputs), batchSize: 1, checkpointBatches: 1000, checkpointIntervalMs: 60_000 })
      for (const topic of MERGE_BLOCKING_TOPIC_KEYS) task.setHighWatermark(topic, topic === 'withdrawals' ? BigInt(records.length) : 0n)
      return task
    }
    const pendingKeys = async (): Promise<string[]> => (await collectKeys(inner)).filter((key) => key.startsWith('pending/'))
    const decisions = (emitted: Array<{ topic: string; value: Record<string, unknown> }>): string[] => emitted.filter((output) => output.topic === 'decisions').map((output) => JSON.stringify(output.value))

    // 1. four batches of one record each, emitted, then a crash before any checkpoint
    const firstOutputs: Array<{ topic: string; value: Record<string, unknown> }> = []
    const first = run(firstOutputs)
    await first.open()
    await first.enqueue('withdrawals', records, BigInt(records.length))
    await first.drain()
    first.close()
    await first.settled()
    expect(await pendingKeys()).toHaveLength(4)

    // 2. the restart replays the first batch only (the others' records are not fetched yet), and a flush checkpoints there
    const secondOutputs: Array<{ topic: string; value: Record<string, unknown> }> = []
    const second = run(secondOutputs)
    await second.open()
    await second.enqueue('withdrawals', records.slice(0, 1), BigInt(records.length))
    await second.drain()
    await second.flush()
    second.close()
    await second.settled()
    expect(JSON.parse((await inner.get('checkpoint') as Buffer).toString()).nextOffsets.withdrawals).toBe('1')
    expect(await pendingKeys()).toEqual(['pending/0000000001', 'pending/0000000002', 'pending/0000000003'])

    // 3. the next restart replays the other three and re-emits exactly what the first run sent
    const thirdOutputs: Array<{ topic: string; value: Record<string, unknown> }> = []
    const third = run(thirdOutputs)
    expect((await third.open()).get('withdrawals')).toBe(1n)
    await third.enqueue('withdrawals', records.slice(1), BigInt(records.length))
    await third.drain()
    await third.flush()
    expect(decisions(secondOutputs)).toEqual(decisions(firstOutputs).slice(0, 1))
    expect(decisions(thirdOutputs)).toEqual(decisions(firstOutputs).slice(1))
    expect(await pendingKeys()).toEqual([])
  })
})
