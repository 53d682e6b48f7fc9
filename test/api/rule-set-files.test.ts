/** The file-backed rule-set store: racing proposals of one version, and never a half-written file. */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { ManualClock } from '../../core/clock.js'
import { DetectorRegistry } from '../../detectors/index.js'
import { openRuleSetFiles } from '../../api/rule-set-files.js'

const temporary: string[] = []
afterEach(() => { for (const directory of temporary.splice(0)) fs.rmSync(directory, { recursive: true, force: true }) })

function store(): { directory: string; files: ReturnType<typeof openRuleSetFiles> } {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'pitboss-rule-set-files-'))
  temporary.push(directory)
  return { directory, files: openRuleSetFiles({ versionsDir: path.join(directory, 'versions'), activePath: path.join(directory, 'active', 'rules.json'), registry: new DetectorRegistry(), clock: new ManualClock(1_000) }) }
}

const rules = (version: string, maxCount: number): Record<string, unknown> => ({
  version,
  detectors: { withdrawal_velocity: { enabled: true, severity: 'medium', action: 'hold_for_review', params: { maxCount, windowMs: 86_400_000 } } },
})

describe('openRuleSetFiles', () => {
  it('lets exactly one of two racing proposals with different content win; the other is a 409 conflict', async () => {
    const { directory, files } = store()
    const results = await Promise.allSettled([files.propose(rules('v-1', 3), 'a'), files.propose(rules('v-1', 4), 'b')])
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1)
    const rejected = results.find((result) => result.status === 'rejected') as PromiseRejectedResult
    expect(rejected.reason).toMatchObject({ code: 'RISK_ERR_RULE_SET_CONFLICT' })
    expect(fs.readdirSync(path.join(directory, 'versions'))).toEqual(['v-1.json'])
  })

  it('activates into a folder that does not exist yet and lists the active version as stored', async () => {
    const { directory, files } = store()
    await files.propose(rules('v-1', 3), 'a')
    expect(await files.activate('v-1', 'carol')).toMatchObject({ changed: true, before: null, after: { version: 'v-1', stored: true } })
    expect(JSON.parse(fs.readFileSync(path.join(directory, 'active', 'rules.json'), 'utf8'))).toMatchObject({ version: 'v-1', author: 'a', createdAtMs: 1_000 })
    expect((await files.list()).active).toMatchObject({ version: 'v-1', stored: true })
    await expect(files.read('../active/rules')).rejects.toMatchObject({ code: 'RISK_ERR_NOT_FOUND' })
  })
})
