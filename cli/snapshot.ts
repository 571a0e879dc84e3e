import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { STATE_FORMAT } from '../mock/state/document.js';
import { command, flag } from './command.js';

const SNAPSHOT_FLAGS = {
  base: flag.text('URL', 'the mock (default http://127.0.0.1:4600)', 'http://127.0.0.1:4600'),
};

const fail = (message: string, code = 2): number => {
  process.stderr.write(`grex-harness snapshot: ${message}\n`);
  return code;
};

/** The mock's URL and the one FILE, or why not (one line, exit 2). */
function target(base: string, positionals: string[], action: string): { base: URL; file: string } | number {
  if (positionals.length !== 1) return fail(`${action} needs one FILE: grex-harness snapshot ${action} [--base URL] FILE`);
  try {
    return { base: new URL(base), file: positionals[0] };
  } catch {
    return fail(`--base must be the mock's URL, such as http://127.0.0.1:4600, got "${base}"`);
  }
}

/** `grex-harness snapshot save [--base URL] FILE`: POST /__admin/snapshot, written to FILE. */
export const snapshotSaveCommand = command({
  name: 'snapshot save',
  summary: "Save a running mock's whole state to FILE (POST /__admin/snapshot:\nJSON with its format version): a prepared situation to hand over,\na state to go back to.",
  usage: '[--base URL] FILE',
  flags: SNAPSHOT_FLAGS,
  positionals: true,
  exits: [
    [0, 'saved'],
    [2, 'usage error, an unwritable file or no mock at the address'],
  ],
  run: (values, { positionals }) => {
    const chosen = target(values.base, positionals, 'save');
    return typeof chosen === 'number' ? chosen : save(chosen.base, chosen.file);
  },
});

/** `grex-harness snapshot load [--base URL] FILE`: FILE to POST /__admin/restore. */
export const snapshotLoadCommand = command({
  name: 'snapshot load',
  summary: "Replace a running mock's state with FILE (POST /__admin/restore),\nall at once: a malformed or inconsistent document is refused with\nits problems, and the mock's state stays as it was.",
  usage: '[--base URL] FILE',
  flags: SNAPSHOT_FLAGS,
  positionals: true,
  exits: [
    [0, 'the state is replaced'],
    [1, 'the mock refused the document (its problems listed); state unchanged'],
    [2, 'usage error, an unreadable file or no mock at the address'],
  ],
  run: (values, { positionals }) => {
    const chosen = target(values.base, positionals, 'load');
    return typeof chosen === 'number' ? chosen : load(chosen.base, chosen.file);
  },
});

async function call(base: URL, path: string, body?: string): Promise<{ status: number; text: string } | string> {
  try {
    const response = await fetch(new URL(path, base), { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body });
    return { status: response.status, text: await response.text() };
  } catch (error) {
    return `no mock answers at ${base.origin} (${(error as Error & { cause?: Error }).cause?.message ?? (error as Error).message})`;
  }
}

async function save(base: URL, file: string): Promise<number> {
  const answer = await call(base, '/__admin/snapshot');
  if (typeof answer === 'string') return fail(answer);
  if (answer.status !== 200) return fail(`${base.origin} answered ${answer.status} to POST /__admin/snapshot: ${answer.text.slice(0, 300)}`);
  const document = stateDocument(answer.text);
  if (!document) return fail(`${base.origin} answered POST /__admin/snapshot with no state document (is it a grex-harness mock?); ${file} is unchanged`);
  // Written beside and renamed: a file being replaced is never left half-written.
  const partial = `${file}.partial`;
  try {
    writeFileSync(partial, answer.text.endsWith('\n') ? answer.text : `${answer.text}\n`);
    renameSync(partial, file);
  } catch (error) {
    return fail(`${file}: ${(error as Error).message}`);
  }
  const { clock, registry } = document;
  process.stdout.write(`${file}: the state of ${base.origin} at ${clock} (${registry.bundles.length} bundles, ${registry.transactions.length} transactions)\n`);
  return 0;
}

/** The answer as a state document (its mark and the lists the summary counts), or undefined when it is something else. */
function stateDocument(text: string): { clock: string; registry: { bundles: unknown[]; transactions: unknown[] } } | undefined {
  let value: { format?: unknown; clock?: unknown; registry?: { bundles?: unknown; transactions?: unknown } };
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const { format, clock, registry } = value ?? {};
  if (format !== STATE_FORMAT || typeof clock !== 'string' || !Array.isArray(registry?.bundles) || !Array.isArray(registry?.transactions)) return undefined;
  return value as { clock: string; registry: { bundles: unknown[]; transactions: unknown[] } };
}

async function load(base: URL, file: string): Promise<number> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    return fail(`${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  const answer = await call(base, '/__admin/restore', text);
  if (typeof answer === 'string') return fail(answer);
  let body: { problems?: string[]; error?: string; now?: string };
  try {
    body = JSON.parse(answer.text);
  } catch {
    return fail(`${base.origin} answered ${answer.status} to POST /__admin/restore: ${answer.text.slice(0, 300)}`);
  }
  // 400 (malformed or inconsistent) and 413 (over the admin API's limit) list their problems; the state is unchanged either way.
  if ((answer.status === 400 || answer.status === 413) && Array.isArray(body.problems)) return fail(`${base.origin} refused ${file}; its state is unchanged:\n  ${body.problems.join('\n  ')}`, 1);
  if (answer.status !== 200) return fail(`${base.origin} answered ${answer.status} to POST /__admin/restore: ${body.error ?? answer.text.slice(0, 300)}`);
  process.stdout.write(`${base.origin}: state replaced by ${file}, clock at ${body.now}\n`);
  return 0;
}
