// A certified OpenID provider (npm oidc-provider, OpenID Certified) on loopback, for the OAuth 2.0 / OpenID Connect
// tests. Usage: node interop/oidc-provider.mjs PORT
//
// - Issuer http://127.0.0.1:PORT; keys made at start: an RS256 key and an ES256 key.
// - Access tokens are JWTs (RFC 9068) for any resource indicator (RFC 8707; the audience), scopes oslc.read and
//   oslc.write; the client credentials grant, token introspection (RFC 7662), dynamic client registration (for
//   browser clients whose redirect URI is only known at run time), and the development login and consent pages.
// - Client "oslc-tests" (secret "oslc-tests-secret"): client credentials, any scope of the two. Tokens for a
//   resource ending in /opaque are opaque, introspected by the resource server client "oslc-rs" ("oslc-rs-secret").
// - Test helpers, on loopback only and never in a real provider: POST /__test/sign signs the JSON claims of the
//   body with the current key of its "alg" (RS256 default), so tests get tokens that are expired, not yet valid,
//   for another audience or issuer, signed by the issuer's own key; POST /__test/rotate makes a new RS256 key, signs
//   with it from then on, and keeps publishing the old ones.
// Prints "listening on http://127.0.0.1:PORT" when ready.
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import Provider from 'oidc-provider';
import * as jose from 'jose';

const port = Number(process.argv[2] || 0);
const issuer = `http://127.0.0.1:${port}`;

async function key(alg, kid) {
  const { privateKey } = await jose.generateKeyPair(alg, { extractable: true });
  const jwk = await jose.exportJWK(privateKey);
  return { ...jwk, kid, alg, use: 'sig' };
}

// Signing keys, newest first (oidc-provider signs with the first key of an algorithm).
let keys = [await key('RS256', 'rsa-1'), await key('ES256', 'ec-1')];

function configuration() {
  return {
    clients: [
      {
        client_id: 'oslc-tests',
        client_secret: 'oslc-tests-secret',
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        scope: 'oslc.read oslc.write',
      },
      {
        // A resource server, introspecting the opaque tokens issued for resources ending in /opaque.
        client_id: 'oslc-rs',
        client_secret: 'oslc-rs-secret',
        grant_types: [],
        redirect_uris: [],
        response_types: [],
      },
    ],
    jwks: { keys },
    scopes: ['openid', 'profile', 'oslc.read', 'oslc.write'],
    claims: { openid: ['sub'], profile: ['name'] },
    findAccount: async (_ctx, id) => ({ accountId: id, claims: async () => ({ sub: id, name: id }) }),
    features: {
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      registration: { enabled: true },
      devInteractions: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: async (_ctx, _client, oneOf) => oneOf,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx, resourceIndicator) => (resourceIndicator.endsWith('/opaque')
          ? { scope: 'oslc.read oslc.write', audience: resourceIndicator, accessTokenTTL: 300, accessTokenFormat: 'opaque' }
          : {
            scope: 'oslc.read oslc.write',
            audience: resourceIndicator,
            accessTokenTTL: 300,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          }),
      },
    },
    pkce: { required: () => true },
    ttl: { AccessToken: 300, ClientCredentials: 300, Session: 3600, Grant: 3600, Interaction: 600 },
  };
}

let provider = new Provider(issuer, configuration());
provider.proxy = false;

function body(req) {
  return new Promise((resolve, reject) => {
    let data = '';
    req.on('data', (chunk) => {
      data += chunk;
      if (data.length > 65536) { reject(new Error('too large')); req.destroy(); }
    });
    req.on('end', () => resolve(data));
    req.on('error', reject);
  });
}

async function sign(claims) {
  const alg = claims.__alg || 'RS256';
  delete claims.__alg;
  const jwk = keys.find((k) => k.alg === alg);
  const privateKey = await jose.importJWK(jwk, alg);
  const now = Math.floor(Date.now() / 1000);
  return new jose.SignJWT({ iss: issuer, iat: now, exp: now + 300, jti: randomUUID(), ...claims })
    .setProtectedHeader({ alg, kid: jwk.kid, typ: 'at+jwt' })
    .sign(privateKey);
}

const server = http.createServer(async (req, res) => {
  try {
    if (req.method === 'POST' && req.url === '/__test/sign') {
      const token = await sign(JSON.parse(await body(req)));
      res.writeHead(200, { 'content-type': 'text/plain' }).end(token);
      return;
    }
    if (req.method === 'POST' && req.url === '/__test/rotate') {
      const kid = `rsa-${keys.filter((k) => k.alg === 'RS256').length + 1}`;
      keys = [await key('RS256', kid), ...keys];
      provider = new Provider(issuer, configuration());
      res.writeHead(200, { 'content-type': 'text/plain' }).end(kid);
      return;
    }
    provider.callback()(req, res);
  } catch (e) {
    res.writeHead(500, { 'content-type': 'text/plain' }).end(String(e));
  }
});

server.listen(port, '127.0.0.1', () => {
  console.log(`listening on ${issuer}`);
});
