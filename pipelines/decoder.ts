/**
 * Bytes -> domain event, for the partition tasks: the Confluent wire format through the schema
 * registry (schemas/codec.ts), then the event-time rules (schemas/event-time.ts), then the domain
 * rules Avro cannot express (schemas/adapters.ts). Every refusal comes back as a dead-letter
 * reason; only infrastructure failures (registry unreachable) are thrown, and those are retried
 * here with backoff so one slow registry does not crash the consumer.
 */
import { sleep } from '../core/clock.js'
import { isRiskError } from '../core/errors.js'
import type { Logger } from '../core/logger.js'
import { toInputEvent } from '../schemas/adapters.js'
import type { AvroCodec, DecodeResult, WireValue } from '../schemas/codec.js'
import type { InputTopicKey } from '../core/topics.js'
import { extractEventTime } from '../schemas/event-time.js'
import type { DecodedRecord, RawRecord, RecordDecoder } from './partition-task.js'

export class RegistryRecordDecoder implements RecordDecoder {
  constructor(
    private readonly codec: AvroCodec,
    private readonly logger: Logger,
    private readonly isRunning: () => boolean = () => true,
    /** An event further ahead of its record's Kafka timestamp than this is refused (config.pipeline.maxFutureSkewMs). */
    private readonly maxFutureSkewMs: number = 24 * 60 * 60 * 1000,
  ) {}

  async decode(record: RawRecord): Promise<DecodedRecord> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.decodeOnce(record)
      } catch (error) {
        if (!isRiskError(error) || !error.retriable || !this.isRunning()) throw error
        const backoffMs = Math.min(5000, 100 * 2 ** Math.min(attempt, 6))
        this.logger.warn({ err: error, topic: record.topic, partition: record.partition, offset: String(record.offset), attempt, backoffMs }, 'decoding needs the schema registry, which did not answer; retrying')
        await sleep(backoffMs)
      }
    }
  }

  /**
   * The synchronous path, for a record whose writer schema is already known (nearly all of
   * them): saves the promises of decode per record. Undefined when decode must ask the registry.
   */
  decodeSync(record: RawRecord): DecodedRecord | undefined {
    const decoded = this.codec.decodeCached(record.topicKey, record.value)
    return decoded === undefined ? undefined : this.toDecoded(record, decoded)
  }

  private async decodeOnce(record: RawRecord): Promise<DecodedRecord> {
    return this.toDecoded(record, await this.codec.decode(record.topicKey, record.value))
  }

  private toDecoded(record: RawRecord, decoded: DecodeResult<WireValue<InputTopicKey>>): DecodedRecord {
    if (!decoded.ok) return { ok: false, code: decoded.code, message: decoded.message, schemaId: decoded.schemaId }
    const time = extractEventTime(decoded.value, { referenceTimeMs: record.timestampMs >= 0 ? record.timestampMs : null, maxFutureSkewMs: this.maxFutureSkewMs })
    if (!time.ok) return { ok: false, code: time.code, message: time.message, schemaId: decoded.schemaId }
    // The decoded value is this call's own (the codec builds a new one per decode): no copy.
    const event = toInputEvent(record.topicKey, decoded.value, true)
    if (!event.ok) return { ok: false, code: event.code, message: event.message, schemaId: decoded.schemaId }
    return { ok: true, event: event.event }
  }
}
