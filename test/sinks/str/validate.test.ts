import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { isRiskError, type RiskError } from '../../../core/errors.js'
import type { StrDraft, StrTransaction } from '../../../sinks/str/draft.js'
import { renderGoaml } from '../../../sinks/str/goaml.js'
import { exportGoaml, GoamlSchemaRejection, previewGoaml, validateXml } from '../../../sinks/str/validate.js'
import { approvedDraft, SCHEMA_PATH, SUBMISSION_TIME_MS } from './fixtures.js'

const temporaryDirs: string[] = []
async function temporaryDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pitboss-str-'))
  temporaryDirs.push(dir)
  return dir
}
afterEach(async () => {
  await Promise.all(temporaryDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })))
})

async function caught(action: Promise<unknown>): Promise<RiskError> {
  try {
    await action
  } catch (error) {
    if (isRiskError(error)) return error
    throw error
  }
  return expect.fail('expected a RiskError')
}

const options = { schemaPath: SCHEMA_PATH, submissionTimeMs: SUBMISSION_TIME_MS }

describe('exportGoaml', () => {
  it('writes a validated STR file and returns its hash', async () => {
    const outputDir = await temporaryDir()
    const exported = await exportGoaml(approvedDraft, { ...options, outputDir })
    expect(exported.fileName).toBe('STR-str-case-42-1.xml')
    expect(exported.filePath).toBe(path.join(outputDir, 'STR-str-case-42-1.xml'))
    expect(await readFile(exported.filePath as string, 'utf8')).toBe(exported.xml)
    expect(exported.sha256).toMatch(/^[0-9a-f]{64}$/)
    expect(await readdir(outputDir)).toEqual(['STR-str-case-42-1.xml'])
  })

  it('refuses a draft without a subject name by its own rules, and the schema would refuse it too', async () => {
    const outputDir = await temporaryDir()
    const broken: StrDraft = { ...approvedDraft, subject: { ...approvedDraft.subject, firstName: '' } }
    const error = await caught(exportGoaml(broken, { ...options, outputDir }))
    expect(error.code).toBe('RISK_ERR_REQUEST_INVALID')
    expect(error.message).toContain("subject.firstName: the subject's first name is required")
    expect(await readdir(outputDir)).toEqual([])
    // Defence in depth: the same draft rendered past the draft rules fails the XSD, with line numbers.
    const xml = renderGoaml({ ...approvedDraft, subject: { ...approvedDraft.subject, firstName: undefined as unknown as string } }, options)
    const result = await validateXml(xml, options)
    expect(result.valid).toBe(false)
    expect(result.errors[0]).toMatchObject({ element: 'last_name', message: expect.stringContaining("Element 'last_name': This element is not expected. Expected is one of ( title, first_name )") })
    expect(xml.split('\n')[(result.errors[0]?.line ?? 0) - 1]).toContain('<last_name>')
  })

  it('refuses a transaction with no amount or a zero amount', async () => {
    const withAmount = (amountMinor: unknown): StrDraft => ({
      ...approvedDraft,
      transactions: [{ ...approvedDraft.transactions[0], amountMinor } as unknown as StrTransaction, ...approvedDraft.transactions.slice(1)],
    })
    const missing = await caught(exportGoaml(withAmount(undefined), options))
    expect(missing.code).toBe('RISK_ERR_REQUEST_INVALID')
    expect(missing.message).toContain('transactions[0].amountMinor: the amount is required as an integer number of minor units')
    const zero = await caught(exportGoaml(withAmount(0), options))
    expect(zero.message).toContain('transactions[0].amountMinor: the amount must be positive, got 0')
    const fractional = await caught(exportGoaml(withAmount(12.5), options))
    expect(fractional.message).toContain('transactions[0].amountMinor: the amount is required as an integer')
    const none = await caught(exportGoaml({ ...approvedDraft, transactions: [] }, options))
    expect(none.message).toContain('transactions: an STR needs at least one transaction in scope')
  })

  it('refuses an element order forced through the raw-XML hook with the schema error, and writes nothing', async () => {
    const outputDir = await temporaryDir()
    // report_code before submission_code: the schema's sequence says otherwise.
    const swap = (xml: string): string => xml.replace('  <submission_code>E</submission_code>\n  <report_code>STR</report_code>', '  <report_code>STR</report_code>\n  <submission_code>E</submission_code>')
    const error = await caught(exportGoaml(approvedDraft, { ...options, outputDir, transformXml: swap }))
    expect(error).toBeInstanceOf(GoamlSchemaRejection)
    expect(error.code).toBe('RISK_ERR_REQUEST_INVALID')
    expect(error.message).toContain("line 5: Element 'report_code': This element is not expected. Expected is ( submission_code ).")
    expect((error as GoamlSchemaRejection).schemaErrors[0]).toEqual({ line: 5, element: 'report_code', message: "Element 'report_code': This element is not expected. Expected is ( submission_code )." })
    expect(error.context).toMatchObject({ draftId: 'str-case-42-1', firstErrorLine: 5, schemaErrorCount: 1 })
    expect(await readdir(outputDir)).toEqual([])
  })

  it('refuses malformed XML from the hook with the parser error', async () => {
    const error = await caught(exportGoaml(approvedDraft, { ...options, transformXml: (xml) => xml.replace('</report>', '') }))
    expect(error).toBeInstanceOf(GoamlSchemaRejection)
    expect(error.message).toContain('parser error')
  })

  it('refuses a draft that is not approved', async () => {
    const error = await caught(exportGoaml({ ...approvedDraft, status: 'draft' }, options))
    expect(error.code).toBe('RISK_ERR_CASE_TRANSITION')
  })
})

describe('validateXml', () => {
  it('reports a missing schema as a configuration error', async () => {
    const error = await caught(validateXml('<report/>', { schemaPath: path.join(os.tmpdir(), 'no-such-schema.xsd') }))
    expect(error.code).toBe('RISK_ERR_CONFIG_INVALID')
  })

  it('reports a missing xmllint binary as a substrate error', async () => {
    const error = await caught(validateXml('<report/>', { schemaPath: SCHEMA_PATH, xmllintPath: path.join(os.tmpdir(), 'no-such-xmllint') }))
    expect(error.code).toBe('RISK_ERR_SUBSTRATE')
    expect(error.message).toContain('libxml2-utils')
  })

  it('kills xmllint after the timeout', async () => {
    const dir = await temporaryDir()
    const slow = path.join(dir, 'slow-xmllint')
    await writeFile(slow, '#!/bin/sh\nexec sleep 30\n')
    await chmod(slow, 0o755)
    const startedMs = performance.now()
    const error = await caught(validateXml('<report/>', { schemaPath: SCHEMA_PATH, xmllintPath: slow, timeoutMs: 200 }))
    expect(error.code).toBe('RISK_ERR_SUBSTRATE')
    expect(error.message).toContain('did not finish within 200 ms')
    expect(performance.now() - startedMs).toBeLessThan(5_000)
  })
})

describe('previewGoaml', () => {
  it("lists the draft's problems and the schema's verdict without refusing", async () => {
    const preview = await previewGoaml({ ...approvedDraft, status: 'draft', subject: { ...approvedDraft.subject, lastName: 'Müller' } }, options)
    expect(preview.problems.map((problem) => problem.path)).toEqual(['subject.lastName'])
    expect(preview.schema?.valid).toBe(false)
    expect(preview.schema?.errors[0]?.element).toBe('last_name')
  })
})
