import type { CodeListEntry, CodeListName } from './model.js';
import { refuse, type Refusal, type Registry } from './registry.js';

/** A list as the Master Data API serves it: every entry, active or not, ordered by code. */
export function codeList(registry: Registry, list: CodeListName): CodeListEntry[] {
  return [...registry.codeLists[list]].sort((a, b) => a.code.localeCompare(b.code));
}

/** A code still usable in new writes (accounts, devices, cancellations, exports). */
export function isActiveCode(registry: Registry, list: CodeListName, code: string): boolean {
  return registry.code(list, code)?.active === true;
}

export interface CodeUpdate {
  name: string;
  description?: string | null;
  active: boolean;
}

/**
 * The Super User's maintenance of one code. The code and its list-specific
 * data (trading schemes, AIB membership, ...) stay; a PUT replaces the rest,
 * so a description left out is cleared. Records already using the code keep it.
 */
export function updateCode(registry: Registry, list: CodeListName, code: string, update: CodeUpdate): CodeListEntry | Refusal {
  const entry = registry.code(list, code);
  if (!entry) return refuse('MASTERDATA_001', { 'Code List': list, Code: code });
  entry.name = update.name;
  // The model keeps no null description: an absent one reads as the contract's null.
  if (update.description === undefined || update.description === null) delete entry.description;
  else entry.description = update.description;
  entry.active = update.active;
  registry.touchField('codeLists');
  return entry;
}
