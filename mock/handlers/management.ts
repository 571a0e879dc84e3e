import { openAccount, setLock, updateAccount, type AccountUpdate, type NewAccount } from '../domain/accounts.js';
import { decideDevice, decisionProblems, newDeviceProblems, registerDevice, submitDevice, type DeviceDecision, type NewDevice } from '../domain/devices.js';
import { isValidGsrn, type Account, type ProductionDevice } from '../domain/model.js';
import { isRefusal, refuse, type Refusal } from '../domain/registry.js';
import { inviteUser, type NewUser } from '../domain/users.js';
import { answer, callerOf, code, found, invalid, list, writerOf, type Handler, type Reply, type RequestContext } from './kit.js';

interface Owned {
  organizationId: string;
}

/** A domain grant reaches every organisation; any other grant only the caller's own. */
function inGrant(context: RequestContext, record: Owned): boolean {
  const caller = callerOf(context);
  return caller.scope === 'domain' || record.organizationId === caller.organization.organizationId;
}

/** The records of a collection the caller may see, in the order the contract gives (before `$orderby`). */
function visible<T extends Owned>(context: RequestContext, records: Iterable<T>, order: (record: T) => string): Reply {
  return list([...records].filter((record) => inGrant(context, record)).sort((a, b) => order(a).localeCompare(order(b))));
}

/** One record by its key, in the contracts' order: 404 `{AREA}_001` when none has the key, then 403 `{AREA}_003` outside the grant. */
function reach<T extends Owned>(context: RequestContext, record: T | undefined, area: string, key: Record<string, string>): T | Refusal {
  if (!record) return refuse(`${area}_001`, key);
  return inGrant(context, record) ? record : refuse(`${area}_003`);
}

const accountIn = (context: RequestContext) => {
  const accountNumber = String(context.path.accountNumber);
  return reach(context, context.registry.accounts.get(accountNumber), 'ACCOUNT', { 'Account Number': accountNumber });
};

/** The GSRN's check digit is checked before the device is looked up (DEVICE_005, then DEVICE_001 and DEVICE_003). */
const deviceIn = (context: RequestContext): ProductionDevice | Refusal => {
  const gsrn = String(context.path.gsrn);
  if (!isValidGsrn(gsrn)) return refuse('DEVICE_005');
  return reach(context, context.registry.devices.get(gsrn), 'DEVICE', { GSRN: gsrn });
};

const userIn = (context: RequestContext) => {
  const userId = String(context.path.userId);
  return reach(context, context.registry.users.get(userId), 'USER', { 'User Id': userId });
};

const organizationIn = (context: RequestContext) => {
  const organizationId = String(context.path.organizationId);
  return reach(context, context.registry.organizations.get(organizationId), 'ORGANIZATION', { 'Organization Id': organizationId });
};

const getAccounts: Handler = (context) => visible(context, context.registry.accounts.values(), (account) => account.accountNumber);
const getAccount: Handler = (context) => found(accountIn(context));
const getDevices: Handler = (context) => visible(context, context.registry.devices.values(), (device) => device.gsrn);
const getDevice: Handler = (context) => found(deviceIn(context));
const getUsers: Handler = (context) => visible(context, context.registry.users.values(), (user) => user.username);
const getUser: Handler = (context) => found(userIn(context));
const getOrganizations: Handler = (context) => visible(context, context.registry.organizations.values(), (organization) => organization.name);
const getOrganization: Handler = (context) => found(organizationIn(context));

const accountUpdated = (account: Account): Reply => code('ACCOUNT_202', { 'Account Number': account.accountNumber });
const deviceUpdated = (device: ProductionDevice): Reply => code('DEVICE_202', { GSRN: device.gsrn });

export const managementHandlers: Record<string, Handler> = {
  ahGetAccounts: getAccounts,
  ibGetAccounts: getAccounts,
  ahGetAccount: getAccount,
  ibGetAccount: getAccount,
  ahCreateAccount: (context) =>
    answer(openAccount(context.registry, writerOf(context), context.body as NewAccount), (account) => code('ACCOUNT_201', { 'Account Number': account.accountNumber })),
  ahUpdateAccount: (context) => {
    const account = accountIn(context);
    return isRefusal(account) ? account : answer(updateAccount(context.registry, account, context.body as AccountUpdate), accountUpdated);
  },
  ibLockAccount: (context) => {
    const account = accountIn(context);
    if (isRefusal(account)) return account;
    return answer(setLock(context.registry, account, (context.body as { locked: boolean }).locked), (locked) =>
      code(locked.isLocked ? 'ACCOUNT_204' : 'ACCOUNT_205', { 'Account Number': locked.accountNumber }),
    );
  },

  ahGetProductionDevices: getDevices,
  ibGetProductionDevices: getDevices,
  ahGetProductionDevice: getDevice,
  ibGetProductionDevice: getDevice,
  ahCreateProductionDevice: (context) => {
    const body = context.body as NewDevice;
    return (
      invalid('DEVICE', newDeviceProblems(context.registry, body)) ??
      answer(registerDevice(context.registry, writerOf(context), body), (device) => code('DEVICE_201', { GSRN: device.gsrn }))
    );
  },
  ahSubmitProductionDevice: (context) => {
    const device = deviceIn(context);
    return isRefusal(device) ? device : answer(submitDevice(context.registry, device), deviceUpdated);
  },
  ibUpdateProductionDeviceStatus: (context) => {
    const decision = context.body as DeviceDecision;
    const problems = invalid('DEVICE', decisionProblems(decision));
    if (problems) return problems;
    const device = deviceIn(context);
    return isRefusal(device) ? device : answer(decideDevice(context.registry, device, decision), deviceUpdated);
  },

  ahGetUsers: getUsers,
  ibGetUsers: getUsers,
  ahGetUser: getUser,
  ibGetUser: getUser,
  ahCreateUser: (context) => answer(inviteUser(context.registry, writerOf(context), context.body as NewUser), (user) => code('USER_201', { 'User Id': user.userId })),

  ahGetOrganizations: getOrganizations,
  ibGetOrganizations: getOrganizations,
  ahGetOrganization: getOrganization,
  ibGetOrganization: getOrganization,
};
