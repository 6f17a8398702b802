// An independent RFC 7591/7592 server for dcr-harness's CI: node's oidc-provider, in its default
// configuration except for what turns the two RFCs on (dynamic registration, its management, and
// the client-credentials grant so that a secret can be proven), on 127.0.0.1.
//
// Usage: node server.mjs [PORT] [CONFIG]
//   default      the above, nothing else set (the matrix CI regenerates)
//   rotation     the same, with the registration access token settings a deployment would spell
//                out rather than inherit: one issued at registration, and rotated on every
//                update (RFC 7592 §2.2 lets the server issue a new one); and its own signing
//                keys and cookie keys instead of the library's development-only ones
//   no-rotation  as rotation, but the registration access token is kept across updates
// (oidc-provider 9's defaults already issue the token and rotate it on update, so default and
// rotation behave alike for RFC 7592; no-rotation is the one that differs.)
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';

const port = Number(process.argv[2] ?? 3000);
const config = process.argv[3] ?? 'default';
const issuer = `http://127.0.0.1:${port}`;

const features = {
  registration: { enabled: true },
  registrationManagement: { enabled: true },
  clientCredentials: { enabled: true },
  devInteractions: { enabled: false },
};

function deployment(rotate) {
  // Keys made at start: the store is in memory, so nothing signed outlives the process anyway.
  // RS256 first: it is what clients get when they name no id_token_signed_response_alg.
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  return {
    features: {
      ...features,
      registration: { enabled: true, issueRegistrationAccessToken: true },
      registrationManagement: { enabled: true, rotateRegistrationAccessToken: rotate },
    },
    jwks: {
      keys: [
        { ...rsa, kid: 'rs256-1', use: 'sig', alg: 'RS256' },
        { ...ec, kid: 'es256-1', use: 'sig', alg: 'ES256' },
      ],
    },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
  };
}

const configurations = {
  default: () => ({ features }),
  rotation: () => deployment(true),
  'no-rotation': () => deployment(false),
};
if (!(config in configurations)) {
  console.error(`unknown configuration ${config} (one of: ${Object.keys(configurations).join(', ')})`);
  process.exit(2);
}

const provider = new Provider(issuer, configurations[config]());
provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider ${issuer} (${config}) ready`);
});
