/**
 * Money for regulator files: amounts stay integers in minor units everywhere in pitboss and become
 * decimal text only here, at rendering, by string arithmetic on the currency's ISO 4217 minor-unit
 * exponent. No float ever touches an amount, so 1 minor unit and amounts beyond 2^53 render exactly.
 *
 * Example:
 *   formatMinorUnits(12_345, 'EUR')      -> '123.45'
 *   formatMinorUnits(150_000, 'JPY')     -> '150000'
 *   formatMinorUnits(1n, 'KWD')          -> '0.001'
 *   formatMinorUnits('9007199254740993', 'EUR') -> '90071992547409.93'
 */
import { RiskError } from '../../core/errors.js'

/**
 * An amount in minor units: a safe integer, a bigint, or a string of digits (what a bigint becomes
 * in JSON). Beyond Number.MAX_SAFE_INTEGER use a bigint or a string; a number there is refused
 * because it has already lost precision.
 */
export type MinorUnits = number | bigint | string

/**
 * ISO 4217 minor-unit exponents of the currencies an operator commonly settles in (ISO 4217
 * list one, 2024). Every code here is also in the goAML 5.0.2 `currency_type` list (a test keeps
 * the two in step). A currency not listed is refused rather than guessed: add it here with its
 * ISO exponent.
 */
export const CURRENCY_MINOR_UNIT_EXPONENTS: Readonly<Record<string, number>> = Object.freeze({
  // no minor unit
  BIF: 0, CLP: 0, DJF: 0, GNF: 0, ISK: 0, JPY: 0, KMF: 0, KRW: 0, PYG: 0, RWF: 0, UGX: 0, VND: 0, VUV: 0, XAF: 0, XOF: 0, XPF: 0,
  // three decimals
  BHD: 3, IQD: 3, JOD: 3, KWD: 3, OMR: 3, TND: 3,
  // four decimals (unit of account)
  CLF: 4,
  // two decimals
  AED: 2, ARS: 2, AUD: 2, BGN: 2, BRL: 2, CAD: 2, CHF: 2, CNY: 2, COP: 2, CZK: 2, DKK: 2, EGP: 2, EUR: 2, GBP: 2, GEL: 2,
  HKD: 2, HUF: 2, IDR: 2, ILS: 2, INR: 2, KES: 2, KZT: 2, MAD: 2, MXN: 2, MYR: 2, NGN: 2, NOK: 2, NZD: 2, PEN: 2, PHP: 2,
  PLN: 2, QAR: 2, RON: 2, RSD: 2, RUB: 2, SAR: 2, SEK: 2, SGD: 2, THB: 2, TRY: 2, TWD: 2, UAH: 2, USD: 2, ZAR: 2,
})

/** The exponent of `currency`; refuses a code the table does not hold. */
export function minorUnitExponent(currency: string): number {
  const exponent = Object.hasOwn(CURRENCY_MINOR_UNIT_EXPONENTS, currency) ? CURRENCY_MINOR_UNIT_EXPONENTS[currency] : undefined
  if (exponent === undefined) {
    throw new RiskError('RISK_ERR_REQUEST_INVALID', `currency '${currency}' has no minor-unit exponent in sinks/str/currency.ts; add its ISO 4217 exponent there`, { currency })
  }
  return exponent
}

export function isKnownCurrency(currency: string): boolean {
  return Object.hasOwn(CURRENCY_MINOR_UNIT_EXPONENTS, currency)
}

/**
 * The amount as a bigint, or null when it is not an integer amount (a float, an unsafe number,
 * text that is not digits, a missing value).
 */
export function minorUnitsToBigInt(amountMinor: unknown): bigint | null {
  if (typeof amountMinor === 'bigint') return amountMinor
  if (typeof amountMinor === 'number') return Number.isSafeInteger(amountMinor) ? BigInt(amountMinor) : null
  if (typeof amountMinor === 'string' && /^-?\d{1,40}$/.test(amountMinor)) return BigInt(amountMinor)
  return null
}

/**
 * Decimal text of an amount in minor units: the digits with a point inserted `exponent` places
 * from the right, zero-padded ('0.01'), no point for exponent 0, a leading '-' for negatives.
 */
export function formatMinorUnits(amountMinor: MinorUnits, currency: string): string {
  const exponent = minorUnitExponent(currency)
  const value = minorUnitsToBigInt(amountMinor)
  if (value === null) {
    throw new RiskError('RISK_ERR_REQUEST_INVALID', `amount '${String(amountMinor)}' ${currency} is not an integer number of minor units (use a bigint or a digit string beyond 2^53)`, { currency })
  }
  const negative = value < 0n
  const digits = (negative ? -value : value).toString().padStart(exponent + 1, '0')
  const whole = digits.slice(0, digits.length - exponent)
  const fraction = digits.slice(digits.length - exponent)
  return `${negative ? '-' : ''}${whole}${exponent > 0 ? `.${fraction}` : ''}`
}

/** 10^exponent as a bigint: how many minor units one major unit holds. */
export function minorUnitsPerMajor(currency: string): bigint {
  return 10n ** BigInt(minorUnitExponent(currency))
}
