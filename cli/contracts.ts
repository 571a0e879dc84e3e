import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { compareDocuments, type OperationDifference } from '../contracts/lib/diff.js';
import { loadContracts } from '../contracts/lib/load.js';
import { PulledError, readPulledDocuments } from '../contracts/lib/pulled.js';
import { command, flag, type Values } from './command.js';

const fail = (message: string): number => {
  process.stderr.write(`grex-harness contracts: ${message}\n`);
  return 2;
};

/** The six G-REX APIs of the contracts: name and documentation version. */
const grexApis = () => loadContracts().contracts.filter((contract) => contract.grex.postmanVariable);

const PULL_FLAGS = {
  target: flag.required('T', 'demo, prod, or the URL of a server with the APIs', 'demo, prod or a URL such as http://127.0.0.1:4600'),
  out: flag.text('DIR', 'folder (default reports/contracts-pulled/<host>, e.g.\nreports/contracts-pulled/eexfrancedemoapi.grexel.com)'),
  timeout: flag.seconds('time limit per request in seconds (default 30)', { min: 0.001, max: 3600, fallback: 30 }),
  'max-wait': flag.seconds('longest Retry-After to wait out after a 429\n(default 120); a longer one stops the pull', { min: 0, max: 86_400, fallback: 120 }),
};

export const contractsPullCommand = command({
  name: 'contracts pull',
  summary:
    "Fetch each API's swagger.json ({BaseURI}/v{n}/swagger.json, manual\nchapter 5), one request each, keep it as it came (original/) with its\nsource and date (pull.json), and convert Swagger 2.0 to OpenAPI 3.0\nbeside it. Then: contracts diff DIR, mock --contracts DIR.",
  usage: '--target demo|prod|URL [--out DIR] [--timeout S] [--max-wait S]',
  flags: PULL_FLAGS,
  exits: [
    [0, 'all six pulled'],
    [1, 'some failed (each says why)'],
    [2, 'usage error'],
  ],
  run: (values) => pull(values),
});

async function pull(values: Values<typeof PULL_FLAGS>): Promise<number> {
  // Loaded here only: the HTTP client and the proxy's targets are not needed to start the mock.
  const [{ resolveTarget }, { pullContracts }] = await Promise.all([import('../grader/proxy.js'), import('../contracts/lib/pull.js')]);
  const target = resolveTarget(values.target);
  if (typeof target === 'string') return fail(target);
  if (values.out !== undefined && existsSync(values.out) && !statSync(values.out).isDirectory()) return fail(`--out ${values.out} is a file, not a folder`);
  const timeout = values.timeout;
  const maxWait = values['max-wait'];
  // Named after the host the documents come from, as the README's commands expect (`eexfrancedemoapi.grexel.com`, `127.0.0.1-4600`).
  const out = resolve(values.out ?? join('reports', 'contracts-pulled', new URL(target.api).host.replace(/[^A-Za-z0-9.-]+/g, '-')));
  const apis = grexApis().map((contract) => contract.grex);
  process.stdout.write(`Pulling ${apis.length} swagger.json documents from ${target.api} into ${out}\n`);
  const manifest = await pullContracts({ origin: target.api, target: values.target, apis, out, timeoutMs: timeout * 1000, maxWaitMs: maxWait * 1000, log: (line) => process.stdout.write(`  ${line}\n`) });
  const pulled = manifest.documents.length;
  process.stdout.write(
    pulled
      ? `${pulled} of ${apis.length} pulled (${join(out, 'pull.json')}).${manifest.failures.length ? ` ${manifest.failures.length} failed.` : ''}\nNext: grex-harness contracts diff ${out}\n      grex-harness mock --contracts ${out}\n`
      : `Nothing pulled (${manifest.failures.length} failed); nothing written.\n`,
  );
  return manifest.failures.length ? 1 : 0;
}

interface ApiDiff {
  api: string;
  version: string;
  title: string;
  file: string;
  format: string;
  source?: string;
  pulledAt?: string;
  matched: number;
  onlyInGrex: number;
  onlyInContract: number;
  breaking: number;
  nonBreaking: number;
  differences: OperationDifference[];
}

