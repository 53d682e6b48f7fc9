/**
 * Adapter and scorer for IBM AMLSim runs (`../shared/data/aml/amlsim-20k-*`): accounts are
 * players, transactions are transfers, one simulation step is one day of event time. Used by
 * test/graph/amlsim.test.ts (precision/recall floors) and bench/graph.bench.ts (figures).
 *
 * Example:
 *   const run = readAmlSim('../shared/data/aml/amlsim-20k-cycle')
 *   const graph = new LinkGraph(AMLSIM_EVALUATION_PARAMS.cycle); loadAmlSim(graph, run); graph.recompute()
 *   scoreTypology(graph.allAlerts(), 'cycle', run.fraudAccounts) // { precision: 0.98, recall: 0.11, ... }
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { RiskError } from '../core/errors.js'
import type { LinkGraph } from './link-graph.js'
import type { GraphParamsInput } from './params.js'
import type { ClusterAlert, TransferEvent, TypologyId } from './types.js'

export const AMLSIM_STEP_MS = 24 * 60 * 60 * 1000

export interface AmlSimRun {
  readonly transfers: readonly TransferEvent[]
  readonly accounts: readonly string[]
  readonly fraudAccounts: ReadonlySet<string>
}

function readCsv(file: string): string[][] {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw new RiskError('RISK_ERR_CONFIG_INVALID', `cannot read AMLSim file ${file}; check the data folder path`, { file }, { cause: error })
  }
  return text.split('\n').slice(1).filter((line) => line.length > 0).map((line) => line.trim().split(','))
}

/** Reads `nodes.csv` (nodeid, isFraud, ...) and `transactions.csv` (source, target, value, time step). */
export function readAmlSim(folder: string): AmlSimRun {
  const accounts: string[] = []
  const fraudAccounts = new Set<string>()
  for (const [nodeId, isFraud] of readCsv(path.join(folder, 'nodes.csv'))) {
    accounts.push(nodeId as string)
    if (isFraud === '1') fraudAccounts.add(nodeId as string)
  }
  const transfers = readCsv(path.join(folder, 'transactions.csv')).map(([source, target, value, step], row): TransferEvent => ({
    transferId: `tx${row}`,
    fromPlayerId: source as string,
    toPlayerId: target as string,
    // Values carry two decimals: minor units are exact integers.
    amountMinor: Math.round(Number(value) * 100),
    eventTimeMs: Number(step) * AMLSIM_STEP_MS,
  }))
  return { transfers, accounts, fraudAccounts }
}

export function loadAmlSim(graph: LinkGraph, run: AmlSimRun): void {
  for (const transfer of run.transfers) graph.addTransfer(transfer)
}

export interface TypologyScore {
  readonly typology: TypologyId
  readonly alerts: number
  readonly flaggedAccounts: number
  readonly truePositives: number
  readonly precision: number
  readonly recall: number
}

/** Account-level precision and recall: an account is predicted when it is in any alert of the typology. */
export function scoreTypology(alerts: readonly ClusterAlert[], typology: TypologyId, fraudAccounts: ReadonlySet<string>): TypologyScore {
  const flagged = new Set<string>()
  let count = 0
  for (const alert of alerts) {
    if (alert.typology !== typology) continue
    count++
    for (const playerId of alert.playerIds) flagged.add(playerId)
  }
  let truePositives = 0
  for (const account of flagged) if (fraudAccounts.has(account)) truePositives++
  return {
    typology, alerts: count, flaggedAccounts: flagged.size, truePositives,
    precision: flagged.size === 0 ? 0 : truePositives / flagged.size,
    recall: fraudAccounts.size === 0 ? 0 : truePositives / fraudAccounts.size,
  }
}

// The 149-step runs are longer than the default 90-day transfer TTL: keep every transfer.
const keepEverything = { transferTtlMs: 10 * 365 * AMLSIM_STEP_MS }
// Every alert counts towards recall.
const noAlertCap = { maxAlertsPerTypology: 100_000 }
// The identity and table typologies have no input here.
const MONEY_FLOWS: readonly TypologyId[] = ['fan_in', 'fan_out', 'cycle', 'scatter_gather']

/**
 * Parameter sets the evaluation reports, each with only the money-flow typologies on. `defaults`
 * are the product defaults; the tuned sets fit what AMLSim plants (docs/graph.md: its cycle
 * hops repeat one amount but are not in time order; its fan-in sources send bursts of small
 * amounts spread over the whole run).
 */
export const AMLSIM_EVALUATION_PARAMS = {
  defaults: { ...keepEverything, ...noAlertCap, enabledTypologies: MONEY_FLOWS },
  cycleTuned: { ...keepEverything, ...noAlertCap, enabledTypologies: ['cycle'], cycle: { timeOrdered: false, amountToleranceRatio: 0.02, maxLength: 8 } },
  fanInTuned: { ...keepEverything, ...noAlertCap, enabledTypologies: ['fan_in'], fan: { minCounterparties: 2, windowMs: 150 * AMLSIM_STEP_MS, maxTransferAmountMinor: 10_00 } },
} as const satisfies Record<string, GraphParamsInput>
