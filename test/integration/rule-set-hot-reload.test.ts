/**
 * A new rule-set version activated while the engine runs (issue 3: "a new version is loaded
 * while running without restart; every signal and decision records the rule-set version it
 * used"). The engine process watches PITBOSS_RULE_SET, a temp copy of the shipped rule set (A);
 * the test writes B (MT limit lowered to 1 a day) to that file mid-stream, then a broken C.
 * Decisions before carry A, after carry B and follow B's limit, C is refused and B stays; none
 * is missing or decided twice.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { player, withdrawal } from '../../bench/events.js'
import { sleep } from '../../core/clock.js'
import { ruleSetContentHash, type RuleSetDocument } from '../../detectors/rule-set.js'
import type { Decision } from '../../schemas/generated/types.js'
import { DEFAULT_RULE_SET_PATH } from '../support/pipeline.js'
import { EngineProcess, TopicReader, encoded, isolated, produce, type Isolated } from './support.js'

const HOUR = 60 * 60 * 1000

/** Writes the whole file at once (temp file + rename), as docs/rule-sets.md asks of a deployment. */
function writeRuleSet(filePath: string, document: unknown): void {
  const temporary = `${filePath}.tmp`
  fs.writeFileSync(temporary, JSON.stringify(document, null, 2))
  fs.renameSync(temporary, filePath)
}

/** The engine's JSON log lines with this message. */
function logged(engine: EngineProcess, message: string): Array<Record<string, unknown>> {
  return engine.log().split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.msg === message)
}

async function waitForLog(engine: EngineProcess, message: string, timeoutMs = 30_000): Promise<Array<Record<string, unknown>>> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const lines = logged(engine, message)
    if (lines.length > 0) return lines
    if (Date.now() > deadline) throw new Error(`engine did not log '${message}' within ${timeoutMs} ms; log:\n${engine.log().slice(-4000)}`)
    await sleep(100)
  }
}

const velocityOf = (decision: Decision | undefined) => decision?.executions.find((execution) => execution.detectorId === 'withdrawal_velocity')

