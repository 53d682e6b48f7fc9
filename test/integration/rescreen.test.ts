/**
 * Rescreening after a list update, end to end on the real substrate (issue 7): an engine with a
 * lists folder (a copy of the shared sanctions lists plus a small internal watchlist) and the
 * ClickHouse sink run as processes; three players register; the watchlist is rewritten with
 * bob's name -> the engine reloads the lists -> `screening/rescreen.ts --wait` (the real command)
 * produces one RESCREEN per player -> sanctions alerts for bob only, with the rescreen's eventId
 * as evidence; a re-run produces the same eventIds. Then an officer's FALSE_MATCH for that
 * entry (through api/screening-publisher.ts) -> bob's next withdrawal has no sanctions hit.
 */
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { player, withdrawal } from '../../bench/events.js'
import { createKafkaScreeningPublisher } from '../../api/screening-publisher.js'
import { sleep } from '../../core/clock.js'
import { loadConfig } from '../../core/config.js'
import { silentLogger } from '../../core/logger.js'
import type { Decision } from '../../schemas/generated/types.js'
import { createClickHouse, type ClickHouse } from '../../sinks/clickhouse/client.js'
import { knownPlayers, rescreenAlerts } from '../../screening/rescreen.js'
import { sql } from '../../sinks/clickhouse/sql.js'
import { EngineProcess, REPO_ROOT, TopicReader, encoded, isolated, produce, type Isolated } from './support.js'

const HOUR = 60 * 60 * 1000
const WATCHLIST_HEADER = 'entry_id,type,full_name,aliases,weak_aliases,dates_of_birth,countries,programs'

/** Writes the whole file at once (temp file + rename), as a list deployment should. */
function writeWatchlist(file: string, rows: readonly string[]): void {
  fs.writeFileSync(`${file}.tmp`, `${[WATCHLIST_HEADER, ...rows].join('\n')}\n`)
  fs.renameSync(`${file}.tmp`, file)
}

async function waitForLog(engine: EngineProcess, message: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!engine.log().split('\n').some((line) => line.startsWith('{') && String((JSON.parse(line) as { msg?: unknown }).msg).startsWith(message))) {
    if (Date.now() > deadline) throw new Error(`engine did not log '${message}' within ${timeoutMs} ms; log:\n${engine.log().slice(-4000)}`)
    await sleep(100)
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

/** Runs the command as an operator would; resolves with its exit code and output. */
function runCommand(test: Isolated, args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'screening/rescreen.ts', ...args], { cwd: REPO_ROOT, env: { ...process.env, ...test.env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
    child.once('error', reject)
    child.once('exit', (code) => resolve({ code, stdout, stderr }))
  })
}