function diffText(dir: string, apis: ApiDiff[], notPulled: string[]): string {
  const lines: string[] = [];
  for (const api of apis) {
    const origin = api.source ? `, pulled ${api.pulledAt} from ${api.source}` : '';
    lines.push(`${api.title} (${api.api} ${api.version}): ${api.file} (${api.format}${origin})`);
    lines.push(
      `  ${api.matched} operations in both, ${api.onlyInGrex} only in G-REX, ${api.onlyInContract} only in the contract; ${api.breaking} breaking, ${api.nonBreaking} non-breaking differences`,
    );
    for (const item of api.differences) lines.push(`  ${item.impact.padEnd(12)}  ${item.operation}  ${item.method} ${item.path}  ${item.text}`);
  }
  if (notPulled.length) lines.push(`Not in ${dir} (not compared): ${notPulled.join(', ')}`);
  const breaking = apis.reduce((sum, api) => sum + api.breaking, 0);
  const nonBreaking = apis.reduce((sum, api) => sum + api.nonBreaking, 0);
  lines.push(`Total: ${breaking} breaking, ${nonBreaking} non-breaking differences in ${apis.length} document${apis.length === 1 ? '' : 's'}.`);
  return `${lines.join('\n')}\n`;
}

const DIFF_FLAGS = {
  format: flag.choice('F', 'text (default) or json', ['text', 'json'], 'text'),
};

export const contractsDiffCommand = command({
  name: 'contracts diff',
  summary:
    'The pulled documents (or swagger.json files saved by hand in DIR)\nagainst the contracts, operation by operation: paths and methods,\nparameters, bodies (fields, types, required, enums), statuses and\nresponseCode values, each classed breaking for a client or not.',
  usage: 'DIR [--format text|json]',
  flags: DIFF_FLAGS,
  positionals: true,
  exits: [
    [0, 'nothing breaking'],
    [1, 'breaking differences'],
    [2, 'usage error or an unreadable folder'],
  ],
  run: (values, { positionals }) => diff(values, positionals),
});

async function diff({ format }: Values<typeof DIFF_FLAGS>, positionals: string[]): Promise<number> {
  if (positionals.length !== 1) return fail('diff needs one folder: grex-harness contracts diff DIR (what contracts pull wrote, or swagger.json files saved by hand)');
  const dir = positionals[0];
  const contracts = grexApis();
  let documents;
  try {
    documents = await readPulledDocuments(dir, contracts.map((contract) => contract.grex));
  } catch (error) {
    if (error instanceof PulledError) return fail(error.message);
    throw error;
  }
  const apis: ApiDiff[] = documents.map((document) => {
    const contract = contracts.find((candidate) => candidate.grex.api === document.grex.api);
    const comparison = compareDocuments(contract?.doc ?? document.doc, document.doc);
    const breaking = comparison.differences.filter((item) => item.impact === 'breaking').length;
    return {
      api: document.grex.api,
      version: document.grex.version,
      title: contract?.doc.info.title ?? document.grex.api,
      file: document.file,
      format: document.format,
      ...(document.source ? { source: document.source, pulledAt: document.pulledAt } : {}),
      matched: comparison.matches.length,
      onlyInGrex: comparison.added.length,
      onlyInContract: comparison.missing.length,
      breaking,
      nonBreaking: comparison.differences.length - breaking,
      differences: comparison.differences,
    };
  });
  const notPulled = contracts.filter((contract) => !documents.some((document) => document.grex.api === contract.grex.api)).map((contract) => `${contract.grex.api} ${contract.grex.version}`);
  const breaking = apis.reduce((sum, api) => sum + api.breaking, 0);
  if (format === 'json') {
    const nonBreaking = apis.reduce((sum, api) => sum + api.nonBreaking, 0);
    process.stdout.write(`${JSON.stringify({ dir, breaking, nonBreaking, apis, notPulled }, null, 2)}\n`);
  } else {
    process.stdout.write(diffText(dir, apis, notPulled));
  }
  return breaking ? 1 : 0;
}
