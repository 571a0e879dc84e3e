import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONTRACTS_DIR, type Contract } from './load.js';

export interface PostmanCollection {
  info: { name: string; schema: string; [key: string]: unknown };
  item: unknown[];
  variable?: { key: string; value?: unknown }[];
  auth?: unknown;
  [key: string]: unknown;
}

/**
 * Converts one contract into a Postman collection with openapi-to-postmanv2,
 * then wires it to the manual's Postman environments (App. 1 and 4): requests
 * use `{{BaseURI…API}}` and the collection authorises with `{{Token}}`, which
 * is what chapter 2.2.3.1 asks users to set by hand.
 */
export async function toPostman(contract: Contract): Promise<PostmanCollection> {
  return wire(prebuiltConversion(contract) ?? (await convert(contract)), contract);
}

/**
 * The converter's collections, made by `npm run build` for the bundled
 * contracts: openapi-to-postmanv2 is a build-time tool (about a hundred
 * packages), not something the installed tool carries. Each is keyed by the
 * document it came from, so a changed contract is converted again.
 */
export const PREBUILT_POSTMAN = 'postman.converted.json';

export const documentHash = (contract: Contract): string => createHash('sha1').update(JSON.stringify(contract.doc)).digest('hex');

let prebuilt: Record<string, { hash: string; collection: PostmanCollection }> | undefined;

function prebuiltConversion(contract: Contract): PostmanCollection | undefined {
  try {
    prebuilt ??= JSON.parse(readFileSync(join(CONTRACTS_DIR, PREBUILT_POSTMAN), 'utf8')) as NonNullable<typeof prebuilt>;
  } catch {
    prebuilt = {};
  }
  const kept = prebuilt[contract.name];
  return kept?.hash === documentHash(contract) ? kept.collection : undefined;
}

/** The contract through openapi-to-postmanv2, unwired. */
export async function convert(contract: Contract): Promise<PostmanCollection> {
  let converter: typeof import('openapi-to-postmanv2').default;
  try {
    converter = (await import('openapi-to-postmanv2')).default;
  } catch {
    throw new Error(`${contract.name}: not one of the contracts converted at build time, and openapi-to-postmanv2 (a development dependency) is not installed`);
  }
  return new Promise((resolve, reject) => {
    converter.convertV2(
      { type: 'json', data: contract.doc },
      { folderStrategy: 'Tags', parametersResolution: 'Example', requestNameSource: 'Fallback' },
      (error, result) => {
        if (error) return reject(new Error(`${contract.name}: ${error.message}`));
        const output = result?.output?.[0];
        if (!result?.result || !output) return reject(new Error(`${contract.name}: ${result?.reason ?? 'conversion failed'}`));
        resolve(output.data as PostmanCollection);
      },
    );
  });
}

function wire(collection: PostmanCollection, contract: Contract): PostmanCollection {
  const variable = contract.grex.postmanVariable;
  if (!variable) return collection;
  const text = JSON.stringify(collection).replaceAll('{{baseUrl}}', `{{${variable}}}`);
  const wired = JSON.parse(text) as PostmanCollection;
  wired.variable = (wired.variable ?? []).filter((entry) => entry.key !== 'baseUrl');
  wired.auth = { type: 'bearer', bearer: [{ key: 'token', value: '{{Token}}', type: 'string' }] };
  return wired;
}

/** A Postman environment in the shape of the manual's Appendix 1, pointing at a running mock. */
export function mockEnvironment(contracts: Contract[], baseUrl: string): object {
  const values = [
    { key: 'Token', value: '', type: 'secret', enabled: true },
    ...contracts
      .filter((contract) => contract.grex.postmanVariable)
      .map((contract) => ({ key: contract.grex.postmanVariable, value: `${baseUrl}/${contract.grex.api}`, enabled: true })),
  ];
  return { name: 'G-REX LOCAL grex-harness mock', values, _postman_variable_scope: 'environment' };
}
