/**
 * Bad input on the real broker: each kind lands in risk.dlq.v1 with its reason and the original
 * bytes, while the good events around it are decided, and the engine does not crash.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deposit, player, withdrawal } from '../../bench/events.js'
import type { Decision, DeadLetter } from '../../schemas/generated/types.js'
import { EngineProcess, TopicReader, encoded, isolated, produce, type Isolated, type Message } from './support.js'

const HOUR = 60 * 60 * 1000
const DAY = 24 * HOUR

describe('dead letters', () => {
  let test: Isolated
  let engine: EngineProcess

  beforeAll(async () => {
    test = await isolated('dlq', { PITBOSS_MAX_PAYLOAD_BYTES: '2048' })
  })

  afterAll(async () => {
    expect(await engine.stop()).toBe(0)
  })

  it('routes every kind of bad input with its reason and keeps deciding the good ones', async () => {
    const base = 10 * DAY
    const wd = (fields: Parameters<typeof withdrawal>[0]): Buffer => test.codec.encode('withdrawals', withdrawal(fields))
    const bad: Array<{ reason: string; message: Message }> = [
      { reason: 'RISK_ERR_DECODE_MAGIC_BYTE', message: { topic: 'withdrawals', key: 'p-bad', value: Buffer.from('{"json":"not avro"}') } },
      { reason: 'RISK_ERR_DECODE_MAGIC_BYTE', message: { topic: 'withdrawals', key: 'p-bad', value: null } },
      { reason: 'RISK_ERR_DECODE_UNKNOWN_SCHEMA', message: { topic: 'withdrawals', key: 'p-bad', value: Buffer.from([0, 0x7f, 0xff, 0xff, 0x01, 2, 3]) } },
      { reason: 'RISK_ERR_DECODE_WRONG_SCHEMA', message: { topic: 'withdrawals', key: 'p-bad', value: test.codec.encode('deposits', deposit({ playerId: 'p-bad', eventTimeMs: base })) } },
      { reason: 'RISK_ERR_DECODE_AVRO', message: { topic: 'withdrawals', key: 'p-bad', value: wd({ playerId: 'p-bad', eventTimeMs: base }).subarray(0, 12) } },
      { reason: 'RISK_ERR_KEY_MISMATCH', message: { topic: 'withdrawals', key: 'someone-else', value: wd({ playerId: 'p-bad', eventTimeMs: base }) } },
      { reason: 'RISK_ERR_EVENT_TIME_NEGATIVE', message: { topic: 'withdrawals', key: 'p-bad', value: wd({ playerId: 'p-bad', eventTimeMs: -5 }) } },
      // 30 days after it is written to Kafka (the record's timestamp is the producer's clock)
      { reason: 'RISK_ERR_EVENT_TIME_FUTURE', message: { topic: 'withdrawals', key: 'p-bad', value: wd({ playerId: 'p-bad', eventTimeMs: Date.now() + 30 * DAY }) } },
      { reason: 'RISK_ERR_INVALID_FIELD', message: { topic: 'withdrawals', key: 'p-bad', value: wd({ playerId: 'p-bad', eventTimeMs: base, amountMinor: -100 }) } },
      { reason: 'RISK_ERR_PAYLOAD_TOO_LARGE', message: { topic: 'withdrawals', key: 'p-bad', value: wd({ playerId: 'p-bad', eventTimeMs: base, instrument: { token: 't', cardBin: null, walletAddress: null, holderName: 'x'.repeat(5000) } }) } },
    ]
    const good = (hour: number): Message => encoded(test, 'withdrawals', withdrawal({ playerId: 'p-bad', withdrawalId: `good-${hour}`, eventTimeMs: base + hour * HOUR }))
    // good events before, between and after the bad ones, all on the same player's partition
    const messages: Message[] = [encoded(test, 'players', player({ playerId: 'p-bad', eventTimeMs: base - HOUR })), good(1)]
    bad.forEach((entry, index) => messages.push(entry.message, ...(index % 3 === 0 ? [good(2 + index)] : [])))
    messages.push(good(20))

    const decisions = await new TopicReader<Decision>(test, 'decisions').start()
    const deadLetters = await new TopicReader<DeadLetter>(test, 'deadLetters').start()
    try {
      await produce(test, messages)
      engine = new EngineProcess(test).start()
      const goodCount = messages.filter((message) => message.topic === 'withdrawals' && !bad.some((entry) => entry.message === message)).length
      await decisions.waitFor((values) => values.length >= goodCount)
      await deadLetters.waitFor((values) => values.length >= bad.length, 15_000).catch((error: unknown) => { throw new Error(`${String(error)}: ${deadLetters.values.map((letter) => letter.reason).join(", ")}`) })

      expect(new Set(decisions.values.map((decision) => decision.withdrawalId)).size).toBe(goodCount)
      const reasons = deadLetters.values.map((letter) => letter.reason).sort()
      expect(reasons).toEqual(bad.map((entry) => entry.reason).sort())
      for (const letter of deadLetters.values) {
        expect(letter.sourceTopic).toBe(`${test.config.kafka.topicPrefix}casino.withdrawals.v1`)
        expect(letter.dlqId).toBe(`${letter.sourceTopic}:${letter.sourcePartition}:${letter.sourceOffset}`)
        expect(letter.message.length).toBeGreaterThan(10)
        // the original bytes, untouched
        const original = bad.find((entry) => entry.reason === letter.reason && Buffer.from(letter.payload).equals(entry.message.value ?? Buffer.alloc(0)))
        expect(original, `${letter.reason}: ${letter.message}`).toBeDefined()
      }
      expect(engine.log()).not.toMatch(/"level":60/) // no fatal
    } finally {
      await decisions.stop()
      await deadLetters.stop()
    }
  })
})
