import { compareDocuments, type ParameterRename, type Rename } from './diff.js';
import { loadContracts, type Contract, type ContractSet } from './load.js';
import { operations } from './operations.js';
import { readPulledDocuments } from './pulled.js';
import type { Grant, OpenApiDocument, Operation } from './types.js';

/**
 * How the mock serves an operation of G-REX's own document that the
 * reconstructed contract also has (same method and path): with the
 * contract's handler, permissions and codes, and the fields the diff found
 * renamed mapped both ways. Written into the operation as `x-grex-served`.
 */
export interface ServedBinding {
  /** The reconstructed contract's operationId: the domain handler that answers. */
  handler: string;
  renames: Rename[];
  parameters: ParameterRename[];
}

export const SERVED = 'x-grex-served';

export const bindingOf = (operation: Operation): ServedBinding | undefined => operation[SERVED] as ServedBinding | undefined;

/** An operation and the document its `$ref`s resolve in. */
export interface OperationSource {
  operation: Operation;
  doc: OpenApiDocument;
}

const indexes = new WeakMap<ContractSet, Map<string, OperationSource>>();

/**
 * Where an operation's permissions, codes and list fields come from: the
 * operation itself in a contract, or, in G-REX's own document, the
 * reconstructed operation it binds (G-REX publishes no `x-permissions`);
 * undefined for an operation only G-REX's document has.
 */
export function sourceOf(set: ContractSet, contract: Contract, operation: Operation): OperationSource | undefined {
  if (!contract.pulled) return { operation, doc: contract.doc };
  const binding = bindingOf(operation);
  if (!binding || !set.reconstructed) return undefined;
  let index = indexes.get(set);
  if (!index) {
    index = new Map(set.reconstructed.contracts.flatMap((own) => operations(own.doc).map((ref): [string, OperationSource] => [String(ref.operation.operationId), { operation: ref.operation, doc: own.doc }])));
    indexes.set(set, index);
  }
  return index.get(binding.handler);
}

/**
 * Who may call an operation: its grants, and whether it takes no token. An
 * operation without grants (only G-REX's document has it) is anonymous
 * unless its security asks for a token; then any signed-in user may call it.
 */
export function accessOf(set: ContractSet, contract: Contract, operation: Operation): { grants: Grant[]; anonymous: boolean } {
  const grants = sourceOf(set, contract, operation)?.operation['x-permissions'] ?? [];
  if (grants.length) return { grants, anonymous: grants.every((grant) => grant.scope === 'public') };
  const security = (operation.security ?? contract.doc.security ?? []) as Record<string, unknown>[];
  return { grants, anonymous: !security.some((requirement) => Object.keys(requirement).length > 0) };
}

/** `get` `/publicreportsapi/Auctions` -> `getPublicreportsapiAuctions`: an id for an operation published without one. */
const idFor = (method: string, path: string): string =>
  method + path.replace(/[{}]/g, '').split(/[^A-Za-z0-9]+/).filter(Boolean).map((part) => part[0].toUpperCase() + part.slice(1)).join('');

/**
 * The contracts the mock serves: the reconstructed ones (without `dir`), or,
 * API by API, G-REX's own documents from `dir` (`contracts pull`, or saved by
 * hand) where there is one. B2C is Microsoft's and always the contract's.
 */
export async function loadServedContracts(dir?: string): Promise<ContractSet> {
  const reconstructed = loadContracts();
  if (!dir) return reconstructed;
  const pulled = await readPulledDocuments(dir, reconstructed.contracts.filter((contract) => contract.grex.postmanVariable).map((contract) => contract.grex));
  const contracts = reconstructed.contracts.map((contract): Contract => {
    const document = pulled.find((candidate) => candidate.grex.api === contract.grex.api);
    if (!document) return contract;
    const doc = structuredClone(document.doc);
    doc.info = { ...doc.info, 'x-grex': contract.grex } as OpenApiDocument['info'];
    const comparison = compareDocuments(contract.doc, doc);
    for (const match of comparison.matches) {
      const binding: ServedBinding = { handler: String(match.ours.operation.operationId), renames: match.renames, parameters: match.parameters };
      match.theirs.operation[SERVED] = binding;
      match.theirs.operation.operationId ??= binding.handler;
    }
    for (const ref of operations(doc)) ref.operation.operationId ??= idFor(ref.method, ref.path);
    return {
      name: contract.name,
      file: document.file,
      grex: contract.grex,
      raw: doc,
      doc,
      pulled: {
        file: document.file,
        format: document.format,
        original: document.original,
        source: document.source,
        pulledAt: document.pulledAt,
        notServed: comparison.missing.map((ref) => String(ref.operation.operationId)),
      },
    };
  });
  return { ...reconstructed, dir, contracts, reconstructed };
}

/** `a, b, c` wrapped at about 100 characters, each line indented. */
function wrapped(items: string[], indent: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const item of items) {
    const next = line ? `${line}, ${item}` : item;
    if (next.length + indent.length > 100 && line) {
      lines.push(`${indent}${line},`);
      line = item;
    } else line = next;
  }
  if (line) lines.push(`${indent}${line}`);
  return lines;
}

/** What the mock serves from where, for its banner: per G-REX document, the operations with a handler, those answered from examples, and what is not served. */
export function servedSummary(set: ContractSet): string[] {
  const pulled = set.contracts.filter((contract) => contract.pulled);
  if (pulled.length === 0) return [];
  const rest = set.contracts.filter((contract) => !contract.pulled).map((contract) => contract.grex.api);
  const lines = [`Contracts: G-REX's own documents from ${set.dir} for ${pulled.map((contract) => contract.grex.api).join(', ')}; the reconstructed contracts for ${rest.join(', ')}.`];
  for (const contract of pulled) {
    const origin = contract.pulled as NonNullable<Contract['pulled']>;
    const from = origin.source ? `, pulled ${origin.pulledAt} from ${origin.source}` : '';
    lines.push(`  ${contract.doc.info.title} (${contract.grex.api} ${contract.grex.version}): ${origin.file}, ${origin.format}${from}`);
    const refs = operations(contract.doc);
    const handled = refs.filter((ref) => bindingOf(ref.operation));
    const examples = refs.filter((ref) => !bindingOf(ref.operation));
    const label = (ref: (typeof refs)[number]): string => {
      const binding = bindingOf(ref.operation);
      const renamed = [...(binding?.renames ?? []), ...(binding?.parameters.filter((parameter) => parameter.in !== 'path') ?? [])];
      const names = [...new Set(renamed.map((rename) => `${rename.theirs}=${rename.ours}`))];
      const notes = [...(binding && binding.handler !== ref.operation.operationId ? [`handler ${binding.handler}`] : []), ...(names.length ? [`renamed: ${names.join(' ')}`] : [])];
      return `${ref.operation.operationId}${notes.length ? ` (${notes.join('; ')})` : ''}`;
    };
    lines.push(`    with the mock's handlers (${handled.length}):`, ...wrapped(handled.map(label), '      '));
    if (examples.length) lines.push(`    from the document's examples (${examples.length}):`, ...wrapped(examples.map((ref) => `${ref.operation.operationId} (${ref.method.toUpperCase()} ${ref.path})`), '      '));
    if (origin.notServed.length) lines.push(`    not in the document, not served (${origin.notServed.length}):`, ...wrapped(origin.notServed, '      '));
  }
  return lines;
}
