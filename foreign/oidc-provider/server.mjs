// An independent RFC 7591/7592 server for dcr-harness's CI: node's oidc-provider, in its default
// configuration except for what turns the two RFCs on (dynamic registration, its management, and
// the client-credentials grant so that a secret can be proven), on 127.0.0.1.
import Provider from 'oidc-provider';

const port = Number(process.argv[2] ?? 3000);
const issuer = `http://127.0.0.1:${port}`;
const provider = new Provider(issuer, {
  features: {
    registration: { enabled: true },
    registrationManagement: { enabled: true },
    clientCredentials: { enabled: true },
    devInteractions: { enabled: false },
  },
});
provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider ${issuer} ready`);
});
