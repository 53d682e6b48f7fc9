/**
 * Coded errors. Every error pitboss raises on purpose carries a `RISK_ERR_*` code, whether
 * retrying can help, and the context needed to find the input (topic, partition, offset,
 * detector id...). The list below is documented in docs/errors.md; a test keeps the two equal.
 *
 * Dead-letter records use the same codes as their `reason`.
 *
 * Example:
 *   throw new RiskError('RISK_ERR_DECODE_UNKNOWN_SCHEMA', 'schema id 77 is not registered',
 *     { topic: 'casino.deposits.v1', partition: 3, offset: '1042', schemaId: 77 })
 */
export const ERROR_CODES = {
  // configuration and start-up
  RISK_ERR_CONFIG_INVALID: { retriable: false, summary: 'an environment variable or config value is missing or malformed' },
  RISK_ERR_RULE_SET_INVALID: { retriable: false, summary: 'a rule set failed validation when loaded' },
  RISK_ERR_DETECTOR_DUPLICATE: { retriable: false, summary: 'two detectors registered with the same id@version' },
  RISK_ERR_DETECTOR_UNKNOWN: { retriable: false, summary: 'a rule set names a detector that is not registered' },
  RISK_ERR_SUBSTRATE: { retriable: false, summary: 'a local service (broker, registry, ClickHouse) could not be started or reached' },
  RISK_ERR_MIGRATION: { retriable: false, summary: 'a ClickHouse migration failed or a recorded migration changed' },
  // input that goes to the dead-letter topic
  RISK_ERR_DECODE_MAGIC_BYTE: { retriable: false, summary: 'the payload does not start with the Confluent wire-format magic byte 0' },
  RISK_ERR_DECODE_UNKNOWN_SCHEMA: { retriable: false, summary: 'the payload names a schema id the registry does not know' },
  RISK_ERR_DECODE_WRONG_SCHEMA: { retriable: false, summary: 'the payload was written with a schema of another topic' },
  RISK_ERR_DECODE_AVRO: { retriable: false, summary: 'the Avro body could not be decoded with the writer schema' },
  RISK_ERR_PAYLOAD_TOO_LARGE: { retriable: false, summary: 'the payload exceeds the configured maximum size' },
  RISK_ERR_EVENT_TIME_MISSING: { retriable: false, summary: 'the event carries no event time' },
  RISK_ERR_EVENT_TIME_NEGATIVE: { retriable: false, summary: 'the event time is negative' },
  RISK_ERR_EVENT_TIME_FUTURE: { retriable: false, summary: 'the event time is further ahead of the record\'s Kafka timestamp than the allowed skew' },
  RISK_ERR_KEY_MISMATCH: { retriable: false, summary: 'the message key is not the playerId of the event (breaks co-partitioning)' },
  RISK_ERR_INVALID_FIELD: { retriable: false, summary: 'a field value is out of its domain (negative amount, empty id...)' },
  // processing
  RISK_ERR_DETECTOR_FAILED: { retriable: false, summary: 'a detector threw; recorded as status error in the decision' },
  RISK_ERR_PROCESSING_FAILED: { retriable: false, summary: 'processing one event threw unexpectedly; the event goes to the dead-letter topic and the pipeline goes on' },
  RISK_ERR_STATE_CORRUPT: { retriable: false, summary: 'a stored state record could not be read back' },
  RISK_ERR_MODEL_MISMATCH: { retriable: false, summary: 'a model does not match the engine\'s feature contract, its manifest or its checksum; it is not activated' },
  RISK_ERR_WITHDRAWAL_TRANSITION: { retriable: false, summary: 'a withdrawal lifecycle event is not allowed from the withdrawal\'s current state' },
  // cases and the API
  RISK_ERR_CASE_NOT_FOUND: { retriable: false, summary: 'no case, alert or incident has the given id' },
  RISK_ERR_CASE_CONFLICT: { retriable: false, summary: 'the case changed since it was read (another officer acted first)' },
  RISK_ERR_CASE_TRANSITION: { retriable: false, summary: 'the case action is not allowed in the case\'s current state' },
  RISK_ERR_REQUEST_INVALID: { retriable: false, summary: 'an API request failed validation' },
  RISK_ERR_UNAUTHENTICATED: { retriable: false, summary: 'the API request carries no valid credentials' },
  RISK_ERR_FORBIDDEN: { retriable: false, summary: 'the caller\'s role may not do this' },
  RISK_ERR_NOT_FOUND: { retriable: false, summary: 'no resource has the given id (rule-set version, model, report...)' },
  RISK_ERR_RULE_SET_CONFLICT: { retriable: false, summary: 'a rule-set version already exists with other content' },
  RISK_ERR_WEBHOOK_REPLAY: { retriable: false, summary: 'a signed webhook was delivered again (its nonce was already used)' },
  RISK_ERR_RATE_LIMITED: { retriable: false, summary: 'too many API requests from this caller; wait for Retry-After' },
  RISK_ERR_AUDIT_WRITE: { retriable: false, summary: 'an audit entry could not be written; the action is refused' },
  // infrastructure: retried with backoff
  RISK_ERR_REGISTRY_UNAVAILABLE: { retriable: true, summary: 'the schema registry did not answer' },
  RISK_ERR_REGISTRY_REJECTED: { retriable: false, summary: 'the schema registry refused a schema (incompatible or invalid)' },
  RISK_ERR_KAFKA_PRODUCE: { retriable: true, summary: 'producing to Kafka failed' },
  RISK_ERR_STATE_WRITE: { retriable: true, summary: 'writing a checkpoint to RocksDB failed' },
  RISK_ERR_CLICKHOUSE_UNAVAILABLE: { retriable: true, summary: 'ClickHouse did not answer or refused a write' },
  RISK_ERR_CLICKHOUSE_QUERY: { retriable: false, summary: 'ClickHouse rejected a query' },
  RISK_ERR_SHUTDOWN: { retriable: false, summary: 'the operation was cut short by shutdown' },
} as const satisfies Record<string, { retriable: boolean; summary: string }>

export type ErrorCode = keyof typeof ERROR_CODES

export type ErrorContext = Readonly<Record<string, string | number | boolean | null | undefined>>

export class RiskError extends Error {
  readonly code: ErrorCode
  readonly retriable: boolean
  readonly context: ErrorContext

  constructor(code: ErrorCode, message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(`${code}: ${message}`, options)
    this.name = 'RiskError'
    this.code = code
    this.retriable = ERROR_CODES[code].retriable
    this.context = context
  }
}

export function isRiskError(error: unknown, code?: ErrorCode): error is RiskError {
  return error instanceof RiskError && (code === undefined || error.code === code)
}
