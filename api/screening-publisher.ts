/**
 * Produces screening instructions to `risk.screening.v1`, keyed by playerId (the engine's input
 * topics are co-partitioned by player, so an instruction reaches the partition task holding the
 * player's sanctions state), Avro-encoded through the codec, acknowledged by all in-sync
 * replicas (acks -1) before `publish` resolves. The API answers 202 only after that; it sends
 * officers' FALSE_MATCH / TRUE_MATCH verdicts (api/routes/screening-verdicts.ts).
 *
 * The producer is not idempotent (the test broker cannot do it, INFRA-NOTES.md): a retry may
 * write an instruction twice, which is harmless: a verdict repeated changes nothing more.
 *
 * Example:
 *   const screening = createKafkaScreeningPublisher(config, codec, logger)
 *   const app = buildApp({ ..., operations: { cases, readModel, publishReview, publishScreening: screening.publish } })
 *   ...
 *   await screening.close()
 */
import type { KafkaConfig } from '../core/config.js'
import { RiskError, isRiskError } from '../core/errors.js'
import type { Logger } from '../core/logger.js'
import { topicName } from '../core/topics.js'
import type { AvroCodec } from '../schemas/codec.js'
import type { ScreeningInstruction } from '../schemas/generated/types.js'
import { createLazyProducer } from './lazy-producer.js'

export interface ScreeningPublisher {
  /** Encodes and produces one instruction; resolves once the broker acknowledged it. Bound: pass it as a function. */
  readonly publish: (instruction: ScreeningInstruction) => Promise<void>
  /** Disconnects the producer (waits for a connect in flight). */
  close(): Promise<void>
}

/** `config` is the PitbossConfig (only `kafka` is read). */
export function createKafkaScreeningPublisher(config: { readonly kafka: KafkaConfig }, codec: AvroCodec, logger: Logger): ScreeningPublisher {
  const topic = topicName(config.kafka, 'screening')
  const log = logger.child({ component: 'screening-publisher', topic })
  const producer = createLazyProducer(config, logger)
  let closed = false

  return {
    publish: async (instruction) => {
      if (closed) throw new RiskError('RISK_ERR_SHUTDOWN', 'the screening publisher is closed; the API is shutting down')
      // Encoding first: an instruction the schema refuses is a bug here, not a broker problem to retry.
      const value = codec.encode('screening', instruction)
      try {
        await producer.send(topic, [{ key: instruction.playerId, value }])
      } catch (error) {
        if (isRiskError(error)) throw error
        log.warn({ err: error, eventId: instruction.eventId, playerId: instruction.playerId }, 'producing a screening instruction failed')
        throw new RiskError('RISK_ERR_KAFKA_PRODUCE', `producing the screening instruction ${instruction.eventId} to ${topic} failed (${(error as Error).message}); retry the request, it produces the same eventId`, { topic, eventId: instruction.eventId }, { cause: error })
      }
    },
    async close() {
      closed = true
      await producer.close()
    },
  }
}
