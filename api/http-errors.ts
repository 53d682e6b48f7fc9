/**
 * How the API reports errors: always `{ error: { code, message } }` (plus `field` for a request
 * that failed validation), with the HTTP status that fits the code.
 *
 * Handlers throw `RiskError`s; the error handler maps their code to a status with
 * `statusForErrorCode`. Server faults (5xx) show the code's summary, never the internal message.
 *
 * Example:
 *   throw new RiskError('RISK_ERR_CASE_NOT_FOUND', `no case ${id}`)   // -> 404 { error: { code, message } }
 */
import type { FastifyReply } from 'fastify'
import { ERROR_CODES, type ErrorCode } from '../core/errors.js'

/** 429's code (core/errors.ts), named here for the routes that answer it. */
export const RISK_ERR_RATE_LIMITED = 'RISK_ERR_RATE_LIMITED' satisfies ErrorCode

/** Codes the API itself answers with beside the RISK_ERR_* ones (kept from the first cut of api/app.ts). */
export const API_ERROR_CODES = {
  PITBOSS_API_NOT_FOUND: 404,
  PITBOSS_API_INTERNAL: 500,
} as const

export type ApiErrorCode = ErrorCode | keyof typeof API_ERROR_CODES

export interface ApiErrorBody {
  readonly error: { readonly code: ApiErrorCode; readonly message: string; readonly field?: string }
}

/** The statuses of codes a handler is expected to throw; any other code is a server fault. */
const STATUS_BY_CODE: Partial<Record<ErrorCode, number>> = {
  RISK_ERR_REQUEST_INVALID: 400,
  RISK_ERR_INVALID_FIELD: 400,
  RISK_ERR_UNAUTHENTICATED: 401,
  RISK_ERR_FORBIDDEN: 403,
  RISK_ERR_CASE_NOT_FOUND: 404,
  RISK_ERR_NOT_FOUND: 404,
  RISK_ERR_CASE_CONFLICT: 409,
  RISK_ERR_RULE_SET_CONFLICT: 409,
  RISK_ERR_WEBHOOK_REPLAY: 409,
  RISK_ERR_CASE_TRANSITION: 409,
  RISK_ERR_WITHDRAWAL_TRANSITION: 409,
  RISK_ERR_RULE_SET_INVALID: 422,
  RISK_ERR_MODEL_MISMATCH: 422,
  RISK_ERR_DETECTOR_UNKNOWN: 422,
}

/** 4xx for the caller's mistakes, 503 for retriable infrastructure faults, 500 otherwise. */
export function statusForErrorCode(code: ErrorCode): number {
  return STATUS_BY_CODE[code] ?? (ERROR_CODES[code].retriable ? 503 : 500)
}

export function errorBody(code: ApiErrorCode, message: string, field?: string): ApiErrorBody {
  return { error: field === undefined ? { code, message } : { code, message, field } }
}

/** Sends a coded error; `return replyWithError(...)` from an async hook stops the request there. */
export function replyWithError(reply: FastifyReply, status: number, code: ApiErrorCode, message: string, field?: string): FastifyReply {
  return reply.code(status).send(errorBody(code, message, field))
}
