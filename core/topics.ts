/**
 * The topic catalog: the one list of every topic pitboss reads or writes, with its partition
 * count and role. The local broker launcher pre-creates topics from this list (the mock broker
 * cannot create topics through the admin API), the docker-compose topic-init step is generated
 * from it, and the code names topics only through it.
 *
 * Co-partitioning: every input topic is keyed by `playerId` and has INPUT_PARTITIONS
 * partitions, so partition task 3 sees partition 3 of every input topic, i.e. all of a
 * player's events.
 *
 * Example: `topicName(config.kafka, 'deposits')` -> `'casino.deposits.v1'`, or with the
 * prefix `t42.` used by an isolated test -> `'t42.casino.deposits.v1'`.
 */
export const INPUT_PARTITIONS = 8

export interface TopicSpec {
  /** Name without the deployment prefix. */
  readonly name: string
  readonly partitions: number
  readonly role: 'input' | 'output' | 'internal'
  /** Kafka cleanup policy in production (the mock broker keeps everything up to ~5 MiB/partition). */
  readonly cleanupPolicy: 'delete' | 'compact'
  /** Message key, for readers of the catalog. */
  readonly keyedBy: string
  readonly description: string
}

export const TOPICS = {
  players: { name: 'casino.players.v1', partitions: INPUT_PARTITIONS, role: 'input', cleanupPolicy: 'delete', keyedBy: 'playerId', description: 'registration, profile, KYC, self-exclusion changes' },
  devices: { name: 'casino.devices.v1', partitions: INPUT_PARTITIONS, role: 'input', cleanupPolicy: 'delete', keyedBy: 'playerId', description: 'logins and sessions with device and network signals' },
  deposits: { name: 'casino.deposits.v1', partitions: INPUT_PARTITIONS, role: 'input', cleanupPolicy: 'delete', keyedBy: 'playerId', description: 'deposits and their status changes (chargeback, reversal)' },
  bets: { name: 'casino.bets.v1', partitions: INPUT_PARTITIONS, role: 'input', cleanupPolicy: 'delete', keyedBy: 'playerId', description: 'bets placed and settled' },
  withdrawals: { name: 'casino.withdrawals.v1', partitions: INPUT_PARTITIONS, role: 'input', cleanupPolicy: 'delete', keyedBy: 'playerId', description: 'withdrawal requests and cancellations' },
  transfers: { name: 'casino.transfers.v1', partitions: INPUT_PARTITIONS, role: 'input', cleanupPolicy: 'delete', keyedBy: 'playerId (sender)', description: 'player-to-player transfers, tips, chip transfers' },
  reviews: { name: 'risk.reviews.v1', partitions: INPUT_PARTITIONS, role: 'input', cleanupPolicy: 'delete', keyedBy: 'playerId', description: 'AML officers\' verdicts on withdrawals held for review (written by the case service)' },
  screening: { name: 'risk.screening.v1', partitions: INPUT_PARTITIONS, role: 'input', cleanupPolicy: 'delete', keyedBy: 'playerId', description: 'screening instructions: rescreen after a list update, officers\' false-match and true-match verdicts' },
  payouts: { name: 'payout.events.v1', partitions: INPUT_PARTITIONS, role: 'input', cleanupPolicy: 'delete', keyedBy: 'playerId', description: 'what the payout service did with a payout command: dispatched, settled, failed, retry on another rail' },
  decisions: { name: 'risk.decisions.v1', partitions: INPUT_PARTITIONS, role: 'output', cleanupPolicy: 'compact', keyedBy: 'withdrawalId', description: 'one decision per withdrawal and revision' },
  alerts: { name: 'risk.alerts.v1', partitions: INPUT_PARTITIONS, role: 'output', cleanupPolicy: 'delete', keyedBy: 'playerId', description: 'detector hits that become cases' },
  payoutCommands: { name: 'payout.commands.v1', partitions: INPUT_PARTITIONS, role: 'output', cleanupPolicy: 'delete', keyedBy: 'withdrawalId', description: 'payout commands with idempotency keys' },
  ledgerCommands: { name: 'ledger.commands.v1', partitions: INPUT_PARTITIONS, role: 'output', cleanupPolicy: 'delete', keyedBy: 'withdrawalId', description: 'ledger hold / release / reverse commands' },
  deadLetters: { name: 'risk.dlq.v1', partitions: 4, role: 'output', cleanupPolicy: 'delete', keyedBy: 'source topic/partition/offset', description: 'input that could not be processed, with the reason and the original bytes' },
  links: { name: 'risk.links.v1', partitions: INPUT_PARTITIONS, role: 'internal', cleanupPolicy: 'delete', keyedBy: 'identifier', description: 'identifiers re-keyed for the graph worker' },
  clusters: { name: 'risk.clusters.v1', partitions: INPUT_PARTITIONS, role: 'internal', cleanupPolicy: 'compact', keyedBy: 'playerId', description: 'per-player cluster summaries (table)' },
  withdrawalEvents: { name: 'risk.withdrawal-events.v1', partitions: INPUT_PARTITIONS, role: 'output', cleanupPolicy: 'delete', keyedBy: 'withdrawalId', description: 'the withdrawal state machine\'s event log: every transition with its cause' },
  caseEvents: { name: 'risk.case-events.v1', partitions: 4, role: 'output', cleanupPolicy: 'delete', keyedBy: 'caseId', description: 'every change to a case (opened, alert joined, claimed, commented, escalated, closed), hash-chained' },
  labels: { name: 'risk.labels.v1', partitions: 4, role: 'output', cleanupPolicy: 'delete', keyedBy: 'caseId', description: 'case outcomes as training labels' },
  transfersReceived: { name: 'risk.transfers-received.v1', partitions: INPUT_PARTITIONS, role: 'internal', cleanupPolicy: 'delete', keyedBy: 'playerId (receiver)', description: 'casino.transfers.v1 re-keyed by the receiving player, so the receiver\'s partition task sees money it was sent (pass_through inflows)' },
  auditEntries: { name: 'risk.audit.v1', partitions: 4, role: 'output', cleanupPolicy: 'delete', keyedBy: 'entity type:id', description: 'the API\'s hash-chained audit log, relayed line by line from its file (api/audit-relay.ts)' },
} as const satisfies Record<string, TopicSpec>