describe('rule-set hot reload in a running engine', () => {
  let folder: string
  let rulesPath: string
  let test: Isolated
  const shipped = JSON.parse(fs.readFileSync(DEFAULT_RULE_SET_PATH, 'utf8')) as RuleSetDocument
  const versionA = shipped.version
  const versionB = `${shipped.version}.hot-b`

  beforeAll(async () => {
    folder = fs.mkdtempSync(path.join(os.tmpdir(), 'pitboss-hot-reload-'))
    rulesPath = path.join(folder, 'rules.json')
    writeRuleSet(rulesPath, shipped)
    test = await isolated('hot-reload', { PITBOSS_RULE_SET: rulesPath })
  })

  afterAll(() => {
    fs.rmSync(folder, { recursive: true, force: true })
    if (test !== undefined) fs.rmSync(test.workDir, { recursive: true, force: true })
  })

  it('decides with A, then with B once B is written to the file, refuses a broken C, and drops nothing', async () => {
    const engine = new EngineProcess(test).start()
    const reader = await new TopicReader<Decision>(test, 'decisions').start()
    const byId = (): Map<string, Decision> => new Map(reader.values.map((decision) => [decision.withdrawalId, decision]))
    try {
      // alice and bob in Malta (A: 3 a day), carol in the UK (A: 2 a day)
      await produce(test, [
        ...['alice', 'bob'].map((playerId) => encoded(test, 'players', player({ playerId, eventTimeMs: 0, jurisdiction: 'MT', tier: 'VERIFIED' }))),
        encoded(test, 'players', player({ playerId: 'carol', eventTimeMs: 0, jurisdiction: 'UK', tier: 'VERIFIED' })),
        encoded(test, 'withdrawals', withdrawal({ playerId: 'alice', withdrawalId: 'a1', eventTimeMs: 1 * HOUR })),
        encoded(test, 'withdrawals', withdrawal({ playerId: 'alice', withdrawalId: 'a2', eventTimeMs: 2 * HOUR })),
        encoded(test, 'withdrawals', withdrawal({ playerId: 'bob', withdrawalId: 'b1', eventTimeMs: 1 * HOUR })),
        encoded(test, 'withdrawals', withdrawal({ playerId: 'carol', withdrawalId: 'c1', eventTimeMs: 1 * HOUR })),
      ])
      await reader.waitFor((values) => values.length >= 4, 90_000)
      const before = byId()
      for (const id of ['a1', 'a2', 'b1', 'c1']) {
        expect(before.get(id)?.ruleSetVersion).toBe(versionA)
        expect(velocityOf(before.get(id))?.status).toBe('NO_HIT')
      }
      expect(velocityOf(before.get('a2'))?.threshold).toBe(3)

      // B: Malta lowered to 1 a day; recorded with its author, predecessor and content hash
      const overrides = [...(shipped.overrides ?? []), { match: { jurisdiction: 'MT' }, detectors: { withdrawal_velocity: { params: { maxCount: 1 } } } }]
      const contentB = { detectors: shipped.detectors, overrides, decision: shipped.decision }
      writeRuleSet(rulesPath, { ...shipped, version: versionB, author: 'hot-reload-test', createdAtMs: 1_796_083_200_000, previousVersion: versionA, contentHash: ruleSetContentHash(contentB), ...contentB })
      const [activated] = await waitForLog(engine, 'rule set activated')
      expect(activated).toMatchObject({ from: versionA, to: versionB })

      await produce(test, [
        encoded(test, 'withdrawals', withdrawal({ playerId: 'alice', withdrawalId: 'a3', eventTimeMs: 3 * HOUR })),
        encoded(test, 'withdrawals', withdrawal({ playerId: 'bob', withdrawalId: 'b2', eventTimeMs: 2 * HOUR })),
        encoded(test, 'withdrawals', withdrawal({ playerId: 'carol', withdrawalId: 'c2', eventTimeMs: 2 * HOUR })),
      ])
      await reader.waitFor((values) => values.length >= 7, 60_000)
      const after = byId()
      for (const id of ['a3', 'b2', 'c2']) expect(after.get(id)?.ruleSetVersion).toBe(versionB)
      // a3 is alice's third of the day: within A's 3, over B's 1
      expect(velocityOf(after.get('a3'))).toMatchObject({ status: 'HIT', value: 3, threshold: 1 })
      expect(velocityOf(after.get('b2'))).toMatchObject({ status: 'HIT', value: 2, threshold: 1 })
      expect(after.get('a3')?.outcome).not.toBe('APPROVE')
      // B changed Malta only: the UK limit is still 2
      expect(velocityOf(after.get('c2'))).toMatchObject({ status: 'NO_HIT', value: 2, threshold: 2 })

      // C: invalid params; refused, B keeps deciding
      writeRuleSet(rulesPath, { ...shipped, version: `${shipped.version}.hot-c`, overrides: [{ match: { jurisdiction: 'MT' }, detectors: { withdrawal_velocity: { params: { maxCount: -1 } } } }] })
      const [refused] = await waitForLog(engine, 'new rule set refused; the active one stays')
      expect(refused).toMatchObject({ active: versionB })
      await produce(test, [encoded(test, 'withdrawals', withdrawal({ playerId: 'bob', withdrawalId: 'b3', eventTimeMs: 3 * HOUR }))])
      await reader.waitFor((values) => values.length >= 8, 60_000)
      expect(byId().get('b3')?.ruleSetVersion).toBe(versionB)

      // none missing, none decided twice
      expect(reader.values.map((decision) => decision.decisionId).sort()).toEqual(['a1:1', 'a2:1', 'a3:1', 'b1:1', 'b2:1', 'b3:1', 'c1:1', 'c2:1'])
      expect(logged(engine, 'rule set activated')).toHaveLength(1)
    } finally {
      await reader.stop()
      expect(await engine.stop('SIGTERM')).toBe(0)
    }
  })
})
