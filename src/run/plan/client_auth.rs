//! How a planned token or introspection request proves its registered client: by the method
//! the step names, else the one the client registered. It must not send anything.

use super::*;

/// A token request proving `client` with the method the step names, else the one it registered
/// (RFC 7591 §2): its secret in Basic or in the form, its TLS certificate (the step's TLS
/// identity) with its id in the form, or a client assertion signed by the step's signer.
pub(super) fn authenticate_client(
    msg: &mut Message,
    r: &RequestSpec,
    client: &Client,
    mutation: Option<Mutation>,
    env: &PlanEnv<'_>,
    vars: &Vars,
) -> Result<(), PlanError> {
    use crate::protocol::TokenAuthMethod::*;
    let method = r.token_auth.or_else(|| crate::protocol::TokenAuthMethod::from_name(&client.auth_method));
    let secret = match &r.secret {
        Some(s) => fill("secret", s, vars)?,
        None => client.secret.clone(),
    };
    let mut form = form_urlencoded::Serializer::new(String::from_utf8_lossy(&msg.body).into_owned());
    match method.unwrap_or(ClientSecretBasic) {
        ClientSecretBasic => {
            msg.add_header("Authorization", &basic(&client.id, &secret));
            return Ok(());
        }
        ClientSecretPost => form.append_pair("client_id", &client.id).append_pair("client_secret", &secret),
        TlsClientAuth | SelfSignedTlsClientAuth => form.append_pair("client_id", &client.id),
        PrivateKeyJwt => {
            let signer = r.sign.clone().unwrap_or_else(|| actor_identity(r.actor, Role::Sign));
            let name = signer.resolve(&env.profile.identities).ok_or(PlanError::NoRequestObjectSigner)?;
            let identity = env.pki.identity(name)?;
            let other = env.profile.identities.other_sign.name().and_then(|name| env.pki.identity(name).ok());
            let var = |name: &str| vars.get(name).map_or("", String::as_str);
            let audience = match env.profile.client_assertion_audience {
                AssertionAudience::Issuer => var(builtin::ISSUER).to_string(),
                AssertionAudience::TokenEndpoint => format!("{}{}", var(builtin::BASE_URL), env.endpoints.token),
            };
            let signer = JwtSigner { identity, other, now: env.now };
            let assertion = sign_client_assertion(&client.id, &audience, signer, mutation)?;
            form.append_pair("client_assertion_type", crate::protocol::JWT_BEARER)
                .append_pair("client_assertion", &assertion)
        }
    };
    msg.body = form.finish().into_bytes();
    Ok(())
}
