import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { isRiskError } from '../../core/errors.js'
import { DETECTORS } from '../../detectors/index.js'
import { casePolicy, checklistItemsOf, incidentWindowOf, loadChecklists, priorityOf } from '../../cases/policy.js'

describe('case policy', () => {
  const policy = casePolicy()

  it.each([
    ['LOW', null, 'LOW'], ['LOW', 199_999, 'LOW'], ['LOW', 200_000, 'MEDIUM'], ['MEDIUM', 1_500_000, 'HIGH'],
    ['HIGH', 5_000_000, 'CRITICAL'], ['CRITICAL', 0, 'CRITICAL'], ['HIGH', 250_000, 'HIGH'],
  ] as const)('priority of a %s alert with amount %s is %s', (severity, amountMinor, priority) => {
    expect(priorityOf(policy, severity, amountMinor)).toBe(priority)
  })

  it('has the SLA defaults and per-detector windows', () => {
    expect(policy.slaMs).toEqual({ CRITICAL: 4 * 3_600_000, HIGH: 24 * 3_600_000, MEDIUM: 72 * 3_600_000, LOW: 7 * 24 * 3_600_000 })
    const custom = casePolicy({ incidentWindowMs: { byDetector: { withdrawal_velocity: 1000 } }, slaMs: { LOW: 60_000 } })
    expect(incidentWindowOf(custom, 'withdrawal_velocity')).toBe(1000)
    expect(incidentWindowOf(custom, 'deposit_structuring')).toBe(24 * 3_600_000)
    expect(custom.slaMs.LOW).toBe(60_000)
    expect(Object.isFrozen(custom.slaMs)).toBe(true)
  })

  it.each([
    [{ incidentWindowMs: { default: 0 } }], [{ slaMs: { HIGH: -1 } }], [{ amountBands: [{ minAmountMinor: 1.5, priority: 'HIGH' as const }] }], [{ mlroRoles: [] }],
  ])('refuses %j with RISK_ERR_CONFIG_INVALID', (overrides) => {
    const error = (() => { try { casePolicy(overrides) } catch (caught) { return caught } return null })()
    expect(isRiskError(error, 'RISK_ERR_CONFIG_INVALID')).toBe(true)
  })

  it('ships a checklist for every registered detector', () => {
    for (const detector of DETECTORS) expect(policy.checklists.byDetector[detector.id], detector.id).toBeDefined()
    expect(checklistItemsOf(policy, 'not_a_detector')).toBe(policy.checklists.defaultItems)
  })

  it('refuses a malformed checklist file, naming the problem', () => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'pitboss-checklists-'))
    try {
      const file = path.join(directory, 'checklists.json')
      fs.writeFileSync(file, JSON.stringify({ version: '1', default: [{ id: 'a', text: 'x' }], detectors: { d: [{ id: 'Bad Id', text: 'x' }] } }))
      expect(() => loadChecklists(file)).toThrow(/detectors\.d\[0\]\.id must be kebab-case/)
      fs.writeFileSync(file, JSON.stringify({ version: '1', default: [{ id: 'a', text: 'x' }, { id: 'a', text: 'y' }], detectors: {} }))
      expect(() => loadChecklists(file)).toThrow(/repeats item id 'a'/)
    } finally {
      fs.rmSync(directory, { recursive: true, force: true })
    }
  })
})
