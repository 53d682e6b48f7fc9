import fs from 'node:fs'
import { describe, expect, it } from 'vitest'
import { ERROR_CODES, RiskError } from '../../core/errors.js'

const documentation = fs.readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8')
const documented = new Map([...documentation.matchAll(/^\| `(RISK_ERR_[A-Z_]+)` \| (yes|no) \|/gm)].map((match) => [match[1], match[2] === 'yes']))

describe('error codes', () => {
  it('docs/errors.md lists exactly the codes in core/errors.ts, with the same retriable flag', () => {
    expect([...documented.keys()].sort()).toEqual(Object.keys(ERROR_CODES).sort())
    for (const [code, spec] of Object.entries(ERROR_CODES)) expect(documented.get(code), code).toBe(spec.retriable)
  })

  it('carries the code, retriable flag and context', () => {
    const error = new RiskError('RISK_ERR_REGISTRY_UNAVAILABLE', 'no answer', { topic: 't', partition: 1 })
    expect(error.message).toBe('RISK_ERR_REGISTRY_UNAVAILABLE: no answer')
    expect(error.retriable).toBe(true)
    expect(error.context).toEqual({ topic: 't', partition: 1 })
  })
})
