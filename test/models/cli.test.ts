import { execFile } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Deployment } from '../../models/deployment.js'
import { SHIPPED_MODEL_FOLDER } from '../../models/service.js'
import { SHIPPED_MODEL_DIRECTORY } from './shipped.js'

const run = promisify(execFile)
const CLI = new URL('../../models/cli.ts', import.meta.url).pathname
const REPOSITORY_ROOT = new URL('../../', import.meta.url).pathname

let temporary: string
let modelsDir: string
let deploymentFile: string

beforeAll(() => {
  temporary = mkdtempSync(path.join(os.tmpdir(), 'pitboss-models-cli-'))
  modelsDir = path.join(temporary, 'models')
  mkdirSync(modelsDir)
  deploymentFile = path.join(temporary, 'state', 'deployment.json')
  cpSync(SHIPPED_MODEL_DIRECTORY, path.join(modelsDir, SHIPPED_MODEL_FOLDER), { recursive: true })
  const renamed = path.join(modelsDir, 'renamed-feature')
  cpSync(SHIPPED_MODEL_DIRECTORY, renamed, { recursive: true })
  const manifest = JSON.parse(readFileSync(path.join(renamed, 'manifest.json'), 'utf8')) as { featureContract: { features: Array<{ name: string }> } }
  manifest.featureContract.features[0]!.name = 'amount'
  writeFileSync(path.join(renamed, 'manifest.json'), JSON.stringify(manifest))
})
afterAll(() => rmSync(temporary, { recursive: true, force: true }))

/** Runs the CLI as an operator would; resolves with its exit code and output. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', CLI, ...args, '--models-dir', modelsDir, '--deployment', deploymentFile, '--actor', 'alice'], { cwd: REPOSITORY_ROOT, env: { PATH: process.env.PATH, PITBOSS_LOG_LEVEL: 'silent' } })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string }
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr }
  }
}

describe('models/cli.ts', () => {
  it('shows the status, refuses a mismatched model with exit code 2, and shadows a good one', async () => {
    const status = await cli('status')
    expect(status.code).toBe(0)
    expect(status.stdout).toMatch(/champion\s+withdrawal-typology-xgb-v2 \(withdrawal-typology-xgb@2\.0\.0\)/)

    const refused = await cli('activate', 'renamed-feature')
    expect(refused.code).toBe(2)
    expect(refused.stderr).toMatch(/^RISK_ERR_MODEL_MISMATCH: .*column 0: amount/)

    const usage = await cli('promote', 'x')
    expect(usage.code).toBe(2)
    expect(usage.stderr).toMatch(/RISK_ERR_REQUEST_INVALID: unknown command 'promote'/)

    // The shipped model cannot shadow itself, so copy it under a second name through upload.
    const exported = path.join(temporary, 'export', 'model-copy')
    cpSync(SHIPPED_MODEL_DIRECTORY, exported, { recursive: true })
    expect((await cli('upload', exported)).code).toBe(0)
    const shadowed = await cli('shadow', 'model-copy')
    expect(shadowed.code).toBe(0)
    expect(shadowed.stdout).toMatch(/alice shadow model-copy \(withdrawal-typology-xgb@2\.0\.0\): champion withdrawal-typology-xgb-v2 -> withdrawal-typology-xgb-v2, shadows \[\] -> \[model-copy\]/)
    const written = JSON.parse(readFileSync(deploymentFile, 'utf8')) as Deployment
    expect(written).toMatchObject({ champion: SHIPPED_MODEL_FOLDER, shadows: ['model-copy'], changedBy: 'alice' })
    expect(written.history.map((entry) => entry.action)).toEqual(['upload', 'shadow'])
  }, 30_000)
})
