import { STORE_TOKENS } from '../../contracts/lib/postman.js';
import type { Tenant } from '../identity.js';

/**
 * The manual's B2C Postman files (Appendices 2, 3 and 5), for the mock, with
 * their defects fixed (README, "Postman"):
 * - one variable name for the API application id (`AppId`; DEMO's App. 5
 *   says `Appld` and the refresh request uses `{{Appld}}`) and a real id
 *   (DEMO's "GCR" is not one);
 * - one name for the reply URL (`ReplyUrl`; App. 5 says `ReplyUri`);
 * - the B2C host in a variable (`B2CHost`) instead of
 *   `https://{{B2CDirectoryName}}.b2clogin.com`, so the same requests reach
 *   the mock or the real tenant;
 * - the PKCE request has a URL, says `code_challenge_method` S256 and sends
 *   the client id in the body instead of an empty secret in a header;
 * - the refresh request drops the disabled `offline_access` key and stores
 *   the new access and refresh tokens in the environment (`Token`,
 *   `RefreshToken`), so no copying between environments is needed.
 */
export function b2cEnvironment(tenant: Tenant, b2cHost: string, mock?: { admin: string; user: string }): object {
  const value = (key: string, text: string, secret = false) => ({ key, value: text, ...(secret ? { type: 'secret' } : {}), enabled: true });
  return {
    name: `${tenant.name === 'gcrfr' ? 'EEX FRANCE' : 'EEX FRANCE DEMO'} Grexel - B2C Token (${mock ? 'grex-harness mock' : b2cHost})`,
    values: [
      value('ClientId', tenant.clientId),
      value('B2CDirectoryName', tenant.name),
      value('SignInPolicyId', tenant.policy),
      value('AppId', tenant.appId),
      value('ReplyUrl', tenant.replyUrl),
      value('B2CHost', b2cHost),
      value('RefreshToken', '', true),
      value('Token', '', true),
      value('IdToken', '', true),
      // On the mock: the B2C collection's token requests take a refresh token of this user from the admin API when RefreshToken is empty.
      ...(mock ? [value('Username', mock.user), value('GrexHarnessAdmin', mock.admin)] : []),
    ],
    _postman_variable_scope: 'environment',
  };
}

const AUTHORITY = '{{B2CHost}}/{{B2CDirectoryName}}.onmicrosoft.com/{{SignInPolicyId}}';
const SCOPE = 'https://{{B2CDirectoryName}}.onmicrosoft.com/{{AppId}}/user_impersonation openid offline_access';

export function tokenCollection(): object {
  const option = (key: string, value: string | boolean) => ({ key, value, type: typeof value === 'boolean' ? 'boolean' : 'string' });
  const form = (key: string, value: string) => ({ key, value, type: 'text' });
  return {
    info: { name: 'G-REX token use cases (grex-harness)', schema: 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json' },
    item: [
      {
        name: 'PKCE - Get access token via Sign-in',
        request: {
          auth: {
            type: 'oauth2',
            oauth2: [
              option('grant_type', 'authorization_code_with_pkce'),
              option('code_challenge_method', 'S256'),
              option('scope', SCOPE),
              option('redirect_uri', '{{ReplyUrl}}'),
              option('authUrl', `${AUTHORITY}/oauth2/v2.0/authorize`),
              option('accessTokenUrl', `${AUTHORITY}/oauth2/v2.0/token`),
              option('clientId', '{{ClientId}}'),
              option('client_authentication', 'body'),
              option('useBrowser', false),
              option('addTokenTo', 'header'),
            ],
          },
          method: 'GET',
          header: [],
          url: `${AUTHORITY}/v2.0/.well-known/openid-configuration`,
          description: 'Authorization tab → Get New Access Token: sign in, then the MFA code (on the mock: GET /__admin/mfa?user=<username>).',
        },
        response: [],
      },
      {
        name: 'Get access token via refresh token',
        event: [
          {
            listen: 'test',
            script: {
              type: 'text/javascript',
              exec: STORE_TOKENS,
            },
          },
        ],
        request: {
          method: 'POST',
          header: [{ key: 'Content-Type', value: 'application/x-www-form-urlencoded', type: 'text' }],
          body: {
            mode: 'urlencoded',
            urlencoded: [form('grant_type', 'refresh_token'), form('client_id', '{{ClientId}}'), form('scope', SCOPE), form('refresh_token', '{{RefreshToken}}'), form('redirect_uri', '{{ReplyUrl}}')],
          },
          url: `${AUTHORITY}/oauth2/v2.0/token`,
        },
        response: [],
      },
    ],
  };
}
