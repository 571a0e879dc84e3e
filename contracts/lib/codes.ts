import type { Contract, ContractSet } from './load.js';
import { operations, deref } from './operations.js';
import type { JsonObject } from './types.js';

export interface ResponseCode {
  code: string;
  status: number;
  message: string;
  summary: string;
  /** `manual` (verbatim from the G-REX API Manual v3.2) or `reconstructed`. */
  source: string;
  /** The contract that defines it (`common` for the shared ones). */
  definedIn: string;
  /** `operationId status` of every response that lists it. */
  usedBy: string[];
}

export const CODE_PATTERN = /^[A-Z]+_[0-9]{3}$/;

interface Envelope {
  statusCode: number;
  responseCode: string;
  responseMessage: string;
}

const isEnvelope = (value: unknown): value is Envelope =>
  !!value && typeof value === 'object' && typeof (value as Envelope).responseCode === 'string' && typeof (value as Envelope).statusCode === 'number';

/**
 * The response-code catalogue, read from the contracts: every envelope example
 * under `components.examples`, with the responses that list it. There is no
 * other list of codes.
 */
export function codeCatalogue(set: ContractSet): ResponseCode[] {
  const byCode = new Map<string, ResponseCode>();
  const define = (examples: Record<string, JsonObject> | undefined, definedIn: string): void => {
    for (const [key, example] of Object.entries(examples ?? {})) {
      const value = example.value;
      if (!isEnvelope(value)) continue;
      const entry: ResponseCode = {
        code: value.responseCode,
        status: value.statusCode,
        message: value.responseMessage,
        summary: String(example.summary ?? ''),
        source: String(example['x-source'] ?? 'unmarked'),
        definedIn,
        usedBy: [],
      };
      const known = byCode.get(key);
      if (known && known.message !== entry.message) {
        throw new Error(`${key} is defined in ${known.definedIn} and ${definedIn} with different messages`);
      }
      if (!known) byCode.set(key, entry);
    }
  };
  define(set.common.components?.examples, 'common');
  for (const contract of set.contracts) define(contract.raw.components?.examples, contract.name);
  for (const contract of set.contracts) {
    for (const use of envelopeUses(contract)) byCode.get(use.code)?.usedBy.push(`${use.operationId} ${use.status}`);
  }
  return [...byCode.values()].sort((a, b) => a.code.localeCompare(b.code, 'en', { numeric: true }));
}

export interface EnvelopeUse {
  operationId: string;
  status: string;
  mediaType: string;
  key: string;
  code: string;
  statusCode: number;
}

/** Every envelope example listed by an operation's responses, in the bundled document. */
export function envelopeUses(contract: Contract): EnvelopeUse[] {
  const uses: EnvelopeUse[] = [];
  for (const { operation } of operations(contract.doc)) {
    for (const [status, response] of Object.entries(operation.responses ?? {})) {
      const content = deref<JsonObject>(contract.doc, response).content as Record<string, JsonObject> | undefined;
      for (const [mediaType, media] of Object.entries(content ?? {})) {
        for (const [key, example] of Object.entries((media.examples as Record<string, JsonObject>) ?? {})) {
          const value = deref<JsonObject>(contract.doc, example).value;
          if (!isEnvelope(value)) continue;
          uses.push({ operationId: String(operation.operationId), status, mediaType, key, code: value.responseCode, statusCode: value.statusCode });
        }
      }
    }
  }
  return uses;
}

export function formatCatalogue(codes: ResponseCode[], format: 'table' | 'markdown' | 'json' | 'csv'): string {
  if (format === 'json') return `${JSON.stringify(codes, null, 2)}\n`;
  const header = ['code', 'HTTP', 'source', 'defined in', 'used by', 'message'];
  const rows = codes.map((c) => [c.code, String(c.status), c.source, c.definedIn, String(c.usedBy.length), c.message]);
  if (format === 'csv') {
    const cell = (text: string): string => (/[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text);
    return `${[header, ...rows].map((row) => row.map(cell).join(',')).join('\n')}\n`;
  }
  if (format === 'markdown') {
    const line = (row: string[]): string => `| ${row.map((cell) => cell.replace(/\|/g, '\\|')).join(' | ')} |`;
    return `${[line(header), `|${header.map(() => '---').join('|')}|`, ...rows.map(line)].join('\n')}\n`;
  }
  const widths = header.map((_, column) => Math.max(...[header, ...rows].map((row) => (column === header.length - 1 ? 0 : row[column].length))));
  const line = (row: string[]): string => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]))).join('  ');
  return `${[line(header), ...rows.map(line)].join('\n')}\n${codes.length} codes (${codes.filter((c) => c.source === 'manual').length} verbatim from the manual)\n`;
}
