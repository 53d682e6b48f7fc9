/**
 * A real ClickHouse for one test file: started by the launcher in a fresh temp homeDir, stopped
 * and removed afterwards. Usage: `const server = useLocalClickHouse()` at file level, then
 * `server.connect('db_name')` inside tests.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll } from 'vitest'
import { startClickHouse, stopClickHouse } from '../../../infra/clickhouse/launcher.js'
import type { ClickHouseInfo } from '../../../infra/clickhouse/launcher.js'
import { createClickHouse } from '../../../sinks/clickhouse/client.js'
import type { ClickHouse } from '../../../sinks/clickhouse/client.js'

export interface LocalClickHouse {
  readonly info: () => ClickHouseInfo
  /** A client on `database` (default `default`), closed after the file's tests. */
  readonly connect: (database?: string) => ClickHouse
}

export function useLocalClickHouse(): LocalClickHouse {
  let homeDir = ''
  let info: ClickHouseInfo | undefined
  const clients: ClickHouse[] = []
  beforeAll(async () => {
    homeDir = await mkdtemp(path.join(os.tmpdir(), 'pitboss-clickhouse-'))
    info = await startClickHouse({ homeDir })
  })
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()))
    if (homeDir !== '') {
      await stopClickHouse(homeDir)
      await rm(homeDir, { recursive: true, force: true })
    }
  })
  return {
    info: () => {
      if (info === undefined) throw new Error('the local ClickHouse is not started yet')
      return info
    },
    connect: (database = 'default') => {
      if (info === undefined) throw new Error('the local ClickHouse is not started yet')
      const client = createClickHouse({ url: info.url, database, username: 'default', password: '' })
      clients.push(client)
      return client
    },
  }
}
