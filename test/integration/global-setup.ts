import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { TestProject } from 'vitest/node'
import { startSubstrate, stopSubstrate, type SubstrateInfo } from '../../infra/substrate.js'

declare module 'vitest' {
  export interface ProvidedContext {
    substrate: SubstrateInfo
  }
}

/**
 * Starts a local substrate (broker, registry, ClickHouse) in a folder of its own for this run,
 * so two runs on one machine never share or stop each other's services; stops and removes it
 * afterwards (the folder stays when PITBOSS_KEEP_TEST_SUBSTRATE=1, for reading its logs).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const homeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pitboss-it-'))
  const info = await startSubstrate({ homeDir, brokerCount: 1 })
  project.provide('substrate', info)
  return async () => {
    await stopSubstrate(homeDir)
    if (process.env.PITBOSS_KEEP_TEST_SUBSTRATE !== '1') fs.rmSync(homeDir, { recursive: true, force: true })
  }
}
