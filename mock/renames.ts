import type { Rename } from '../contracts/lib/diff.js';
import type { ServedBinding } from '../contracts/lib/served.js';

/**
 * G-REX's field names and the contract's, both ways, for an operation the
 * mock serves from G-REX's own document with its own handler: requests come
 * in with G-REX's names and reach the handler with the contract's; answers
 * leave with G-REX's.
 */

/** Renames `from` to `to` in every object at `at` (`[]` walks a list), keeping the order of the other keys. */
function renameAt(value: unknown, at: readonly string[], index: number, from: string, to: string): void {
  if (value === null || typeof value !== 'object') return;
  if (index === at.length) {
    const object = value as Record<string, unknown>;
    if (Array.isArray(object) || !Object.hasOwn(object, from)) return;
    const entries = Object.entries(object);
    for (const key of Object.keys(object)) delete object[key];
    for (const [key, item] of entries) object[key === from ? to : key] = item;
    return;
  }
  const step = at[index];
  if (step === '[]') {
    if (Array.isArray(value)) for (const item of value) renameAt(item, at, index + 1, from, to);
    return;
  }
  renameAt((value as Record<string, unknown>)[step], at, index + 1, from, to);
}

const depth = (rename: Rename): number => rename.at.length;

/** A request's parameters and body, renamed in place to the contract's names (outer objects first: `at` is in the contract's names). */
export function toContractNames(binding: ServedBinding, path: Record<string, unknown>, query: Record<string, unknown>, body: unknown): void {
  for (const parameter of binding.parameters) {
    const values = parameter.in === 'path' ? path : parameter.in === 'query' ? query : undefined;
    if (values && Object.hasOwn(values, parameter.theirs)) {
      values[parameter.ours] = values[parameter.theirs];
      delete values[parameter.theirs];
    }
  }
  const renames = binding.renames.filter((rename) => rename.direction === 'request').sort((a, b) => depth(a) - depth(b));
  for (const rename of renames) renameAt(body, rename.at, 0, rename.theirs, rename.ours);
}

/** An answer in G-REX's names: a copy (the handler's objects may be the registry's own), inner objects first. */
export function toServedNames(binding: ServedBinding, status: number, body: unknown): unknown {
  const renames = binding.renames.filter((rename) => rename.direction === 'response' && rename.status === String(status)).sort((a, b) => depth(b) - depth(a));
  if (renames.length === 0 || body === null || typeof body !== 'object') return body;
  const copy = JSON.parse(JSON.stringify(body)) as unknown;
  for (const rename of renames) renameAt(copy, rename.at, 0, rename.ours, rename.theirs);
  return copy;
}
