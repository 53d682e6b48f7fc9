/** GET /screening/status on a real lists folder (the watchlist fixture), and when the folder is wrong or screening is off. */
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bearer, buildTestApp, tokenFor, type TestApp } from '../helpers.js'

const officer = bearer(tokenFor(['compliance_officer'], 'olga'))

describe('GET /screening/status', () => {
  let test: TestApp
  beforeAll(async () => { test = await buildTestApp() })
  afterAll(async () => test.close())

  it('lists each list with its version and entry count, and re-reads when a file changes', async () => {
    const response = await test.app.inject({ method: 'GET', url: '/screening/status', headers: officer })
    expect(response.statusCode).toBe(200)
    expect(response.json()).toMatchObject({ enabled: true, lists: [{ listId: 'watchlist-pep', version: expect.any(String), contentHash: expect.stringMatching(/^sha256:/), entryCount: 3 }] })
    const file = path.join(test.directory, 'lists', 'watchlists', 'pep.csv')
    fs.appendFileSync(file, 'pep-9,individual,"Extra Person",,,,MT,PEP:mayor\n')
    const after = (await test.app.inject({ method: 'GET', url: '/screening/status', headers: officer })).json()
    expect(after.lists[0].entryCount).toBe(4)
    expect((await test.app.inject({ method: 'GET', url: '/screening/status', headers: bearer(tokenFor(['aml_officer'])) })).statusCode).toBe(403)
  })

  it('reports a missing folder as a problem, and screening off as disabled', async () => {
    const missing = await buildTestApp({ screening: { listsDir: path.join(test.directory, 'nowhere') } })
    const off = await buildTestApp({ screening: { listsDir: null } })
    try {
      expect((await missing.app.inject({ method: 'GET', url: '/screening/status', headers: officer })).json()).toMatchObject({ enabled: true, lists: [], problem: expect.stringMatching(/cannot read/) })
      expect((await off.app.inject({ method: 'GET', url: '/screening/status', headers: officer })).json()).toEqual({ enabled: false, listsDir: null, checkedAtMs: null, lists: [] })
    } finally {
      await missing.close()
      await off.close()
    }
  })
})
