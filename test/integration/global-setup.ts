import path from 'node:path'
import type { TestProject } from 'vitest/node'
import { startSubstrate, stopSubstrate, type SubstrateInfo } from '../../infra/substrate.js'

declare module 'vitest' {
  export interface ProvidedContext {
    substrate: SubstrateInfo
  }
}

/** Starts the local substrate in its own folder (.pitboss/test) and stops it after the run. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const homeDir = path.resolve('.pitboss/test')
  const info = await startSubstrate({ homeDir, brokerCount: 1 })
  project.provide('substrate', info)
  return async () => {
    await stopSubstrate(homeDir)
  }
}
