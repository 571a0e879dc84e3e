import { expect, type Grex } from '../support/fixtures.js';
import type { GetOperation, WriteOperation } from '../support/operations.js';

/**
 * The operation's path with its parameters filled from the collection above
 * it (an account number from the accounts list), read as the same user, or
 * where there is no such collection from the contract's examples (a code
 * list's name and one of its codes); or the reason there is nothing to fill
 * it with.
 */
export async function concretePath(grex: Grex, operation: GetOperation | WriteOperation, as: string | undefined): Promise<{ path: string } | { skip: string }> {
  if (operation.pathParameters.length === 0) return { path: operation.path };
  if (!operation.parent || operation.pathParameters.length !== 1) {
    const missing = operation.pathParameters.filter((name) => operation.pathExamples[name] === undefined);
    if (missing.length) return { skip: `no collection above ${operation.path} and no example in the contract to take ${missing.join(', ')} from` };
    return { path: operation.pathParameters.reduce((path, name) => path.replace(`{${name}}`, encodeURIComponent(operation.pathExamples[name])), operation.path) };
  }
  const parent = operation.parent;
  const list = await grex.session.list(`${operation.contract} ${parent} ${as}`, () => grex.call(operation.contract, 'GET', parent, { as, query: { $top: 5, $skip: 0 } }));
  if (list.response.status === 403 && grex.target.name === 'demo') return { skip: `the signed-in user may not read ${parent} (403), so has no ${operation.pathParameters[0]} to read` };
  await grex.check(`GET ${parent} gives the ${operation.pathParameters[0]} to read`, () => expect(list.response.status, `GET ${parent} as ${as ?? 'anonymous'}`).toBe(200));
  const name = operation.pathParameters[0];
  const item = (list.response.json as Record<string, unknown>[]).find((candidate) => candidate[name] !== undefined && candidate[name] !== null);
  if (!item) return { skip: `${parent} is empty for ${as ?? 'anonymous'}: no ${name} to read` };
  return { path: operation.path.replace(`{${name}}`, encodeURIComponent(String(item[name]))) };
}
