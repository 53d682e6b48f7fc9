/**
 * Produces officers' verdicts to `risk.reviews.v1`, keyed by playerId (the engine's input topics
 * are co-partitioned by player, so the verdict reaches the partition task holding the
 * withdrawal), Avro-encoded through the codec, acknowledged by all in-sync replicas (acks -1)
 * before `publish` resolves. The API answers 202 only after that.
 *
 * The producer is not idempotent (the test broker cannot do it, INFRA-NOTES.md): a retry may
 * write a verdict twice, which is harmless because the engine ignores a repeated eventId.
 *
 * Example:
 *   const reviews = createKafkaReviewPublisher(config, codec, logger)
 *   const app = buildApp({ ..., operations: { cases, readModel, publishReview: reviews.publish } })
 *   ...
 *   await reviews.close()
 */
import type { KafkaConfig } from '../core/config.js'
import { RiskError, isRiskError } from '../core/errors.js'
import type { Logger } from '../core/logger.js'
import { topicName } from '../core/topics.js'
import type { AvroCodec } from '../schemas/codec.js'
import type { ReviewVerdict } from '../schemas/generated/types.js'
import { createLazyProducer } from './lazy-producer.js'

export interface ReviewPublisher {
  /** Encodes and produces one verdict; resolves once the broker acknowledged it. Bound: pass it as a function. */
  readonly publish: (verdict: ReviewVerdict) => Promise<void>
  /** Disconnects the producer (waits for a connect in flight). */
  close(): Promise<void>
}

/** `config` is the PitbossConfig (only `kafka` is read). */
export function createKafkaReviewPublisher(config: { readonly kafka: KafkaConfig }, codec: AvroCodec, logger: Logger): ReviewPublisher {
  const topic = topicName(config.kafka, 'reviews')
  const log = logger.child({ component: 'review-publisher', topic })
  const producer = createLazyProducer(config, logger)
  let closed = false

  return {
    publish: async (verdict) => {
      if (closed) throw new RiskError('RISK_ERR_SHUTDOWN', 'the review publisher is closed; the API is shutting down')
      // Encoding first: a verdict the schema refuses is a bug here, not a broker problem to retry.
      const value = codec.encode('reviews', verdict)
      try {
        await producer.send(topic, [{ key: verdict.playerId, value }])
      } catch (error) {
        if (isRiskError(error)) throw error
        log.warn({ err: error, eventId: verdict.eventId, withdrawalId: verdict.withdrawalId }, 'producing a review verdict failed')
        throw new RiskError('RISK_ERR_KAFKA_PRODUCE', `producing the verdict ${verdict.eventId} to ${topic} failed (${(error as Error).message}); retry the request, it produces the same eventId`, { topic, eventId: verdict.eventId }, { cause: error })
      }
    },
    async close() {
      closed = true
      await producer.close()
    },
  }
}
