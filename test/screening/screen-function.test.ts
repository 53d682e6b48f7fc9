import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ScreenFunction } from '../../detectors/detector.js'
import { buildScreener } from '../../screening/index.js'
import { loadScreenFunction, toScreenFunction } from '../../screening/screen-function.js'
import { FIXTURES_DIRECTORY, loadSdn, loadUn } from './lists.js'

const SADDAM = { fullName: 'Saddam Hussein', dateOfBirth: '1937-04-28', country: 'IQ' } as const
const OSAMA = { fullName: 'Osama bin Laden', dateOfBirth: null, country: null } as const

describe('toScreenFunction on SDN + UN', () => {
  let screen: ScreenFunction
  beforeAll(async () => {
    screen = toScreenFunction(buildScreener(await Promise.all([loadSdn(), loadUn()])))
  }, 60_000)

  const table = [
    { name: 'no exclusion: the best match', query: SADDAM, exclude: undefined, best: 'ofac-sdn:7843', score: 1, excludedMatches: undefined },
    { name: 'an empty set excludes nothing', query: SADDAM, exclude: [], best: 'ofac-sdn:7843', score: 1, excludedMatches: undefined },
    { name: 'the best excluded: the next one', query: SADDAM, exclude: ['ofac-sdn:7843'], best: 'un-consolidated:6908048', score: 0.968, excludedMatches: 1 },
    { name: 'an entry that did not match changes nothing', query: SADDAM, exclude: ['ofac-sdn:1'], best: 'ofac-sdn:7843', score: 1, excludedMatches: 0 },
    { name: 'every match excluded: none, score unknown (0)', query: SADDAM, exclude: ['ofac-sdn:7843', 'un-consolidated:6908048'], best: null, score: 0, excludedMatches: 2 },
    { name: 'the only match excluded', query: OSAMA, exclude: ['ofac-sdn:6365'], best: null, score: 0, excludedMatches: 1 },
    { name: 'the key is list and entry: the same entry id on another list is not excluded', query: OSAMA, exclude: ['un-consolidated:6365'], best: 'ofac-sdn:6365', score: 1, excludedMatches: 0 },
  ] as const
  for (const row of table) {
    it(row.name, () => {
      const result = screen(row.exclude === undefined ? row.query : { ...row.query, exclude: new Set(row.exclude) })
      expect(result.best === null ? null : `${result.best.listId}:${result.best.entryId}`).toBe(row.best)
      expect(result.score).toBeCloseTo(row.score, 3)
      expect(result.excludedMatches).toBe(row.excludedMatches)
    })
  }

  it('a name under the threshold keeps its best score when nothing is excluded', () => {
    const result = screen({ fullName: 'Maria Borg', dateOfBirth: null, country: null, exclude: new Set(['ofac-sdn:7843']) })
    expect(result.best).toBeNull()
    expect(result.score).toBeGreaterThan(0)
    expect(result.score).toBeLessThan(0.84)
  })
})

describe('loadScreenFunction', () => {
  let directory: string
  beforeAll(() => {
    directory = fs.mkdtempSync(path.join(os.tmpdir(), 'pitboss-screen-function-'))
    fs.mkdirSync(path.join(directory, 'watchlists'))
    fs.copyFileSync(path.join(FIXTURES_DIRECTORY, 'watchlist-sample.csv'), path.join(directory, 'watchlists', 'pep.csv'))
  })
  afterAll(() => fs.rmSync(directory, { recursive: true, force: true }))

  it('is null when screening is off, and screens individuals of a folder otherwise', async () => {
    expect(await loadScreenFunction(null)).toBeNull()
    const loaded = await loadScreenFunction(directory)
    expect(Object.keys(loaded?.screener.listVersions ?? {})).toEqual(['watchlist-pep'])
    expect(loaded?.screen({ fullName: 'Jane Example', dateOfBirth: '1961-02-03', country: 'MT' }).best).toMatchObject({ listId: 'watchlist-pep', entryId: 'pep-1', dateOfBirth: 'exact' })
    // an entity on the list is never a player's match
    expect(loaded?.screen({ fullName: 'Lucky Seven Gaming', dateOfBirth: null, country: null }).best).toBeNull()
    expect(loaded?.screen({ fullName: 'Jane Example', dateOfBirth: null, country: null, exclude: new Set(['watchlist-pep:pep-1']) })).toEqual({ score: 0, best: null, excludedMatches: 1 })
  })
})