export type TopicKey = keyof typeof TOPICS

/** The operator's feeds: what a casino produces (the simulator writes exactly these). */
export const CASINO_TOPIC_KEYS = ['players', 'devices', 'deposits', 'transfers', 'bets', 'withdrawals'] as const satisfies readonly TopicKey[]
export type CasinoTopicKey = (typeof CASINO_TOPIC_KEYS)[number]

/**
 * Every topic a partition task reads, in tie-break order: at equal event time a player change
 * sorts before a deposit, a deposit before a withdrawal, a withdrawal before a review of it.
 * `clusters` (the graph worker's compacted per-player table) is read as a stream of updates to
 * the player's cluster, merged by event time like the rest, so replays see the same table.
 * `transfersReceived` is the engine's own repartition of `transfers` by the receiver (written by
 * the sender's partition task, pipelines/processor.ts): at equal event time it sorts last, after
 * the receiver's own events, since it was produced after the transfer it copies.
 * New inputs are appended: a pending-batch record names topics by their index in this list.
 */
export const INPUT_TOPIC_KEYS = [...CASINO_TOPIC_KEYS, 'reviews', 'payouts', 'clusters', 'screening', 'transfersReceived'] as const satisfies readonly TopicKey[]
export type InputTopicKey = (typeof INPUT_TOPIC_KEYS)[number]

export function topicName(kafka: { readonly topicPrefix: string }, key: TopicKey): string {
  return kafka.topicPrefix + TOPICS[key].name
}

/** Every topic with its runtime name, for the launcher and the compose topic-init step. */
export function topicCatalog(topicPrefix: string): Array<{ key: TopicKey; name: string; partitions: number }> {
  return (Object.keys(TOPICS) as TopicKey[]).map((key) => ({ key, name: topicPrefix + TOPICS[key].name, partitions: TOPICS[key].partitions }))
}
