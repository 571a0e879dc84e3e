import { CryptoProvider, PublicClientApplication } from '@azure/msal-node';
import { signInLikeABrowser } from './sign-in.js';

/**
 * A G-REX client written as MSAL Node's documentation shows it, configured
 * with the manual's DEMO values (Appendix 5: tenant gcrfdemo, policy
 * B2C_1_SignIn, ClientId, the nativeclient reply URL) and the API's AppId:
 * a public client with PKCE from MSAL's CryptoProvider, the B2C authority in
 * `knownAuthorities`, `acquireTokenByCode`, then `acquireTokenSilent` with
 * `forceRefresh` (the refresh token), then one G-REX call. Nothing here knows
 * about the mock: the real host names resolve to it through a hosts entry
 * (test/support/hosts-entry.ts) and its authority is trusted through
 * NODE_EXTRA_CA_CERTS, as for a user of hosts mode.
 *
 * Prints one JSON line: what MSAL answered at each step and the API's status.
 * Environment: GREX_APP_ID (the API's AppId), GREX_USER, GREX_PASSWORD, and
 * GREX_SMS_URL (where the user reads the code "sent by SMS").
 */

const B2C_HOST = 'gcrfdemo.b2clogin.com';
const AUTHORITY = `https://${B2C_HOST}/gcrfdemo.onmicrosoft.com/B2C_1_SignIn`;
const CLIENT_ID = '9e818394-185c-47e7-8b93-714714bfcf8f';
const REPLY_URL = 'https://gcrfdemo.b2clogin.com/oauth2/nativeclient';
const API = 'https://eexfrancedemoapi.grexel.com/managementapi/AH/managementapi/Accounts?$top=1&$skip=0';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

const claims = (jwt: string): Record<string, unknown> => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));

async function main(): Promise<object> {
  const scopes = [`https://gcrfdemo.onmicrosoft.com/${env('GREX_APP_ID')}/user_impersonation`];
  const pca = new PublicClientApplication({ auth: { clientId: CLIENT_ID, authority: AUTHORITY, knownAuthorities: [B2C_HOST] } });
  const cryptoProvider = new CryptoProvider();
  const { verifier, challenge } = await cryptoProvider.generatePkceCodes();
  const state = cryptoProvider.createNewGuid();

  const authorizationUrl = await pca.getAuthCodeUrl({ scopes, redirectUri: REPLY_URL, codeChallenge: challenge, codeChallengeMethod: 'S256', state });
  const reply = await signInLikeABrowser(authorizationUrl, {
    username: env('GREX_USER'),
    password: env('GREX_PASSWORD'),
    smsCode: async () => ((await (await fetch(env('GREX_SMS_URL'))).json()) as { code: string }).code,
  });
  if (reply.searchParams.get('state') !== state) throw new Error(`the reply URL does not carry the state: ${reply.href}`);

  const byCode = await pca.acquireTokenByCode({ code: reply.searchParams.get('code') ?? '', scopes, redirectUri: REPLY_URL, codeVerifier: verifier });
  if (!byCode.account) throw new Error('acquireTokenByCode gave no account');
  const refreshed = await pca.acquireTokenSilent({ account: byCode.account, scopes, forceRefresh: true });

  const api = await fetch(API, { headers: { authorization: `Bearer ${refreshed.accessToken}`, accept: 'application/json', 'user-agent': 'msal-node-client/1.0' } });
  return {
    authorizationUrl,
    byCode: { scopes: byCode.scopes, account: byCode.account.username, idTokenClaims: byCode.idTokenClaims, accessTokenClaims: claims(byCode.accessToken) },
    refreshed: { scopes: refreshed.scopes, fromCache: refreshed.fromCache, accessTokenClaims: claims(refreshed.accessToken) },
    api: { status: api.status, body: await api.text() },
  };
}

main().then(
  (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
  (error: unknown) => {
    process.stderr.write(`msal-client: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}\n`);
    process.exitCode = 1;
  },
);
