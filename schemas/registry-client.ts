/**
 * The schema registry as the codec sees it, and a client for the Confluent REST API (the subset
 * pitboss uses), written directly on fetch.
 *
 * Errors: a registry that does not answer (network failure, timeout, 5xx, 429) throws the
 * retriable RISK_ERR_REGISTRY_UNAVAILABLE; a registry that refuses a schema (409 incompatible,
 * 422 invalid) or the request (other 4xx) throws RISK_ERR_REGISTRY_REJECTED with its message.
 * An unknown schema id is not an error: getSchemaById returns null.
 *
 * Example:
 *   const registry = createHttpRegistryClient(config.registry.url)
 *   const id = await registry.register('casino.deposits.v1-value', schemaText)   // e.g. 1
 *   await registry.getSchemaById(id)                                            // the schema text
 *   await registry.getSchemaById(999_999)                                       // null
 */
import { RiskError } from '../core/errors.js'

export interface SchemaRegistryClient {
  /** Registers (or finds) the schema under the subject and returns its global id. */
  register(subject: string, schema: string): Promise<number>
  /** The schema text with this id, or null when the registry does not know the id (404). */
  getSchemaById(id: number): Promise<string | null>
}

export interface HttpRegistryClientOptions {
  /** How long one request may take before the registry counts as unavailable. Default 10 s. */
  readonly timeoutMs?: number
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json'
const DEFAULT_TIMEOUT_MS = 10_000

interface RegistryResponse {
  readonly status: number
  readonly body: unknown
}

function registryMessage(body: unknown, status: number): string {
  if (body !== null && typeof body === 'object' && typeof (body as { message?: unknown }).message === 'string') {
    const { message, error_code: errorCode } = body as { message: string; error_code?: unknown }
    return errorCode === undefined ? message : `${message} (error_code ${String(errorCode)})`
  }
  return `HTTP ${status}`
}

/**
 * A SchemaRegistryClient over Confluent's REST API: POST /subjects/{subject}/versions and
 * GET /schemas/ids/{id}. `url` is the registry's base URL (config.registry.url).
 */
export function createHttpRegistryClient(url: string, options: HttpRegistryClientOptions = {}): SchemaRegistryClient {
  const baseUrl = url.replace(/\/+$/, '')
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS

  async function request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<RegistryResponse> {
    let response: Response
    try {
      response = await fetch(`${baseUrl}${path}`, {
        method,
        headers: body === undefined ? { accept: CONTENT_TYPE } : { accept: CONTENT_TYPE, 'content-type': CONTENT_TYPE },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      })
    } catch (error) {
      throw new RiskError('RISK_ERR_REGISTRY_UNAVAILABLE', `schema registry at ${baseUrl} did not answer ${method} ${path}: ${(error as Error).message}; check that it runs and PITBOSS_REGISTRY_URL`, { url: baseUrl, path }, { cause: error })
    }
    const text = await response.text().catch(() => '')
    let parsed: unknown = null
    try {
      parsed = text === '' ? null : JSON.parse(text)
    } catch {
      parsed = text
    }
    // 5xx, 408 and 429 are the registry (or a proxy in front of it) being unable to answer now.
    if (response.status >= 500 || response.status === 408 || response.status === 429) {
      throw new RiskError('RISK_ERR_REGISTRY_UNAVAILABLE', `schema registry answered ${method} ${path} with ${registryMessage(parsed, response.status)}`, { url: baseUrl, path, status: response.status })
    }
    return { status: response.status, body: parsed }
  }

  function rejected(method: string, path: string, response: RegistryResponse): RiskError {
    return new RiskError('RISK_ERR_REGISTRY_REJECTED', `schema registry refused ${method} ${path}: ${registryMessage(response.body, response.status)}`, { url: baseUrl, path, status: response.status })
  }

  return {
    async register(subject, schema) {
      const path = `/subjects/${encodeURIComponent(subject)}/versions`
      const response = await request('POST', path, { schema })
      if (response.status !== 200) throw rejected('POST', path, response)
      const id = (response.body as { id?: unknown } | null)?.id
      if (typeof id !== 'number' || !Number.isInteger(id)) {
        throw new RiskError('RISK_ERR_REGISTRY_UNAVAILABLE', `schema registry answered POST ${path} without an integer id: ${JSON.stringify(response.body)}`, { url: baseUrl, path })
      }
      return id
    },
    async getSchemaById(id) {
      const path = `/schemas/ids/${id}`
      const response = await request('GET', path)
      if (response.status === 404) return null
      if (response.status !== 200) throw rejected('GET', path, response)
      const schema = (response.body as { schema?: unknown } | null)?.schema
      if (typeof schema !== 'string') {
        throw new RiskError('RISK_ERR_REGISTRY_UNAVAILABLE', `schema registry answered GET ${path} without a schema string`, { url: baseUrl, path })
      }
      return schema
    },
  }
}
