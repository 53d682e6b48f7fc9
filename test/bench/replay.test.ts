import { loadScreenFunction } from '../../screening/screen-function.js'
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../core/config.js'
import { TYPOLOGY_DETECTORS, formatReport, replayEvents } from '../../bench/replay.js'
import { loadSanctionedName } from '../../bench/simulator/sanctions.js'
import { simulate } from '../../bench/simulator/simulate.js'
import { TYPOLOGIES } from '../../bench/simulator/world.js'

const run = promisify(execFile)
const repositoryRoot = path.resolve(import.meta.dirname, '..', '..')
const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'pitboss-replay-'))
afterAll(() => fs.rmSync(directory, { recursive: true, force: true }))

describe('replay of a simulated day', () => {
  it('catches every planted typology a current detector covers, and none of the ones it cannot', async () => {
    const sanctionedName = loadSanctionedName(loadConfig().referenceDataDir, 7)
    const { events, labels } = simulate({ seed: 7, players: 200, days: 1, sanctionedName })
    const screening = await loadScreenFunction(loadConfig().screening.listsDir)
    const { report, decisions } = await replayEvents(events, { labels, partitions: 4, screen: screening?.screen ?? null })
    expect(report.deadLetters).toBe(0)
    expect(decisions.length).toBe(events.filter((event) => event.topic === 'withdrawals' && event.value.type === 'REQUESTED').length)
    const scores = new Map(report.byTypology?.map((score) => [score.typology, score]))
    for (const typology of Object.values(TYPOLOGIES)) {
      const score = scores.get(typology)
      expect(score?.instances, typology).toBeGreaterThan(0)
      // Covered today: at least one instance caught; a typology no detector covers: none.
      if (TYPOLOGY_DETECTORS[typology].length > 0) expect(score?.instancesCaught, typology).toBeGreaterThan(0)
      else expect(score?.instancesCaught, typology).toBe(0)
    }
    // Chip dumping: the dumper's transfers are a pass-through; the receiver needs the link graph.
    const chipDumping = scores.get(TYPOLOGIES.chipDumping)
    expect(chipDumping?.playersCaught).toBeGreaterThan(0)
    expect(chipDumping?.playersCaught).toBeLessThanOrEqual(chipDumping?.instances ?? 0)
    expect(formatReport(report)).toMatch(/structuring +\d+ +\d+ +\d+ +\d+ +1\.00/)
  })

  it('runs end to end from the command line: simulator file, then replay of it', async () => {
    const eventsPath = path.join(directory, 'events.jsonl')
    const labelsPath = path.join(directory, 'labels.jsonl')
    const tsx = path.join(repositoryRoot, 'node_modules', '.bin', 'tsx')
    const generated = await run(tsx, ['bench/simulator/cli.ts', '--seed', '3', '--players', '60', '--days', '1', '--out', eventsPath, '--labels', labelsPath], { cwd: repositoryRoot })
    expect(generated.stdout).toMatch(/\d+ labels -> /)
    const replayed = await run(tsx, ['bench/replay.ts', '--events', eventsPath, '--labels', labelsPath], { cwd: repositoryRoot })
    expect(replayed.stdout).toMatch(/events replayed/)
    expect(replayed.stdout).toMatch(/loss_chasing +1 +1 +1 +1 +1\.00 /)
    expect(replayed.stderr).toMatch(/replaying \[#+\] 100%/)
  })
})
