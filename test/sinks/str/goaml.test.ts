import { describe, expect, it } from 'vitest'
import type { StrDraft } from '../../../sinks/str/draft.js'
import { renderGoaml } from '../../../sinks/str/goaml.js'
import { validateXml } from '../../../sinks/str/validate.js'
import { approvedDraft, SCHEMA_PATH, SUBMISSION_TIME_MS } from './fixtures.js'

const render = (draft: StrDraft): string => renderGoaml(draft, { submissionTimeMs: SUBMISSION_TIME_MS })
const validate = (xml: string) => validateXml(xml, { schemaPath: SCHEMA_PATH })

describe('renderGoaml', () => {
  it('renders a realistic STR (EUR, a JPY deposit, transfers both ways, a payout) that validates against the real XSD', async () => {
    const xml = render(approvedDraft)
    expect(await validate(xml)).toEqual({ valid: true, errors: [] })
    expect(xml).toContain('<report_code>STR</report_code>')
    expect(xml).toContain('<submission_date>2026-06-04T10:00:00</submission_date>')
    expect(xml).toContain('<currency_code_local>EUR</currency_code_local>')
    expect(xml).toContain('<rentity_id>4711</rentity_id>')
    expect(xml.match(/<transaction>/g)).toHaveLength(7)
    // the JPY deposit: EUR equivalent in amount_local, the yen on the player's side, no decimals
    expect(xml).toMatch(/<transactionnumber>dep-jp-4<\/transactionnumber>[\s\S]*?<amount_local>1830.00<\/amount_local>[\s\S]*?<foreign_currency_code>JPY<\/foreign_currency_code>\s*<foreign_amount>300000<\/foreign_amount>\s*<foreign_exchange_rate>0.0061<\/foreign_exchange_rate>/)
    // deposits come from the player as the operator's client; payouts go to them
    expect(xml).toMatch(/<transactionnumber>dep-1<\/transactionnumber>[\s\S]*?<t_from_my_client>\s*<from_funds_code>CRTCR<\/from_funds_code>[\s\S]*?<from_person>/)
    expect(xml).toMatch(/<transactionnumber>wd-7<\/transactionnumber>[\s\S]*?<t_from>\s*<from_funds_code>FRACC<\/from_funds_code>\s*<from_entity>[\s\S]*?<t_to_my_client>/)
    expect(xml).toMatch(/<report_indicators>\s*<indicator>CTRGB<\/indicator>\s*<indicator>ML002<\/indicator>\s*<indicator>ARIET<\/indicator>\s*<\/report_indicators>/)
  })

  it('renders a report whose local currency has 3 decimals (KWD) that validates, with exact amounts', async () => {
    const kuwaiti: StrDraft = {
      ...approvedDraft,
      localCurrency: 'KWD',
      transactions: [
        { ...approvedDraft.transactions[0]!, currency: 'KWD', amountMinor: 1 },
        { ...approvedDraft.transactions[1]!, currency: 'KWD', amountMinor: 123_456_789n },
        { ...approvedDraft.transactions[2]!, currency: 'EUR', amountMinor: 1_980_00, localAmountMinor: '603900', exchangeRate: '0.305' },
      ],
    }
    const xml = render(kuwaiti)
    expect(await validate(xml)).toEqual({ valid: true, errors: [] })
    expect(xml).toContain('<amount_local>0.001</amount_local>')
    expect(xml).toContain('<amount_local>123456.789</amount_local>')
    expect(xml).toContain('<amount_local>603.900</amount_local>')
    expect(xml).toContain('<foreign_amount>1980.00</foreign_amount>')
  })

  it('renders one minor unit and amounts beyond 2^53 exactly', async () => {
    const beyondSafe = 2n ** 53n + 1n // 9007199254740993 cents: a float would say ...992
    const draft: StrDraft = { ...approvedDraft, transactions: [{ ...approvedDraft.transactions[0]!, amountMinor: beyondSafe }, { ...approvedDraft.transactions[1]!, amountMinor: 1 }] }
    const xml = render(draft)
    expect(xml).toContain('<amount_local>90071992547409.93</amount_local>')
    expect(xml).toContain('<amount_local>0.01</amount_local>')
    expect(await validate(xml)).toEqual({ valid: true, errors: [] })
  })

  it("escapes < & \" ' in the narrative, the action and names, and the result still validates", async () => {
    const narrative = `Deposits "just under" the <2000> threshold & a payout to O'Neill's wallet`
    const xml = render({ ...approvedDraft, narrative, action: 'Held <funds> & "restricted"' })
    expect(xml).toContain('<reason>Deposits &quot;just under&quot; the &lt;2000&gt; threshold &amp; a payout to O&apos;Neill&apos;s wallet</reason>')
    expect(xml).toContain('<action>Held &lt;funds&gt; &amp; &quot;restricted&quot;</action>')
    expect(xml).toContain('<last_name>O&apos;Brien-Muller</last_name>')
    expect(await validate(xml)).toEqual({ valid: true, errors: [] })
  })

  it('escapes markup in a name so the document stays well-formed; the schema then refuses the name, not the document', async () => {
    const xml = render({ ...approvedDraft, subject: { ...approvedDraft.subject, firstName: 'Jo<b>&"x' } })
    expect(xml).toContain('<first_name>Jo&lt;b&gt;&amp;&quot;x</first_name>')
    const result = await validate(xml)
    expect(result.valid).toBe(false)
    expect(result.errors.length).toBeGreaterThan(0)
    for (const error of result.errors) {
      expect(error.element).toBe('first_name')
      expect(error.message).toContain(`[facet 'pattern'] The value 'Jo<b>&"x' is not accepted`)
      expect(xml.split('\n')[(error.line ?? 0) - 1]).toContain('<first_name>Jo&lt;b&gt;')
    }
  })

  it('gives the same bytes for the same draft and submission time', () => {
    expect(render(approvedDraft)).toBe(render(structuredClone(approvedDraft)))
    expect(renderGoaml(approvedDraft, { submissionTimeMs: SUBMISSION_TIME_MS + 1000 })).not.toBe(render(approvedDraft))
  })
})
