/**
 * The AML console end to end in a real browser (issue 8, item 4): playwright-core drives
 * Debian's chromium against the API listening on a random loopback port, with a real
 * CaseService (RocksDB in a temp folder) holding a case made from alerts, a real ClickHouse read
 * model (own server, seeded by test/api/operations-data.ts) and HS256 tokens. An officer logs
 * in, opens the case, sees the cluster drawn by sigma, claims, ticks the checklist and closes;
 * the MLRO reads a rule-set diff and drafts an STR. Screenshots of each page are written to
 * .pitboss/artifacts/console/ and their paths printed. No broker: a unit-project test.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createClickHouseReadModel } from '../../../api/read-model.js'
import type { CaseService } from '../../../cases/case-service.js'
import type { AlertInput } from '../../../cases/types.js'
import { ManualClock } from '../../../core/clock.js'
import { useLocalClickHouse } from '../../sinks/clickhouse/local-server.js'
import { buildGovernanceParts, buildOperationsParts, buildTestApp, SHIPPED_RULE_SET, START_MS, strTestSettings, tokenFor, type TestApp } from '../helpers.js'
import { PLAYER, seedOperations } from '../operations-data.js'

const CHROMIUM = '/usr/bin/chromium'
const ARTIFACTS = new URL('../../../.pitboss/artifacts/console/', import.meta.url).pathname

const server = useLocalClickHouse()
let test: TestApp
let cases: CaseService
let closeParts: () => Promise<void>
let directory: string
let browser: Browser | null = null
let baseUrl: string
const pageErrors: string[] = []

function alert(index: number): AlertInput {
  return {
    alertId: `deposit_structuring@1:e-${index}`, playerId: PLAYER, detectorId: 'deposit_structuring', detectorVersion: 1, severity: 'HIGH', action: 'REVIEW',
    eventTimeMs: Date.UTC(2025, 0, 15, 9, 0, index), value: 4, threshold: 3, windowStartMs: null, windowEndMs: null, evidenceEventIds: [], ruleSetVersion: 'rs-1',
    clusterId: 'cmp:p-7', decisionId: 'wd-7:1', amountMinor: 495_00, currency: 'EUR',
  }
}

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (bash infra/install-deps.sh does)`)
  const clickhouse = server.connect('api_console')
  await seedOperations(clickhouse, 'api_console')
  directory = fs.mkdtempSync(path.join(os.tmpdir(), 'pitboss-console-'))
  const parts = await buildGovernanceParts(directory, new ManualClock(START_MS))
  closeParts = parts.close
  cases = parts.governance.cases
  const readModel = createClickHouseReadModel(clickhouse)
  // Two stored rule-set versions, the second proposed on the first, for the history and its diff.
  const shipped = JSON.parse(fs.readFileSync(SHIPPED_RULE_SET, 'utf8')) as { version: string; decision: Record<string, unknown> }
  await parts.governance.ruleSets.propose(shipped, 'rob')
  await parts.governance.ruleSets.propose({ ...shipped, version: '2026-12-01.1', previousVersion: shipped.version, description: 'review earlier', decision: { ...shipped.decision, reviewAt: 0.45 } }, 'rob')
  test = await buildTestApp({
    operations: buildOperationsParts(cases, readModel),
    governance: { ...parts.governance, readModel, str: strTestSettings(directory, clickhouse) },
    console: { enabled: true },
  })
  await cases.ingestAlert(alert(1))
  await cases.ingestAlert(alert(2))
  const address = await test.app.listen({ port: 0, host: '127.0.0.1' })
  baseUrl = address
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] })
  fs.mkdirSync(ARTIFACTS, { recursive: true })
})

afterAll(async () => {
  await browser?.close()
  await test?.close()
  await closeParts?.()
  if (directory !== undefined) fs.rmSync(directory, { recursive: true, force: true })
})

async function screenshot(page: Page, name: string): Promise<void> {
  const file = path.join(ARTIFACTS, `${name}.png`)
  await page.screenshot({ path: file, fullPage: true })
  console.log(`console screenshot: ${file}`)
}

async function logIn(page: Page, token: string): Promise<void> {
  await page.goto(`${baseUrl}/console/#/login`)
  await page.fill('#token', token)
  await page.click('#login')
}

async function openPage(): Promise<Page> {
  if (browser === null) throw new Error('no browser')
  const page = await (await browser.newContext({ viewport: { width: 1360, height: 900 } })).newPage()
  page.on('pageerror', (error) => pageErrors.push(error.message))
  // A CSP violation is reported on the console: any one fails the test.
  page.on('console', (message) => { if (message.type() === 'error') pageErrors.push(message.text()) })
  return page
}

describe('the AML console in chromium', () => {
  it('logs an officer in, opens the case with its cluster graph, claims, ticks the checklist and closes it', async () => {
    const page = await openPage()
    await page.goto(`${baseUrl}/console/`)
    await page.waitForSelector('#token')
    await screenshot(page, '01-login')

    // A refused token comes back to the login page with the API's reason.
    await logIn(page, 'not-a-token')
    await page.waitForSelector('[data-testid="login-reason"]')
    expect(await page.textContent('[data-testid="login-reason"]')).toMatch(/refused the token/)
    pageErrors.length = 0 // the 401 of that attempt is logged by chromium as a failed resource

    await logIn(page, tokenFor(['aml_officer'], 'anna'))
    await page.waitForSelector('a.case-link')
    expect(await page.textContent('[data-testid="who"]')).toContain('anna')
    const caseId = await page.getAttribute('a.case-link', 'data-case-id')
    expect(caseId).toMatch(/^CASE-/)
    await screenshot(page, '02-queue')

    await page.click('a.case-link')
    await page.waitForSelector('#cluster-graph[data-graph-state="drawn"]')
    const graph = await page.evaluate(() => {
      const container = document.getElementById('cluster-graph') as HTMLElement
      const labels = container.querySelector('canvas.sigma-labels') as HTMLCanvasElement | null
      const context = labels?.getContext('2d')
      const pixels = labels === null || context === null || context === undefined ? [] : context.getImageData(0, 0, labels.width, labels.height).data
      let painted = 0
      for (let index = 3; index < pixels.length; index += 4) if ((pixels[index] ?? 0) > 0) painted += 1
      return { canvases: container.querySelectorAll('canvas').length, nodes: Number(container.dataset.nodeCount), edges: Number(container.dataset.edgeCount), painted }
    })
    // cmp:p-7 now: p-7 and p-9 (p-8 moved on), their shared device and p-9's IP block.
    expect(graph).toMatchObject({ nodes: 4, edges: 3 })
    expect(graph.canvases).toBeGreaterThan(0)
    expect(graph.painted).toBeGreaterThan(100)
    await page.waitForSelector('[data-decision-id="wd-7:1"]')
    expect(await page.textContent('#decisions')).toMatch(/deposit_withdraw_no_play@2\s*hit/)
    await page.waitForSelector('#player-timeline table')
    await screenshot(page, '03-case')

    await page.click('#action-claim')
    await page.waitForSelector('h1[data-case-status="IN_REVIEW"]')
    expect(await page.textContent('#case-assignee')).toBe('anna')
    const items = await page.locator('button.tick').count()
    expect(items).toBeGreaterThan(0)
    for (let ticked = 0; ticked < items; ticked += 1) {
      const version = Number(await page.getAttribute('h1[data-case-version]', 'data-case-version'))
      await page.locator('button.tick').first().click()
      await page.waitForSelector(`h1[data-case-version="${version + 1}"]`)
    }
    expect(await page.locator('#checklist li[data-ticked]').count()).toBe((await cases.get(caseId ?? '')).checklist.length)
    await page.selectOption('#close-resolution', 'DISMISSED')
    await page.fill('#close-reason', 'deposits explained by payslips')
    await page.click('#action-close')
    await page.waitForSelector('h1[data-case-status="CLOSED"]')
    expect(await page.textContent('#case-resolution')).toContain('DISMISSED by anna')
    expect(await cases.get(caseId ?? '')).toMatchObject({ status: 'CLOSED', resolution: 'DISMISSED', closedBy: 'anna', checklistOverrideReason: null })
    await screenshot(page, '04-case-closed')
    expect(pageErrors).toEqual([])
  })

  it("shows the MLRO the rule-set history with a diff and drafts an STR from the case", async () => {
    const page = await openPage()
    await logIn(page, tokenFor(['compliance_officer'], 'maria'))
    await page.waitForSelector('a.case-link')
    await page.goto(`${baseUrl}/console/#/rule-sets`)
    await page.click('a.diff-link')
    await page.waitForSelector('h2:has-text("Diff 2026-11-26.5")')
    expect(await page.textContent('main')).toContain('reviewAt')
    await screenshot(page, '05-rule-sets')

    const caseId = (await cases.list({ limit: 1 }))[0]?.caseId ?? ''
    await page.goto(`${baseUrl}/console/#/cases/${caseId}`)
    await page.click('#draft-str')
    await page.waitForSelector('h1[data-draft-id]')
    expect(await page.getAttribute('h1[data-draft-id]', 'data-draft-status')).toBe('draft')
    await screenshot(page, '06-str-draft')
    expect(pageErrors).toEqual([])
  })
})
