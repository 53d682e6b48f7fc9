import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openAuditLog } from '../../api/audit.js'
import { verifyAuditFile } from '../../api/audit-verify.js'

const run = promisify(execFile)
const repositoryRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..')
let directory: string
let original: string
let lines: string[]
let headHash: string

beforeAll(async () => {
  directory = fs.mkdtempSync(path.join(os.tmpdir(), 'pitboss-audit-verify-'))
  original = path.join(directory, 'audit.jsonl')
  const log = await openAuditLog({ path: original })
  for (let index = 1; index <= 5; index += 1) {
    await log.append({ actor: { subject: 'alice', roles: ['aml_officer'] }, action: 'case.read', entity: { type: 'case', id: `c-${index}` } })
  }
  headHash = log.headHash
  await log.close()
  lines = fs.readFileSync(original, 'utf8').trimEnd().split('\n')
})
afterAll(() => fs.rmSync(directory, { recursive: true, force: true }))

function variant(name: string, edit: (copy: string[]) => string[]): string {
  const file = path.join(directory, name)
  fs.writeFileSync(file, `${edit([...lines]).join('\n')}\n`)
  return file
}

describe('audit verifier', () => {
  it('accepts an untouched log and reports its head', async () => {
    expect(await verifyAuditFile(original)).toEqual({ ok: true, entries: 5, headHash })
    expect(await verifyAuditFile(original, { expectedHeadHash: headHash })).toMatchObject({ ok: true })
  })

  it('fails at the line that was edited', async () => {
    const file = variant('edited', (copy) => { copy[2] = (copy[2] as string).replace('"c-3"', '"c-9"'); return copy })
    expect(await verifyAuditFile(file)).toMatchObject({ ok: false, brokenLine: 3, entries: 2, reason: 'its content does not match its hash: the line was edited' })
  })

  it('fails at the position of a deleted line, and at an inserted or reordered one', async () => {
    expect(await verifyAuditFile(variant('deleted', (copy) => copy.filter((_line, index) => index !== 1)))).toMatchObject({ ok: false, brokenLine: 2, reason: expect.stringContaining('previousHash does not match line 1') })
    expect(await verifyAuditFile(variant('deleted-first', (copy) => copy.slice(1)))).toMatchObject({ ok: false, brokenLine: 1 })
    expect(await verifyAuditFile(variant('duplicated', (copy) => [...copy.slice(0, 3), copy[2] as string, ...copy.slice(3)]))).toMatchObject({ ok: false, brokenLine: 4 })
    expect(await verifyAuditFile(variant('swapped', (copy) => [copy[0] as string, copy[2] as string, copy[1] as string, ...copy.slice(3)]))).toMatchObject({ ok: false, brokenLine: 2 })
  })

  it('fails at a truncated or blank line, and catches lines cut from the end with the expected head', async () => {
    expect(await verifyAuditFile(variant('truncated', (copy) => { copy[4] = (copy[4] as string).slice(0, 40); return copy }))).toMatchObject({ ok: false, brokenLine: 5, reason: 'not valid JSON (truncated or edited)' })
    expect(await verifyAuditFile(variant('blank', (copy) => [...copy.slice(0, 2), '', ...copy.slice(2)]))).toMatchObject({ ok: false, brokenLine: 3, reason: 'empty line' })
    const cut = variant('cut', (copy) => copy.slice(0, 4))
    expect(await verifyAuditFile(cut)).toMatchObject({ ok: true, entries: 4 })
    expect(await verifyAuditFile(cut, { expectedHeadHash: headHash })).toMatchObject({ ok: false, brokenLine: 5, reason: expect.stringContaining('entries were cut from the end') })
  })

  it('runs as a CLI: exit 0 with the head, exit 1 naming the broken line, exit 2 on misuse', async () => {
    const cli = async (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
      try {
        const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'api/audit-verify.ts', ...args], { cwd: repositoryRoot })
        return { code: 0, stdout, stderr }
      } catch (error) {
        const failure = error as { code: number; stdout: string; stderr: string }
        return { code: failure.code, stdout: failure.stdout, stderr: failure.stderr }
      }
    }
    const edited = variant('edited-cli', (copy) => { copy[3] = (copy[3] as string).replace('alice', 'mallory'); return copy })
    const [good, bad, cutEnd, usage] = await Promise.all([cli(original), cli(edited), cli(variant('cut-cli', (copy) => copy.slice(0, 3)), '--expect-head', headHash), cli()])
    expect(good).toMatchObject({ code: 0, stdout: `ok: 5 entries, head ${headHash}\n` })
    expect(bad.code).toBe(1)
    expect(bad.stdout).toBe('broken at line 4: its content does not match its hash: the line was edited (3 entries before it verify)\n')
    expect(cutEnd.code).toBe(1)
    expect(cutEnd.stdout).toContain('broken at line 4')
    expect(usage.code).toBe(2)
    expect(usage.stderr).toContain('usage: npx tsx api/audit-verify.ts')
  })
})
