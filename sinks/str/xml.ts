/**
 * A small XML writer for regulator files: elements, text, escaping, and stable two-space
 * indentation so the same tree always serializes to the same bytes. Absent optional elements are
 * `null` children and are skipped, which lets renderers follow a schema's sequence line by line.
 *
 * Example:
 *   serializeXml(element('report', leaf('reason', 'a < b & "c"'), leaf('action', null)))
 *   -> '<?xml version="1.0" encoding="UTF-8"?>\n<report>\n  <reason>a &lt; b &amp; &quot;c&quot;</reason>\n</report>\n'
 */
import { RiskError } from '../../core/errors.js'

export type XmlNode =
  | { readonly name: string; readonly text: string }
  | { readonly name: string; readonly children: readonly XmlNode[] }

type Child = XmlNode | null | undefined | false | readonly (XmlNode | null | undefined | false)[]

/** An element with child elements; null, undefined and false children are dropped, arrays flattened. */
export function element(name: string, ...children: Child[]): XmlNode {
  const kept: XmlNode[] = []
  for (const child of children) {
    if (Array.isArray(child)) {
      for (const inner of child) if (inner) kept.push(inner)
    } else if (child) {
      kept.push(child as XmlNode)
    }
  }
  return { name, children: kept }
}

/** A text-only element, or null (no element at all) when the value is null or undefined. */
export function leaf(name: string, value: string | number | null | undefined): XmlNode | null {
  if (value === null || value === undefined) return null
  return { name, text: String(value) }
}

// XML 1.0 allows tab, newline, carriage return and everything from U+0020 except the surrogate
// block and U+FFFE/U+FFFF; anything else cannot be written at all, even escaped.
// eslint-disable-next-line no-control-regex
const FORBIDDEN_CHARACTER = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/** True when `value` holds a character XML 1.0 cannot carry (control characters, lone surrogates). */
export function hasForbiddenXmlCharacter(value: string): boolean {
  return FORBIDDEN_CHARACTER.test(value)
}

/**
 * Text escaped for element content or attribute values: & < > " ' and carriage return become
 * entities. Refuses
 * characters XML 1.0 cannot carry instead of dropping them silently.
 */
export function escapeXml(value: string): string {
  if (hasForbiddenXmlCharacter(value)) {
    throw new RiskError('RISK_ERR_REQUEST_INVALID', `text '${value.slice(0, 40)}' holds a control character XML cannot carry; remove it from the draft`)
  }
  return value.replace(/[&<>"'\r]/g, (character) => ESCAPES[character as keyof typeof ESCAPES])
}

// A raw carriage return would be normalised to a newline by every parser; the reference keeps it.
const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;', '\r': '&#13;' } as const

/** The document: UTF-8 declaration, the tree indented by two spaces, a final newline. */
export function serializeXml(root: XmlNode): string {
  const lines: string[] = ['<?xml version="1.0" encoding="UTF-8"?>']
  write(root, 0, lines)
  return `${lines.join('\n')}\n`
}

function write(node: XmlNode, depth: number, lines: string[]): void {
  const indent = '  '.repeat(depth)
  if ('text' in node) {
    lines.push(`${indent}<${node.name}>${escapeXml(node.text)}</${node.name}>`)
    return
  }
  if (node.children.length === 0) {
    lines.push(`${indent}<${node.name}/>`)
    return
  }
  lines.push(`${indent}<${node.name}>`)
  for (const child of node.children) write(child, depth + 1, lines)
  lines.push(`${indent}</${node.name}>`)
}
