import { generateRegistry } from '../../fixtures/generate.js';
import type { RegistryData } from '../../mock/domain/model.js';
import type { ContractSet } from './load.js';
import type { Operation } from './types.js';

/**
 * Request examples (parameters and bodies) are written for the default
 * fixtures, as one fixture user: the first of common.yaml's
 * `info.x-example-users` whose roles the operation grants. Postman exports
 * put each request in that user's folder, Swagger UI's "Try it out" works
 * with that user's token, and the contract rules check that every id an
 * example names exists in the fixtures.
 */
export interface ExampleUser {
  username: string;
  roles: string[];
  organization: string;
}

let defaults: RegistryData | undefined;

/** The default profile's registry (default seed): what `grex-harness mock` starts from. */
export function defaultFixtures(): RegistryData {
  return (defaults ??= generateRegistry());
}

export function exampleUsers(set: ContractSet, fixtures: RegistryData = defaultFixtures()): ExampleUser[] {
  const names = (set.common.info['x-example-users'] ?? []) as string[];
  return names.map((username) => {
    const user = fixtures.users.find((candidate) => candidate.username === username);
    if (!user) throw new Error(`common.yaml x-example-users: ${username} is not a user of the default fixtures`);
    const organization = fixtures.organizations.find((candidate) => candidate.organizationId === user.organizationId);
    return { username, roles: user.roles, organization: organization?.name ?? user.organizationId };
  });
}

/** The user an operation's examples are written for; null when it is anonymous; undefined when no example user may call it. */
export function exampleUserFor(operation: Operation, users: readonly ExampleUser[]): ExampleUser | null | undefined {
  const grants = operation['x-permissions'] ?? [];
  if (grants.every((grant) => grant.scope === 'public')) return null;
  const granted = new Set(grants.flatMap((grant) => grant.roles));
  return users.find((user) => user.roles.some((role) => granted.has(role)));
}

/** `eolien-root (AH Root, Éolien du Ponant SA)`. */
export const describeUser = (user: ExampleUser): string => `${user.username} (${user.roles.join(', ')}, ${user.organization})`;

/**
 * Every text value of the fixtures (or of any JSON), by field name
 * (`accountNumber`, `gsrn`, `statementId`, `code`, ...), wherever the field
 * occurs: what a parameter of that name may name.
 */
export function fixtureValues(fixtures: unknown): Map<string, Set<string>> {
  const values = new Map<string, Set<string>>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) walk(item);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node)) {
      if (typeof value === 'string') {
        let set = values.get(key);
        if (!set) values.set(key, (set = new Set()));
        set.add(value);
      } else walk(value);
    }
  };
  walk(fixtures);
  return values;
}
