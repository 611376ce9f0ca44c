// A real, independently written OpenID Provider for the tests: node-oidc-provider 9.x on
// loopback. Usage: node server.mjs CONFIG.json
//
// CONFIG.json (written by tests/oidc/conftest.py): {"port": N, "jwks": {"keys": [...]},
// "clients": [...client metadata...], "resource": "https://api.example.test/"}
// The server prints "ready <issuer>" on stdout once it listens, and one line per device-code
// poll at the token endpoint: "poll <client_id> <ms since start> <error code | tokens>".
//
// Device flow (RFC 8628) set-up for the tests: the client `wb-device-short` gets device codes
// that live 3 s (ttl.DeviceCode), so expiry can be tested. node-oidc-provider 9.x defines the
// `slow_down` error but never sends it; so that the client's handling of it meets a real
// server's answers, the harness rewrites the FIRST `authorization_pending` answer to the client
// `wb-device-slow` into `slow_down` (RFC 8628 §3.5) — everything else is the provider's own.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
// oidc-provider is installed in a cache dir (OIDC_PROVIDER_DIR), not next to this script
const require = createRequire(path.join(process.env.OIDC_PROVIDER_DIR, 'package.json'));
const { default: Provider, errors } = await import(require.resolve('oidc-provider'));

const issuer = `http://127.0.0.1:${config.port}`;
const RESOURCE = config.resource;
const started = Date.now();
const slowedDown = new Set(); // the device codes of wb-device-slow already told to slow down

const provider = new Provider(issuer, {
  clients: config.clients,
  jwks: config.jwks,
  cookies: { keys: ['iot-workbench-tests-cookie-key'] },
  scopes: ['openid', 'offline_access', 'profile', 'email'],
  claims: { openid: ['sub'], profile: ['name'], email: ['email'] },
  findAccount: async (_ctx, sub) => ({
    accountId: sub,
    claims: async () => ({ sub, name: `Test ${sub}`, email: `${sub}@example.test` }),
  }),
  pkce: { required: () => true },
  ttl: {
    AccessToken: 600,
    ClientCredentials: 600,
    IdToken: 600,
    RefreshToken: 3600,
    DeviceCode: (_ctx, _token, client) => (client.clientId === 'wb-device-short' ? 3 : 600),
  },
  features: {
    devInteractions: { enabled: true }, // plain HTML login + consent forms the tests submit
    deviceFlow: { enabled: true },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    rpInitiatedLogout: { enabled: false },
    resourceIndicators: {
      enabled: true,
      defaultResource: async (_ctx, _client, oneOf) => oneOf,
      useGrantedResource: async () => true,
      getResourceServerInfo: async (_ctx, resource) => {
        if (resource !== RESOURCE) throw new errors.InvalidTarget();
        return {
          scope: 'api:read api:write',
          audience: RESOURCE,
          accessTokenTTL: 600,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
});
provider.proxy = false;

provider.use(async (ctx, next) => {
  await next();
  const params = ctx.oidc?.params;
  if (ctx.oidc?.route !== 'token' || params?.grant_type !== 'urn:ietf:params:oauth:grant-type:device_code') {
    return;
  }
  const clientId = ctx.oidc.client?.clientId ?? '?';
  let outcome = ctx.body?.error ?? (ctx.body?.access_token ? 'tokens' : `HTTP ${ctx.status}`);
  if (clientId === 'wb-device-slow' && outcome === 'authorization_pending'
      && !slowedDown.has(params.device_code)) {
    slowedDown.add(params.device_code);
    ctx.body = { error: 'slow_down', error_description: 'you are polling too quickly and should back off at a reasonable rate' };
    outcome = 'slow_down';
  }
  process.stdout.write(`poll ${clientId} ${Date.now() - started} ${outcome}\n`);
});

const server = provider.listen(config.port, '127.0.0.1', () => {
  process.stdout.write(`ready ${issuer}\n`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