describe('rescreen after a list update, and a remembered false-match verdict', () => {
  let listsDir: string
  let watchlist: string
  let test: Isolated
  let clickhouse: ClickHouse

  beforeAll(async () => {
    listsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pitboss-rescreen-lists-'))
    fs.cpSync(path.join(loadConfig().referenceDataDir, 'sanctions'), listsDir, { recursive: true })
    fs.mkdirSync(path.join(listsDir, 'watchlists'))
    watchlist = path.join(listsDir, 'watchlists', 'internal.csv')
    writeWatchlist(watchlist, ['int-1,individual,"Lorenzo Example Farrugia",,,1950-01-01,IT,internal:fraud-ring'])
    test = await isolated('rescreen', { PITBOSS_SCREENING_LISTS_DIR: listsDir, PITBOSS_SCREENING_RELOAD_INTERVAL_MS: '200' })
    clickhouse = createClickHouse(test.config.clickhouse)
  })

  afterAll(async () => {
    await clickhouse?.close()
    fs.rmSync(listsDir, { recursive: true, force: true })
    if (test !== undefined) fs.rmSync(test.workDir, { recursive: true, force: true })
  })

  it('alerts only the player the new list names, idempotently, and forgets the match once an officer dismisses it', async () => {
    const engine = new EngineProcess(test).start()
    const sink = new EngineProcess(test, 'sink', 'sinks/main.ts').start()
    const decisions = await new TopicReader<Decision>(test, 'decisions').start()
    const publisher = createKafkaScreeningPublisher(test.config, test.codec, silentLogger)
    try {
      // event times a few hours back: the engine refuses events ahead of their Kafka timestamp
      const base = Date.now() - 10 * HOUR
      const people = [
        { playerId: 'alice', firstName: 'Maria', lastName: 'Vella', dateOfBirth: '1984-03-02' },
        { playerId: 'bob', firstName: 'Joseph', lastName: 'Camilleri', dateOfBirth: '1979-11-23' },
        { playerId: 'carol', firstName: 'Anna', lastName: 'Grech', dateOfBirth: '1990-07-14' },
      ]
      await produce(test, people.map((person) => encoded(test, 'players', player({ ...person, eventTimeMs: base, country: 'MT', jurisdiction: 'MT' }))))
      await produce(test, [encoded(test, 'withdrawals', withdrawal({ playerId: 'alice', withdrawalId: 'a1', eventTimeMs: base + HOUR }))])
      await waitForLog(engine, 'engine consuming')
      // the sink has the players (and alice's later event time) in ClickHouse
      const deadline = Date.now() + 90_000
      while ((await knownPlayers(clickhouse, test.config.kafka).catch(() => [])).length < 3 || (await knownPlayers(clickhouse, test.config.kafka))[0]?.latestEventTimeMs !== base + HOUR) {
        if (Date.now() > deadline) throw new Error(`the sink did not write the players; sink log:\n${sink.log().slice(-3000)}`)
        await sleep(250)
      }
      expect(await knownPlayers(clickhouse, test.config.kafka)).toEqual([
        { playerId: 'alice', latestEventTimeMs: base + HOUR }, { playerId: 'bob', latestEventTimeMs: base }, { playerId: 'carol', latestEventTimeMs: base },
      ])

      // the list update: bob's name and date of birth on the internal watchlist
      writeWatchlist(watchlist, ['int-1,individual,"Lorenzo Example Farrugia",,,1950-01-01,IT,internal:fraud-ring', 'int-9,individual,"Joseph CAMILLERI",,,1979-11-23,MT,internal:mule-network'])
      await waitForLog(engine, 'sanctions lists reloaded')

      const dry = await runCommand(test, ['--dry-run'])
      expect(dry.code, dry.stderr).toBe(0)
      expect(dry.stdout).toMatch(/^players 3, produced 0 \(dry run: nothing produced\)/)

      const run = await runCommand(test, ['--wait', '--wait-timeout-ms', '90000', '--batch-size', '2'])
      expect(run.code, run.stderr).toBe(0)
      expect(run.stderr).toContain('rescreening [')
      expect(run.stdout).toMatch(/^players 3, produced 3 \(batches of 2\)/)
      expect(run.stdout).toMatch(/lists fingerprint [0-9a-f]{16}: .*watchlist-internal /)
      expect(run.stdout).toContain('sanctions alerts from this rescreen: 2 (sanctions_potential_match 1, sanctions_confirmed_match 1)')
      const fingerprint = /lists fingerprint ([0-9a-f]{16})/.exec(run.stdout)?.[1] as string
      const alerts = await rescreenAlerts(clickhouse, fingerprint)
      expect(alerts.map((alert) => [alert.playerId, alert.detectorId, alert.alertId])).toEqual([
        ['bob', 'sanctions_confirmed_match', `sanctions_confirmed_match@2:rescreen:${fingerprint}:bob`],
        ['bob', 'sanctions_potential_match', `sanctions_potential_match@2:rescreen:${fingerprint}:bob`],
      ])

      // a re-run for the same lists: the same eventIds, so the same two alerts and no more
      const again = await runCommand(test, ['--wait', '--wait-timeout-ms', '90000'])
      expect(again.code, again.stderr).toBe(0)
      expect(again.stdout).toContain(`lists fingerprint ${fingerprint}`)
      expect((await rescreenAlerts(clickhouse, fingerprint)).map((alert) => alert.alertId).sort()).toEqual(alerts.map((alert) => alert.alertId).sort())

      // the officer: int-9 is not bob; his next withdrawal has no sanctions hit
      await publisher.publish({ eventId: 'screening-verdict:bob:request:r1', playerId: 'bob', eventTimeMs: base + 2 * HOUR, type: 'FALSE_MATCH', listVersion: null, listId: 'watchlist-internal', entryId: 'int-9', officerId: 'officer-anna', caseId: null, note: 'different person' })
      // Screening instructions are a side input of the merge (they never hold the casino feeds
      // back), so the verdict is given a moment to be read before the withdrawal that follows it.
      await sleep(2000)
      await produce(test, [encoded(test, 'withdrawals', withdrawal({ playerId: 'bob', withdrawalId: 'b1', eventTimeMs: base + 3 * HOUR }))])
      await decisions.waitFor((values) => values.some((decision) => decision.withdrawalId === 'b1'), 90_000)
      const decided = decisions.values.find((decision) => decision.withdrawalId === 'b1')
      const sanctions = decided?.executions.filter((execution) => execution.detectorId.startsWith('sanctions_')) ?? []
      expect(sanctions.map((execution) => `${execution.detectorId} ${execution.status}`).sort()).toEqual(['sanctions_confirmed_match NO_HIT', 'sanctions_potential_match NO_HIT'])
      for (const execution of sanctions) expect(execution.detail).toContain('1 dismissed entry skipped')
      // alice, screened before and after the update, was never a hit
      expect(decisions.values.find((decision) => decision.withdrawalId === 'a1')?.executions.find((execution) => execution.detectorId === 'sanctions_potential_match')?.status).toBe('NO_HIT')

      // Without an operator: the API process watches the lists folder and rescreens every known
      // player after the engines have loaded a new version (screening/auto-rescreen.ts).
      const api = new EngineProcess({ ...test, env: { ...test.env, PITBOSS_API_PORT: String(await freePort()), PITBOSS_API_CONSOLE: 'off' } }, 'api', 'api/main.ts').start()
      try {
        await waitForLog(api, 'api listening')
        writeWatchlist(watchlist, ['int-1,individual,"Lorenzo Example Farrugia",,,1950-01-01,IT,internal:fraud-ring', 'int-9,individual,"Joseph CAMILLERI",,,1979-11-23,MT,internal:mule-network', 'int-12,individual,"Anna GRECH",,,1990-07-14,MT,internal:mule-network'])
        await waitForLog(api, 'rescreen after the list update sent', 60_000)
        const deadlineCarol = Date.now() + 90_000
        for (;;) {
          const found = await clickhouse.query<{ alert_id: string }>(sql`SELECT alert_id FROM alerts FINAL WHERE player_id = 'carol' AND detector_id = 'sanctions_confirmed_match'`).catch(() => [])
          if (found.length > 0) {
            expect(found[0]?.alert_id).toMatch(/^sanctions_confirmed_match@2:rescreen:[0-9a-f]{16}:carol$/)
            break
          }
          if (Date.now() > deadlineCarol) throw new Error(`no automatic rescreen alert for carol; api log:\n${api.log().slice(-3000)}`)
          await sleep(250)
        }
      } finally {
        expect(await api.stop('SIGTERM')).toBe(0)
      }
    } finally {
      await publisher.close()
      await decisions.stop()
      expect(await engine.stop('SIGTERM')).toBe(0)
      await sink.stop('SIGTERM')
    }
  })
})
