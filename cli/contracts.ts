import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { compareDocuments, type OperationDifference } from '../contracts/lib/diff.js';
import { loadContracts } from '../contracts/lib/load.js';
import { PulledError, readPulledDocuments } from '../contracts/lib/pulled.js';

export const CONTRACTS_HELP = `  contracts Read G-REX's own API documents and compare them with the contracts.
            pull: fetch each API's swagger.json ({BaseURI}/v{n}/swagger.json,
            manual chapter 5), one request each, keep it as it came (original/)
            with its source and date (pull.json), and convert Swagger 2.0 to
            OpenAPI 3.0 beside it.
              grex-harness contracts pull --target demo|prod|URL [--out DIR]
              --target T   demo, prod, or the URL of a server with the APIs
              --out DIR    folder (default reports/contracts-pulled/<target>)
              --timeout S  time limit per request in seconds (default 30)
              --max-wait S longest Retry-After to wait out after a 429
                           (default 120); a longer one stops the pull
            Exit: 0 all six pulled, 1 some failed (each says why), 2 usage.
            diff: the pulled documents (or swagger.json files saved by hand
            in DIR) against the contracts, operation by operation: paths and
            methods, parameters, bodies (fields, types, required, enums),
            statuses and responseCode values, each classed breaking for a
            client or not.
              grex-harness contracts diff DIR [--format text|json]
            Exit: 0 nothing breaking, 1 breaking differences, 2 usage or an
            unreadable folder.
            Serve the pulled documents: grex-harness mock --contracts DIR.
`;

const fail = (message: string): number => {
  process.stderr.write(`grex-harness contracts: ${message}\n`);
  return 2;
};

function options(args: string[], spec: NonNullable<ParseArgsConfig['options']>): { values: Record<string, string | boolean | undefined>; positionals: string[] } | string {
  try {
    const { values, positionals } = parseArgs({ args, options: spec, allowPositionals: true });
    return { values: values as Record<string, string | boolean | undefined>, positionals };
  } catch (error) {
    return `${(error as Error).message.split('\n')[0]} (grex-harness help)`;
  }
}

const seconds = (text: string | undefined, min: number, max: number): number | null => {
  const value = Number(text);
  return text !== undefined && text.trim() !== '' && Number.isFinite(value) && value >= min && value <= max ? value : null;
};

/** The six G-REX APIs of the contracts: name and documentation version. */
const grexApis = () => loadContracts().contracts.filter((contract) => contract.grex.postmanVariable);

async function pull(args: string[]): Promise<number> {
  const parsed = options(args, { target: { type: 'string' }, out: { type: 'string' }, timeout: { type: 'string', default: '30' }, 'max-wait': { type: 'string', default: '120' } });
  if (typeof parsed === 'string') return fail(parsed);
  if (parsed.positionals.length) return fail(`pull takes no arguments, got "${parsed.positionals.join(' ')}"`);
  const targetText = parsed.values.target as string | undefined;
  if (!targetText) return fail('pull needs --target: demo, prod or a URL such as http://127.0.0.1:4600');
  // Loaded here only: the HTTP client and the proxy's targets are not needed to start the mock.
  const [{ resolveTarget }, { pullContracts }] = await Promise.all([import('../grader/proxy.js'), import('../contracts/lib/pull.js')]);
  const target = resolveTarget(targetText);
  if (typeof target === 'string') return fail(target);
  const timeout = seconds(parsed.values.timeout as string, 0.001, 3600);
  if (timeout === null) return fail(`--timeout must be a number of seconds above 0, got "${parsed.values.timeout}"`);
  const maxWait = seconds(parsed.values['max-wait'] as string, 0, 86_400);
  if (maxWait === null) return fail(`--max-wait must be a number of seconds from 0 to 86400, got "${parsed.values['max-wait']}"`);
  const out = resolve((parsed.values.out as string | undefined) ?? join('reports', 'contracts-pulled', target.name.replace(/^https?:\/\//, '').replace(/[^A-Za-z0-9.-]+/g, '-')));
  mkdirSync(out, { recursive: true });
  const apis = grexApis().map((contract) => contract.grex);
  process.stdout.write(`Pulling ${apis.length} swagger.json documents from ${target.api} into ${out}\n`);
  const manifest = await pullContracts({ origin: target.api, target: targetText, apis, out, timeoutMs: timeout * 1000, maxWaitMs: maxWait * 1000, log: (line) => process.stdout.write(`  ${line}\n`) });
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

async function diff(args: string[]): Promise<number> {
  const parsed = options(args, { format: { type: 'string', default: 'text' } });
  if (typeof parsed === 'string') return fail(parsed);
  const format = parsed.values.format;
  if (format !== 'text' && format !== 'json') return fail(`--format must be text or json, got "${format}"`);
  if (parsed.positionals.length !== 1) return fail('diff needs one folder: grex-harness contracts diff DIR (what contracts pull wrote, or swagger.json files saved by hand)');
  const dir = parsed.positionals[0];
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

/** `grex-harness contracts pull|diff`. */
export async function contractsCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'pull':
      return pull(rest);
    case 'diff':
      return diff(rest);
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(CONTRACTS_HELP);
      return 0;
    case undefined:
      process.stderr.write(`grex-harness contracts: pull or diff?\n\n${CONTRACTS_HELP}`);
      return 2;
    default:
      return fail(`unknown subcommand "${sub}": pull or diff (grex-harness contracts --help)`);
  }
}
