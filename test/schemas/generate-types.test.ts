import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { GENERATED_TYPES_FILE, generateTypes } from '../../schemas/generate-types.js'

describe('generated types', () => {
  it('are up to date with the schemas (run `npx tsx schemas/generate-types.ts` when this fails)', () => {
    expect(readFileSync(GENERATED_TYPES_FILE, 'utf8')).toBe(generateTypes())
  })

  it('have one interface per record and a string-literal union per enum', () => {
    const source = generateTypes()
    expect(source).toContain("export type DepositStatus = 'COMPLETED' | 'FAILED' | 'CANCELLED' | 'CHARGEBACK' | 'REVERSED' | 'UNKNOWN'")
    expect(source).toContain('export interface PaymentInstrument {')
    expect(source).toMatch(/readonly amountMinor: number\n/)
    expect(source).toMatch(/readonly model: ModelScore \| null\n/)
    expect(source).toMatch(/readonly payload: Buffer\n/)
    // Shared definitions appear once even though two schemas carry them.
    expect(source.match(/export interface PaymentInstrument /g)).toHaveLength(1)
    expect(source.match(/export type PaymentMethod /g)).toHaveLength(1)
  })
})
