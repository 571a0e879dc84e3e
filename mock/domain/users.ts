import { AH_ROLES } from '../../fixtures/users.js';
import type { User } from './model.js';
import { refuse, type Refusal, type Registry, type Writer } from './registry.js';

export interface NewUser {
  username: string;
  displayName: string;
  email: string;
  phoneNumber?: string;
  roles: string[];
}

const ACCOUNT_HOLDER_ROLES: ReadonlySet<string> = new Set(AH_ROLES);

/**
 * Invites a user into the writer's organisation. The user stays `Invited`
 * (and cannot sign in) until the B2C sign-up is completed, which the mock
 * does not model. Usernames and e-mail addresses are unique in the registry,
 * whatever their case.
 */
export function inviteUser(registry: Registry, writer: Writer, request: NewUser): User | Refusal {
  if (!request.roles.every((role) => ACCOUNT_HOLDER_ROLES.has(role))) return refuse('USER_005');
  const email = request.email.toLowerCase();
  const taken = registry.usersByName.has(request.username.toLowerCase()) || [...registry.users.values()].some((user) => user.email.toLowerCase() === email);
  if (taken) return refuse('USER_006');
  const user: User = {
    userId: registry.newId(),
    username: request.username,
    displayName: request.displayName,
    email: request.email,
    ...(request.phoneNumber !== undefined ? { phoneNumber: request.phoneNumber } : {}),
    organizationId: writer.organizationId,
    roles: request.roles,
    status: 'Invited',
    createdAt: registry.now(),
  };
  registry.users.set(user.userId, user);
  registry.usersByName.set(user.username.toLowerCase(), user);
  registry.touch('users', user);
  return user;
}
