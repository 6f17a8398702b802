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
//   fapi         as rotation, over HTTPS (issuer https://127.0.0.1:PORT) with client certificates
//                requested (not required) at the handshake, from the test PKI in $DCR_PKI_DIR
//                (default target/test-pki: server.pem/server.key, trusting issuing-ca.pem and
//                root-ca.pem); and on top: introspection, RFC 8705 mTLS (certificate-bound access
//                tokens, tls_client_auth, self_signed_tls_client_auth; the certificate read from
//                the TLS socket), encryption, JARM, request objects and JWT userinfo, so that the
//                OpenID Connect and JARM signing and encryption metadata are recognised; signing
//                keys RS256, PS256 and ES256, and RSA and EC encryption keys
// (oidc-provider 9's defaults already issue the token and rotate it on update, so default and
// rotation behave alike for RFC 7592; no-rotation is the one that differs.)
import { generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { join, resolve } from 'node:path';
import Provider from 'oidc-provider';

const port = Number(process.argv[2] ?? 3000);
const config = process.argv[3] ?? 'default';
const tls = config === 'fapi';
const issuer = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;

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

// The client certificate of the request's TLS connection, PEM (undefined when none was sent):
// what RFC 8705 binds tokens to and authenticates clients with.
function peerCertificate(ctx) {
  const socket = ctx.socket ?? ctx.req?.socket;
  const peer = socket?.getPeerCertificate?.(true);
  if (!peer?.raw) return undefined;
  const b64 = peer.raw.toString('base64').match(/.{1,64}/g).join('\n');
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}

// tls_client_auth_subject_dn (RFC 4514) compared as a set of type=value pairs, types by short
// name or OID, values case-insensitively; the SAN ones against the certificate's entries.
const DN_NAMES = { '2.5.4.97': 'organizationidentifier', cn: 'cn', o: 'o', ou: 'ou', c: 'c', l: 'l', st: 'st' };
function dnPairs(text, separator) {
  return text.split(separator).map((part) => part.trim()).filter(Boolean).map((part) => {
    const at = part.indexOf('=');
    const type = part.slice(0, at).trim().toLowerCase();
    return `${DN_NAMES[type] ?? type}=${part.slice(at + 1).trim().toLowerCase()}`;
  }).sort();
}
function subjectMatches(ctx, property, expected) {
  const pem = peerCertificate(ctx);
  if (!pem) return false;
  const cert = new X509Certificate(pem);
  if (property === 'tls_client_auth_subject_dn') {
    return dnPairs(cert.subject, '\n').join(',') === dnPairs(expected, /(?<!\\),/).join(',');
  }
  const kind = {
    tls_client_auth_san_dns: 'DNS', tls_client_auth_san_ip: 'IP Address',
    tls_client_auth_san_email: 'email', tls_client_auth_san_uri: 'URI',
  }[property];
  return (cert.subjectAltName ?? '').split(', ').some((entry) => entry === `${kind}:${expected}`);
}

function fapi() {
  const base = deployment(true);
  const pair = (kind, options) => generateKeyPairSync(kind, options).privateKey.export({ format: 'jwk' });
  return {
    ...base,
    features: {
      ...base.features,
      introspection: { enabled: true },
      mTLS: {
        enabled: true,
        certificateBoundAccessTokens: true,
        tlsClientAuth: true,
        selfSignedTlsClientAuth: true,
        getCertificate: peerCertificate,
        // Verified by the handshake against issuing-ca.pem and root-ca.pem.
        certificateAuthorized: (ctx) => (ctx.socket ?? ctx.req?.socket)?.authorized === true,
        certificateSubjectMatches: subjectMatches,
      },
      encryption: { enabled: true },
      jwtResponseModes: { enabled: true },
      requestObjects: { enabled: true },
      jwtUserinfo: { enabled: true },
    },
    // The library's five and the two of RFC 8705 (the features alone do not add them).
    clientAuthMethods: [
      'client_secret_basic', 'client_secret_jwt', 'client_secret_post', 'private_key_jwt', 'none',
      'tls_client_auth', 'self_signed_tls_client_auth',
    ],
    jwks: {
      keys: [
        ...base.jwks.keys,
        { ...pair('rsa', { modulusLength: 2048 }), kid: 'ps256-1', use: 'sig', alg: 'PS256' },
        // Encryption keys: what clients encrypt request objects to.
        { ...pair('rsa', { modulusLength: 2048 }), kid: 'rsa-enc-1', use: 'enc' },
        { ...pair('ec', { namedCurve: 'P-256' }), kid: 'ec-enc-1', use: 'enc' },
      ],
    },
  };
}

const configurations = {
  default: () => ({ features }),
  rotation: () => deployment(true),
  'no-rotation': () => deployment(false),
  fapi,
};
if (!(config in configurations)) {
  console.error(`unknown configuration ${config} (one of: ${Object.keys(configurations).join(', ')})`);
  process.exit(2);
}

const provider = new Provider(issuer, configurations[config]());
const ready = () => console.log(`oidc-provider ${issuer} (${config}) ready`);
if (tls) {
  // The detail behind the library's generic error_description ("grant request is invalid",
  // "invalid token provided"), in server.log.
  for (const event of ['grant.error', 'userinfo.error', 'introspection.error', 'registration_create.error',
    'registration_update.error', 'registration_read.error', 'registration_delete.error', 'server_error']) {
    provider.on(event, (ctx, err) => {
      console.log(`${event}: ${err.error ?? err.name} ${err.error_description ?? err.message} (${err.error_detail ?? ''})`);
    });
  }
  const pki = resolve(process.env.DCR_PKI_DIR ?? 'target/test-pki');
  const read = (name) => readFileSync(join(pki, name));
  // Client certificates asked for at every handshake but not required: the provider judges them
  // (mTLS client authentication, certificate binding); an unverified one still reaches it.
  createServer({
    cert: read('server.pem'),
    key: read('server.key'),
    ca: [read('issuing-ca.pem'), read('root-ca.pem')],
    requestCert: true,
    rejectUnauthorized: false,
  }, provider.callback()).listen(port, '127.0.0.1', ready);
} else {
  provider.listen(port, '127.0.0.1', ready);
}
