/**
 * Helpers for the case tests: alerts with explicit times, a case service on a real RocksDB in
 * its own temp folder (removed by `cleanup`), and officers.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { ManualClock } from '../../core/clock.js'
import { createCaseService, type CaseService } from '../../cases/case-service.js'
import type { CasePolicyOverrides } from '../../cases/policy.js'
import type { Actor, AlertInput } from '../../cases/types.js'

export const HOUR_MS = 60 * 60 * 1000
export const DAY_MS = 24 * HOUR_MS
/** 2024-05-14 12:43:21.250 UTC, an arbitrary fixed start. */
export const T0 = 1_715_690_601_250

export const anna: Actor = { id: 'anna', role: 'aml_officer' }
export const ben: Actor = { id: 'ben', role: 'aml_officer' }
export const mlro: Actor = { id: 'mona', role: 'compliance_officer' }

let alertSequence = 0

/** An alert of risk.alerts.v1 (plus the case inputs), `atMs` after T0. */
export function alert(fields: Partial<AlertInput> & { atMs?: number } = {}): AlertInput {
  alertSequence += 1
  const { atMs = 0, ...rest } = fields
  const detectorId = rest.detectorId ?? 'deposit_structuring'
  return {
    alertId: `${detectorId}@1:evt-${alertSequence}`,
    playerId: 'p-1',
    detectorId,
    detectorVersion: 1,
    severity: 'HIGH',
    action: 'hold_for_review',
    eventTimeMs: T0 + atMs,
    value: 4,
    threshold: 3,
    windowStartMs: null,
    windowEndMs: null,
    evidenceEventIds: [`evt-${alertSequence}`],
    ruleSetVersion: '2026-11-26.2',
    ...rest,
  }
}

export interface Harness {
  readonly service: CaseService
  readonly clock: ManualClock
  readonly directory: string
  /** Closes the service (if still open) and removes the folder. */
  cleanup(): Promise<void>
  /** Closes and opens the service again on the same folder (a restart). */
  reopen(): Promise<CaseService>
}

export async function openHarness(policy?: CasePolicyOverrides): Promise<Harness> {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'pitboss-cases-'))
  const clock = new ManualClock(T0 + 2 * DAY_MS)
  let service = await createCaseService({ directory: path.join(directory, 'store'), clock, policy })
  let open = true
  const harness: Harness = {
    get service() { return service },
    clock,
    directory,
    async cleanup() {
      if (open) await service.shutdown()
      open = false
      fs.rmSync(directory, { recursive: true, force: true })
    },
    async reopen() {
      await service.shutdown()
      service = await createCaseService({ directory: path.join(directory, 'store'), clock, policy })
      return service
    },
  }
  return harness
}

/** Ticks every checklist item of the case, returning the case afterwards. */
export async function tickAll(service: CaseService, caseId: string, actor: Actor): Promise<void> {
  for (const item of (await service.get(caseId)).checklist) {
    if (item.tickedBy === null) await service.tickChecklist({ caseId, expectedVersion: (await service.get(caseId)).version, actor, itemId: item.itemId })
  }
}
