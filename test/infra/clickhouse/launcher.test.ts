import { chmod, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isRiskError } from '../../../core/errors.js'
import { clickHouseStatus, startClickHouse, stopClickHouse } from '../../../infra/clickhouse/launcher.js'
import type { ClickHouseInfo } from '../../../infra/clickhouse/launcher.js'
import { createClickHouse } from '../../../sinks/clickhouse/client.js'
import { sql } from '../../../sinks/clickhouse/sql.js'

let homeDir = ''

beforeAll(async () => {
  homeDir = await mkdtemp(path.join(os.tmpdir(), 'pitboss-clickhouse-launcher-'))
})
afterAll(async () => {
  if (homeDir !== '') {
    await stopClickHouse(homeDir)
    await rm(homeDir, { recursive: true, force: true })
  }
})

async function withClient<T>(info: ClickHouseInfo, work: (clickhouse: ReturnType<typeof createClickHouse>) => Promise<T>): Promise<T> {
  const clickhouse = createClickHouse({ url: info.url, database: 'default', username: 'default', password: '' })
  try {
    return await work(clickhouse)
  } finally {
    await clickhouse.close()
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe('startClickHouse', () => {
  it('starts on loopback with its own config under homeDir, and reuses a running server', async () => {
    const first = await startClickHouse({ homeDir })
    expect(first.url).toBe(`http://127.0.0.1:${first.httpPort}`)
    expect(first.tcpPort).not.toBe(first.httpPort)
    expect(isAlive(first.pid)).toBe(true)

    const again = await startClickHouse({ homeDir })
    expect(again).toEqual(first)
    expect(await clickHouseStatus(homeDir)).toEqual({ running: true, info: first })
    expect(JSON.parse(await readFile(path.join(homeDir, 'run', 'clickhouse.json'), 'utf8'))).toEqual(first)

    const config = await readFile(path.join(homeDir, 'clickhouse', 'config.xml'), 'utf8')
    expect(config.match(/<listen_host>[^<]*<\/listen_host>/g)).toEqual(['<listen_host>127.0.0.1</listen_host>'])
    expect(config).toContain(`<path>${path.join(homeDir, 'clickhouse', 'data')}/</path>`)
    expect(config).not.toContain('/etc/clickhouse-server')
    const users = await readFile(path.join(homeDir, 'clickhouse', 'users.xml'), 'utf8')
    expect(users.match(/<ip>[^<]*<\/ip>/g)).toEqual(['<ip>127.0.0.1</ip>', '<ip>::1</ip>'])
    expect((await readdir(path.join(homeDir, 'logs'))).filter((name) => /^clickhouse.*\.log$/.test(name))).toContain('clickhouse.log')

    const version = await withClient(first, (clickhouse) => clickhouse.query<{ version: string }>(sql`SELECT version() AS version`))
    expect(version[0]?.version).toMatch(/^\d+\.\d+/)
  })

  it('serialises concurrent starts of one homeDir into one server', async () => {
    await stopClickHouse(homeDir)
    const infos = await Promise.all([startClickHouse({ homeDir }), startClickHouse({ homeDir }), startClickHouse({ homeDir })])
    expect(new Set(infos.map((info) => info.pid)).size).toBe(1)
    expect((await clickHouseStatus(homeDir)).info).toEqual(infos[0])
  })

  it('keeps data across stop and start; stop is idempotent', async () => {
    const before = await startClickHouse({ homeDir })
    await withClient(before, async (clickhouse) => {
      await clickhouse.command(sql`CREATE TABLE IF NOT EXISTS survivors (name String) ENGINE = MergeTree ORDER BY name`)
      await clickhouse.insert('survivors', [{ name: 'kept' }])
    })

    const stopStartedMs = performance.now()
    await stopClickHouse(homeDir)
    const stopMs = performance.now() - stopStartedMs
    // The exited process may stay a zombie until this process's event loop reaps it.
    for (let waitedMs = 0; isAlive(before.pid) && waitedMs < 5000; waitedMs += 50) await new Promise((resolve) => setTimeout(resolve, 50))
    expect(isAlive(before.pid)).toBe(false)
    expect(await clickHouseStatus(homeDir)).toEqual({ running: false, info: null })
    await stopClickHouse(homeDir)

    const startStartedMs = performance.now()
    const after = await startClickHouse({ homeDir })
    const startMs = performance.now() - startStartedMs
    expect(after.pid).not.toBe(before.pid)
    const rows = await withClient(after, (clickhouse) => clickhouse.query(sql`SELECT name FROM survivors`))
    expect(rows).toEqual([{ name: 'kept' }])
    // Measured here: start ~0.1 s, stop ~1 s (18.16).
    expect(startMs).toBeLessThan(10_000)
    expect(stopMs).toBeLessThan(12_000)
  })

  it('replaces a stale run file whose process is gone', async () => {
    await stopClickHouse(homeDir)
    await writeFile(path.join(homeDir, 'run', 'clickhouse.json'), JSON.stringify({ url: 'http://127.0.0.1:1', httpPort: 1, tcpPort: 2, pid: 2 ** 22 + 1 }))
    expect((await clickHouseStatus(homeDir)).running).toBe(false)
    const info = await startClickHouse({ homeDir })
    expect(info.httpPort).not.toBe(1)
    expect((await clickHouseStatus(homeDir)).running).toBe(true)
  })

  it('points at the logs when the server exits or never answers', async () => {
    const otherHome = await mkdtemp(path.join(os.tmpdir(), 'pitboss-clickhouse-broken-'))
    try {
      const exits = path.join(otherHome, 'exits')
      await writeFile(exits, '#!/bin/sh\necho "DB::Exception: broken on purpose" >&2\nexit 70\n')
      const hangs = path.join(otherHome, 'hangs')
      await writeFile(hangs, '#!/bin/sh\nexec sleep 30\n')
      await chmod(exits, 0o755)
      await chmod(hangs, 0o755)
      for (const [binaryPath, expected] of [[exits, /exited with code 70: DB::Exception: broken on purpose/], [hangs, /no answer on \/ping within 300 ms/]] as const) {
        try {
          await startClickHouse({ homeDir: otherHome, binaryPath, startTimeoutMs: 300 })
          expect.fail('expected RISK_ERR_SUBSTRATE')
        } catch (error) {
          expect(isRiskError(error, 'RISK_ERR_SUBSTRATE')).toBe(true)
          expect((error as Error).message).toMatch(expected)
          expect((error as Error).message).toContain(path.join(otherHome, 'logs', 'clickhouse.err.log'))
        }
      }
      expect(await clickHouseStatus(otherHome)).toEqual({ running: false, info: null })
    } finally {
      await rm(otherHome, { recursive: true, force: true })
    }
  })

  it('explains how to install ClickHouse when the binary is missing', async () => {
    const otherHome = await mkdtemp(path.join(os.tmpdir(), 'pitboss-clickhouse-missing-'))
    try {
      await startClickHouse({ homeDir: otherHome, binaryPath: path.join(otherHome, 'no-such-clickhouse-server') })
      expect.fail('expected RISK_ERR_SUBSTRATE')
    } catch (error) {
      expect(isRiskError(error, 'RISK_ERR_SUBSTRATE')).toBe(true)
      expect((error as Error).message).toContain('apt-get install -y clickhouse-server clickhouse-client')
    } finally {
      await rm(otherHome, { recursive: true, force: true })
    }
  })
})
