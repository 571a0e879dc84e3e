import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

export const SNAPSHOT_HELP = `  snapshot  Save a running mock's whole state to a file, or replace its state
            with one (a prepared situation handed over, a state to go back to).
              grex-harness snapshot save|load [--base URL] FILE
              --base URL   the mock (default http://127.0.0.1:4600)
            save: POST /__admin/snapshot, written to FILE (JSON, with its format
            version). load: FILE to POST /__admin/restore; a malformed or
            inconsistent document is refused with its problems and the mock's
            state stays as it was.
            Exit: 0 done, 1 the mock refused the document, 2 usage error, an
            unreadable file or no mock at the address.
`;

const fail = (message: string, code = 2): number => {
  process.stderr.write(`grex-harness snapshot: ${message}\n`);
  return code;
};

/** `grex-harness snapshot save|load [--base URL] FILE`: the admin API's snapshot and restore, from the command line. */
export async function snapshotCommand(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: { base: { type: 'string', default: 'http://127.0.0.1:4600' }, help: { type: 'boolean' } } });
  } catch (error) {
    return fail(`${(error as Error).message}\n\n${SNAPSHOT_HELP}`);
  }
  if (parsed.values.help) {
    process.stdout.write(SNAPSHOT_HELP);
    return 0;
  }
  const [action, file, ...extra] = parsed.positionals;
  if ((action !== 'save' && action !== 'load') || !file || extra.length) return fail(`give save or load, and one FILE\n\n${SNAPSHOT_HELP}`);
  let base: URL;
  try {
    base = new URL(parsed.values.base ?? '');
  } catch {
    return fail(`--base must be the mock's URL, such as http://127.0.0.1:4600, got "${parsed.values.base}"`);
  }
  return action === 'save' ? save(base, file) : load(base, file);
}

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
  // Written beside and renamed: a file being replaced is never left half-written.
  const partial = `${file}.partial`;
  try {
    writeFileSync(partial, answer.text.endsWith('\n') ? answer.text : `${answer.text}\n`);
    renameSync(partial, file);
  } catch (error) {
    return fail(`${file}: ${(error as Error).message}`);
  }
  const { clock, registry } = JSON.parse(answer.text) as { clock: string; registry: { bundles: unknown[]; transactions: unknown[] } };
  process.stdout.write(`${file}: the state of ${base.origin} at ${clock} (${registry.bundles.length} bundles, ${registry.transactions.length} transactions)\n`);
  return 0;
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
  if (answer.status === 400 && body.problems) return fail(`${base.origin} refused ${file}; its state is unchanged:\n  ${body.problems.join('\n  ')}`, 1);
  if (answer.status !== 200) return fail(`${base.origin} answered ${answer.status} to POST /__admin/restore: ${body.error ?? answer.text.slice(0, 300)}`);
  process.stdout.write(`${base.origin}: state replaced by ${file}, clock at ${body.now}\n`);
  return 0;
}
