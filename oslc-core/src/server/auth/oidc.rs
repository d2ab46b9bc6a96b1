//! OAuth 2.0 resource server (feature `oidc`): bearer access tokens issued by an OpenID provider, verified here.
//!
//! [`JwtVerifier::discover`] reads the issuer's discovery document (`/.well-known/openid-configuration`, else RFC
//! 8414's `/.well-known/oauth-authorization-server`), which must name the same issuer, and its JWKS. A token is
//! then checked without a call to the issuer: a JWT (RFC 9068) signed by a key of the JWKS, with the algorithm the
//! key is for (RSA: RS256/384/512, PS256/384/512; EC: ES256/384; Ed25519: EdDSA; never `none`, never an HMAC, so a
//! public key can never be used as an HMAC secret), `iss` the issuer, `aud` holding the audience, `exp` and `nbf`
//! within a small leeway. A token signed with a key the cache does not have refetches the JWKS (key rotation), at
//! most once per [`OidcOptions::min_refetch`]. Tokens that are not JWTs are checked by RFC 7662 introspection when
//! [`OidcOptions::introspection`] names the resource server's client. A check is kept for a minute at most (never
//! past the token's expiry), so a client's many requests with one token cost one signature check.
//!
//! Scopes (from `scope`, `scp` or `roles`, as Keycloak, Okta and Entra ID write them) map to [`Access`]: reads
//! need [`OidcOptions::read_scope`] (`oslc.read`) or the write scope, writes [`OidcOptions::write_scope`]
//! (`oslc.write`), actions [`OidcOptions::action_scope`] (by default the write scope).
//! Refusals follow RFC 6750: 401 with `WWW-Authenticate: Bearer error="invalid_token", error_description="…"`,
//! 403 with `error="insufficient_scope", scope="…"`. Challenges name the protected resource's metadata (RFC 9728,
//! [`JwtVerifier::metadata_router`]), which names the issuer, so a client can find where to get a token.
//!
//! ```no_run
//! use oslc_core::server::auth::{Auth, Either, Policy, StaticToken};
//! use oslc_core::server::auth::oidc::{JwtVerifier, OidcOptions};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let options = OidcOptions::new("https://login.example.com/realms/ops", "https://st2-oslc.example.com");
//! let jwt = JwtVerifier::discover(options).await?;
//! // A static token for simple clients, and the issuer's tokens: either may be presented.
//! let auth = Auth::new(Either::new(StaticToken::new("s3cret"), jwt), Policy::protect_all());
//! # let _ = auth;
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use super::{Access, Credentials, Principal, Refusal, Verifier};

/// The largest discovery, JWKS or introspection document read.
const MAX_DOCUMENT_BYTES: usize = 256 * 1024;
/// The longest bearer token looked at.
const MAX_TOKEN_BYTES: usize = 16 * 1024;
/// Verified tokens and introspection answers kept.
const CACHE_ENTRIES: usize = 10_000;
/// The default of [`OidcOptions::cache_ttl`].
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(60);

/// Why the issuer could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OidcError {
    /// A document could not be fetched or read.
    #[error("{what} at {url} could not be read: {reason}")]
    Fetch {
        /// Which document.
        what: &'static str,
        /// Where.
        url: String,
        /// Why.
        reason: String,
    },
    /// The discovery document names no endpoint of a kind needed (such as the authorization endpoint, for
    /// [`super::login::BrowserLogin`]).
    #[error("the discovery document of {issuer} names no {endpoint}")]
    NoEndpoint {
        /// The issuer.
        issuer: String,
        /// The member missing, such as `authorization_endpoint`.
        endpoint: &'static str,
    },
    /// A setting cannot be used.
    #[error("{0}")]
    Config(String),
    /// The discovery document names another issuer (OpenID Connect Discovery §4.3).
    #[error("the discovery document of {expected} names the issuer {found}")]
    IssuerMismatch {
        /// The issuer configured.
        expected: String,
        /// The issuer the document names.
        found: String,
    },
}

/// The client the resource server introspects opaque tokens as.
#[derive(Clone)]
pub struct IntrospectionClient {
    /// Its client id.
    pub client_id: String,
    /// Its secret.
    pub client_secret: String,
}

impl std::fmt::Debug for IntrospectionClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntrospectionClient")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .finish()
    }
}

/// What [`JwtVerifier`] accepts.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct OidcOptions {
    /// The issuer (its `iss`), the URL its discovery document is under.
    pub issuer: String,
    /// This resource server's identifier, which tokens' `aud` must hold.
    pub audience: String,
    /// The scope of reads (default `oslc.read`).
    pub read_scope: String,
    /// The scope of writes (default `oslc.write`), which allows reads too.
    pub write_scope: String,
    /// The scope of OSLC Actions (default: the write scope).
    pub action_scope: String,
    /// Clock skew allowed on `exp` and `nbf` (default 30 s).
    pub leeway: Duration,
    /// The shortest time between two fetches of the JWKS for an unknown key (default 10 s).
    pub min_refetch: Duration,
    /// The realm named in challenges (default `oslc`).
    pub realm: String,
    /// Where this server's RFC 9728 metadata is (named in challenges), if served.
    pub resource_metadata: Option<String>,
    /// The client to introspect opaque tokens as (none: only JWTs are accepted).
    pub introspection: Option<IntrospectionClient>,
    /// Time allowed for each call to the issuer (default 5 s).
    pub timeout: Duration,
    /// How long a token's check is kept (never past the token's expiry), so that a client's many requests with one
    /// token cost one signature check or introspection (default [`DEFAULT_CACHE_TTL`]; zero keeps none). A key
    /// removed from the JWKS, or a token revoked at the issuer, is noticed within this time.
    pub cache_ttl: Duration,
}

impl OidcOptions {
    /// Tokens of `issuer` for `audience`, with the defaults.
    #[must_use]
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            audience: audience.into(),
            read_scope: "oslc.read".to_owned(),
            write_scope: "oslc.write".to_owned(),
            action_scope: "oslc.write".to_owned(),
            leeway: Duration::from_secs(30),
            min_refetch: Duration::from_secs(10),
            realm: "oslc".to_owned(),
            resource_metadata: None,
            introspection: None,
            timeout: Duration::from_secs(5),
            cache_ttl: DEFAULT_CACHE_TTL,
        }
    }

    /// The scopes of reads, writes and actions.
    #[must_use]
    pub fn with_scopes(mut self, read: impl Into<String>, write: impl Into<String>, action: impl Into<String>) -> Self {
        self.read_scope = read.into();
        self.write_scope = write.into();
        self.action_scope = action.into();
        self
    }

    /// The realm named in challenges.
    #[must_use]
    pub fn with_realm(mut self, realm: impl Into<String>) -> Self {
        self.realm = realm.into();
        self
    }

    /// The URL of this server's protected resource metadata (RFC 9728), named in challenges.
    #[must_use]
    pub fn with_resource_metadata(mut self, url: impl Into<String>) -> Self {
        self.resource_metadata = Some(url.into());
        self
    }

    /// Introspects tokens that are not JWTs (RFC 7662) as `client`.
    #[must_use]
    pub fn with_introspection(mut self, client: IntrospectionClient) -> Self {
        self.introspection = Some(client);
        self
    }

    /// How long a token's check is kept ([`OidcOptions::cache_ttl`]).
    #[must_use]
    pub fn with_cache_ttl(mut self, ttl: Duration) -> Self {
        self.cache_ttl = ttl;
        self
    }

    /// The clock skew allowed.
    #[must_use]
    pub fn with_leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// The shortest time between two JWKS fetches for unknown keys.
    #[must_use]
    pub fn with_min_refetch(mut self, every: Duration) -> Self {
        self.min_refetch = every;
        self
    }
}

/// What the discovery document says that is used here.
#[derive(Debug, Clone, Deserialize)]
struct Discovery {
    issuer: String,
    jwks_uri: String,
    #[serde(default)]
    introspection_endpoint: Option<String>,
    #[serde(default)]
    authorization_endpoint: Option<String>,
    #[serde(default)]
    token_endpoint: Option<String>,
    #[serde(default)]
    end_session_endpoint: Option<String>,
}

/// A key of the JWKS, ready to verify with.
struct Key {
    decoding: DecodingKey,
    algorithms: Vec<Algorithm>,
}

/// Verifies the issuer's access tokens (see the [module docs](self)).
#[derive(Clone)]
pub struct JwtVerifier {
    inner: Arc<Inner>,
}

struct Inner {
    options: OidcOptions,
    discovery: Discovery,
    http: reqwest::Client,
    keys: RwLock<HashMap<String, Arc<Key>>>,
    /// When the JWKS was last fetched for an unknown key; one fetch at a time.
    refetched: tokio::sync::Mutex<Instant>,
    /// Tokens checked lately, by their SHA-256: a client sends one token with many requests.
    checked: Mutex<HashMap<[u8; 32], Checked>>,
}

/// A check kept until the instant: the principal, or why the token was refused.
type Checked = (Instant, Result<Principal, String>);

impl std::fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("issuer", &self.inner.options.issuer)
            .field("audience", &self.inner.options.audience)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Deserialize)]
struct Claims {
    #[serde(default)]
    sub: Option<String>,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    scp: Option<Scopes>,
    /// App roles, where Entra ID puts what a client-credentials token may do.
    #[serde(default)]
    roles: Option<Vec<String>>,
    #[serde(default)]
    exp: Option<u64>,
}

/// The claims of an ID token that a login uses.
#[derive(Debug, Deserialize)]
pub(super) struct IdToken {
    pub(super) sub: String,
    #[serde(default)]
    nonce: Option<String>,
    #[serde(default)]
    azp: Option<String>,
    #[serde(default)]
    pub(super) preferred_username: Option<String>,
    #[serde(default)]
    pub(super) email: Option<String>,
    #[serde(default)]
    pub(super) name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Scopes {
    List(Vec<String>),
    Text(String),
}

impl Claims {
    fn principal(self) -> Principal {
        let mut scopes: Vec<String> =
            self.scope.map(|s| s.split_whitespace().map(str::to_owned).collect()).unwrap_or_default();
        match self.scp {
            Some(Scopes::List(list)) => scopes.extend(list),
            Some(Scopes::Text(text)) => scopes.extend(text.split_whitespace().map(str::to_owned)),
            None => {}
        }
        scopes.extend(self.roles.unwrap_or_default());
        let name = self.sub.or(self.client_id).unwrap_or_else(|| "token".to_owned());
        Principal::new(name).with_scopes(scopes)
    }
}

async fn fetch_json<T: serde::de::DeserializeOwned>(
    http: &reqwest::Client,
    what: &'static str,
    url: &str,
) -> Result<T, OidcError> {
    let fail = |reason: String| OidcError::Fetch { what, url: url.to_owned(), reason };
    let response = http.get(url).header("accept", "application/json").send().await.map_err(|e| fail(e.to_string()))?;
    if !response.status().is_success() {
        return Err(fail(format!("HTTP {}", response.status())));
    }
    let bytes = read_limited(response).await.map_err(fail)?;
    serde_json::from_slice(&bytes).map_err(|e| fail(e.to_string()))
}

pub(super) async fn read_limited(mut response: reqwest::Response) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
        if bytes.len() + chunk.len() > MAX_DOCUMENT_BYTES {
            return Err(format!("larger than {MAX_DOCUMENT_BYTES} bytes"));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// The algorithms a JWK may verify: its own `alg` if it names one, else those of its key type; never HMAC.
fn algorithms_of(jwk: &Jwk) -> Vec<Algorithm> {
    use Algorithm::{ES256, ES384, EdDSA, PS256, PS384, PS512, RS256, RS384, RS512};
    let family: Vec<Algorithm> = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => vec![RS256, RS384, RS512, PS256, PS384, PS512],
        AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
            EllipticCurve::P256 => vec![ES256],
            EllipticCurve::P384 => vec![ES384],
            _ => vec![],
        },
        AlgorithmParameters::OctetKeyPair(_) => vec![EdDSA],
        // A symmetric key in a public JWKS is never used, nor a key of a type this does not know.
        _ => vec![],
    };
    let named = jwk.common.key_algorithm.and_then(|a| match a {
        KeyAlgorithm::RS256 => Some(RS256),
        KeyAlgorithm::RS384 => Some(RS384),
        KeyAlgorithm::RS512 => Some(RS512),
        KeyAlgorithm::PS256 => Some(PS256),
        KeyAlgorithm::PS384 => Some(PS384),
        KeyAlgorithm::PS512 => Some(PS512),
        KeyAlgorithm::ES256 => Some(ES256),
        KeyAlgorithm::ES384 => Some(ES384),
        KeyAlgorithm::EdDSA => Some(EdDSA),
        _ => None,
    });
    match (jwk.common.key_algorithm, named) {
        (Some(_), Some(alg)) if family.contains(&alg) => vec![alg],
        // A key for an algorithm not taken here (or at odds with its type) verifies nothing.
        (Some(_), _) => vec![],
        (None, _) => family,
    }
}

fn keys_of(set: &JwkSet) -> HashMap<String, Arc<Key>> {
    let mut keys = HashMap::new();
    for (i, jwk) in set.keys.iter().enumerate() {
        if jwk.common.public_key_use.as_ref().is_some_and(|u| *u != jsonwebtoken::jwk::PublicKeyUse::Signature) {
            continue;
        }
        let algorithms = algorithms_of(jwk);
        if algorithms.is_empty() {
            continue;
        }
        let Ok(decoding) = DecodingKey::from_jwk(jwk) else { continue };
        // A key without an id can only be found when it is the only one.
        let kid = jwk.common.key_id.clone().unwrap_or_else(|| format!("#{i}"));
        keys.insert(kid, Arc::new(Key { decoding, algorithms }));
    }
    keys
}

fn invalid(description: impl Into<String>) -> Refusal {
    Refusal::InvalidToken { description: description.into() }
}

impl JwtVerifier {
    /// Reads the issuer's discovery document and JWKS.
    ///
    /// # Errors
    /// [`OidcError`] when either cannot be read, or the document names another issuer.
    pub async fn discover(options: OidcOptions) -> Result<Self, OidcError> {
        let http = crate::client::http_client(options.timeout, options.timeout).map_err(|e| OidcError::Fetch {
            what: "the HTTP client",
            url: String::new(),
            reason: e.to_string(),
        })?;
        let issuer = options.issuer.trim_end_matches('/');
        let openid = format!("{issuer}/.well-known/openid-configuration");
        let discovery: Discovery = match fetch_json(&http, "the OpenID discovery document", &openid).await {
            Ok(d) => d,
            Err(first) => {
                let oauth = format!("{issuer}/.well-known/oauth-authorization-server");
                fetch_json(&http, "the authorization server metadata", &oauth).await.map_err(|_| first)?
            }
        };
        if discovery.issuer != options.issuer {
            return Err(OidcError::IssuerMismatch { expected: options.issuer.clone(), found: discovery.issuer });
        }
        let set: JwkSet = fetch_json(&http, "the JWKS", &discovery.jwks_uri).await?;
        let keys = keys_of(&set);
        Ok(Self {
            inner: Arc::new(Inner {
                discovery,
                http,
                keys: RwLock::new(keys),
                // The first unknown key may refetch at once.
                refetched: tokio::sync::Mutex::new(
                    Instant::now().checked_sub(options.min_refetch).unwrap_or_else(Instant::now),
                ),
                checked: Mutex::new(HashMap::new()),
                options,
            }),
        })
    }

    /// The options it was made with.
    #[must_use]
    pub fn options(&self) -> &OidcOptions {
        &self.inner.options
    }

    /// The routes of this resource server's metadata (RFC 9728) at `/.well-known/oauth-protected-resource`: its
    /// identifier (the audience), the issuer, the scopes, and that tokens go in the `Authorization` header.
    pub fn metadata_router<S: Clone + Send + Sync + 'static>(&self) -> axum::Router<S> {
        let o = &self.inner.options;
        let scopes: std::collections::BTreeSet<&str> =
            [o.read_scope.as_str(), o.write_scope.as_str(), o.action_scope.as_str()].into_iter().collect();
        let document = serde_json::json!({
            "resource": o.audience,
            "authorization_servers": [o.issuer],
            "scopes_supported": scopes,
            "bearer_methods_supported": ["header"],
        })
        .to_string();
        axum::Router::new().route(
            PROTECTED_RESOURCE_METADATA_PATH,
            axum::routing::get(move || {
                let document = document.clone();
                async move { ([(http::header::CONTENT_TYPE, "application/json")], document) }
            }),
        )
    }

    fn key(&self, kid: &str) -> Option<Arc<Key>> {
        let keys = self.inner.keys.read().unwrap_or_else(PoisonError::into_inner);
        keys.get(kid).cloned().or_else(|| {
            // A token without `kid` names the only key there is.
            (kid.is_empty() && keys.len() == 1).then(|| keys.values().next().cloned()).flatten()
        })
    }

    /// The key `kid`, fetching the JWKS again if it is unknown and the last fetch is old enough.
    async fn key_or_refetch(&self, kid: &str) -> Option<Arc<Key>> {
        if let Some(key) = self.key(kid) {
            return Some(key);
        }
        let mut last = self.inner.refetched.lock().await;
        // Another request may have fetched it while this one waited.
        if let Some(key) = self.key(kid) {
            return Some(key);
        }
        if last.elapsed() < self.inner.options.min_refetch {
            return None;
        }
        *last = Instant::now();
        match fetch_json::<JwkSet>(&self.inner.http, "the JWKS", &self.inner.discovery.jwks_uri).await {
            Ok(set) => {
                let keys = keys_of(&set);
                tracing::info!(issuer = %self.inner.options.issuer, keys = keys.len(), "JWKS fetched again for an unknown key");
                *self.inner.keys.write().unwrap_or_else(PoisonError::into_inner) = keys;
            }
            Err(e) => tracing::warn!(error = %e, "the JWKS could not be fetched again"),
        }
        self.key(kid)
    }

    /// A check of the token with this digest made lately, if it still holds.
    fn cached(&self, digest: &[u8; 32]) -> Option<Result<Principal, Refusal>> {
        let cache = self.inner.checked.lock().unwrap_or_else(PoisonError::into_inner);
        let (until, answer) = cache.get(digest)?;
        (*until > Instant::now()).then(|| answer.clone().map_err(invalid))
    }

    fn remember(&self, digest: [u8; 32], left: Duration, answer: Result<Principal, String>) {
        let left = left.min(self.inner.options.cache_ttl);
        if left.is_zero() {
            return;
        }
        let until = Instant::now() + left;
        let mut cache = self.inner.checked.lock().unwrap_or_else(PoisonError::into_inner);
        if cache.len() >= CACHE_ENTRIES {
            let now = Instant::now();
            cache.retain(|_, (until, _)| *until > now);
            if cache.len() >= CACHE_ENTRIES {
                cache.clear();
            }
        }
        cache.insert(digest, (until, answer));
    }

    /// Checks a JWT access token; a token verified lately is taken again without its signature checked again
    /// until it expires or [`OidcOptions::cache_ttl`] passes, whichever comes first.
    async fn check_jwt(&self, token: &str) -> Result<Principal, Refusal> {
        use sha2::Digest as _;
        let digest: [u8; 32] = sha2::Sha256::digest(token.as_bytes()).into();
        if let Some(answer) = self.cached(&digest) {
            return answer;
        }
        let (principal, exp) = self.verify_jwt(token).await?;
        let left = Duration::from_secs(exp.map_or(0, |exp| exp.saturating_sub(unix_now())));
        self.remember(digest, left, Ok(principal.clone()));
        Ok(principal)
    }

    /// Verifies a JWT access token's signature and claims: its principal and expiry.
    async fn verify_jwt(&self, token: &str) -> Result<(Principal, Option<u64>), Refusal> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| invalid("the token is not a well-formed JWT"))?;
        let kid = header.kid.clone().unwrap_or_default();
        let key = self
            .key_or_refetch(&kid)
            .await
            .ok_or_else(|| invalid("the token is signed with a key the issuer does not publish"))?;
        if !key.algorithms.contains(&header.alg) {
            return Err(invalid(format!("the token's algorithm {:?} is not the one of its key", header.alg)));
        }
        let o = &self.inner.options;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&o.issuer]);
        validation.set_audience(&[&o.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.leeway = o.leeway.as_secs();
        validation.validate_nbf = true;
        let data = jsonwebtoken::decode::<Claims>(token, &key.decoding, &validation).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind;
            invalid(match e.kind() {
                ErrorKind::ExpiredSignature => "the token has expired".to_owned(),
                ErrorKind::ImmatureSignature => "the token is not valid yet".to_owned(),
                ErrorKind::InvalidAudience => format!("the token is not for {}", o.audience),
                ErrorKind::InvalidIssuer => format!("the token was not issued by {}", o.issuer),
                ErrorKind::InvalidSignature => "the token's signature does not verify".to_owned(),
                ErrorKind::MissingRequiredClaim(claim) => format!("the token has no {claim} claim"),
                _ => "the token is not valid".to_owned(),
            })
        })?;
        let exp = data.claims.exp;
        Ok((data.claims.principal(), exp))
    }

    /// Verifies an ID token (OpenID Connect Core §3.1.3.7) issued to `client_id` for the login that sent `nonce`:
    /// signed by a key of the JWKS with its own algorithm, `iss` the issuer, `aud` holding the client (and `azp` the
    /// client when there are other audiences), not expired, and carrying the nonce.
    pub(super) async fn verify_id_token(&self, token: &str, client_id: &str, nonce: &str) -> Result<IdToken, Refusal> {
        let header =
            jsonwebtoken::decode_header(token).map_err(|_| invalid("the ID token is not a well-formed JWT"))?;
        let kid = header.kid.clone().unwrap_or_default();
        let key = self
            .key_or_refetch(&kid)
            .await
            .ok_or_else(|| invalid("the ID token is signed with a key the issuer does not publish"))?;
        if !key.algorithms.contains(&header.alg) {
            return Err(invalid("the ID token's algorithm is not the one of its key"));
        }
        let o = &self.inner.options;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&o.issuer]);
        validation.set_audience(&[client_id]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = o.leeway.as_secs();
        let data = jsonwebtoken::decode::<IdToken>(token, &key.decoding, &validation)
            .map_err(|e| invalid(format!("the ID token is not valid: {e}")))?;
        let claims = data.claims;
        if !bool::from(subtle::ConstantTimeEq::ct_eq(
            claims.nonce.as_deref().unwrap_or("").as_bytes(),
            nonce.as_bytes(),
        )) {
            return Err(invalid("the ID token is not for this login (nonce)"));
        }
        if claims.azp.as_deref().is_some_and(|azp| azp != client_id) {
            return Err(invalid("the ID token was issued to another client (azp)"));
        }
        Ok(claims)
    }

    /// The endpoint `name` of the discovery document, if it names one.
    pub(super) fn endpoint(&self, name: &'static str) -> Result<Option<&str>, OidcError> {
        let d = &self.inner.discovery;
        let value = match name {
            "authorization_endpoint" => d.authorization_endpoint.as_deref(),
            "token_endpoint" => d.token_endpoint.as_deref(),
            "end_session_endpoint" => d.end_session_endpoint.as_deref(),
            _ => None,
        };
        if let Some(url) = value
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            return Err(OidcError::Config(format!("the {name} {url} is not an http(s) URL")));
        }
        Ok(value)
    }

    /// The HTTP client calls to the issuer go through.
    pub(super) fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }

    /// Checks an opaque token by introspection (RFC 7662), caching the answer until it expires (at most 60 s).
    async fn introspect(&self, token: &str) -> Result<Principal, Refusal> {
        use sha2::Digest as _;
        let (Some(client), Some(endpoint)) =
            (&self.inner.options.introspection, &self.inner.discovery.introspection_endpoint)
        else {
            return Err(invalid("the token is not a well-formed JWT"));
        };
        let digest: [u8; 32] = sha2::Sha256::digest(token.as_bytes()).into();
        if let Some(answer) = self.cached(&digest) {
            return answer;
        }
        let form = form_urlencoded::Serializer::new(String::new())
            .extend_pairs([("token", token), ("token_type_hint", "access_token")])
            .finish();
        let response = self
            .inner
            .http
            .post(endpoint)
            .basic_auth(&client.client_id, Some(&client.client_secret))
            .header(http::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .map_err(|_| invalid("the token could not be introspected"))?;
        if !response.status().is_success() {
            return Err(invalid("the token could not be introspected"));
        }
        let bytes = read_limited(response).await.map_err(|_| invalid("the token could not be introspected"))?;
        let answer: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|_| invalid("the token could not be introspected"))?;
        let o = &self.inner.options;
        let audience_ok = match &answer["aud"] {
            serde_json::Value::String(a) => *a == o.audience,
            serde_json::Value::Array(list) => list.iter().any(|a| a.as_str() == Some(&o.audience)),
            _ => false,
        };
        let exp = answer["exp"].as_u64();
        let result = if answer["active"] != serde_json::Value::Bool(true) {
            Err("the token is not active".to_owned())
        } else if answer["iss"].as_str().is_some_and(|i| i != o.issuer) {
            Err(format!("the token was not issued by {}", o.issuer))
        } else if !audience_ok {
            Err(format!("the token is not for {}", o.audience))
        } else {
            serde_json::from_value::<Claims>(answer.clone())
                .map(Claims::principal)
                .map_err(|_| "the introspection answer is malformed".to_owned())
        };
        let left = Duration::from_secs(exp.map_or(u64::MAX, |e| e.saturating_sub(unix_now())));
        self.remember(digest, left, result.clone());
        result.map_err(invalid)
    }

    fn challenge(&self) -> String {
        let o = &self.inner.options;
        let mut challenge = format!("Bearer realm=\"{}\", scope=\"{} {}\"", o.realm, o.read_scope, o.write_scope);
        if let Some(metadata) = &o.resource_metadata {
            challenge.push_str(&format!(", resource_metadata=\"{metadata}\""));
        }
        challenge
    }

    fn scope_for(&self, access: Access) -> &str {
        let o = &self.inner.options;
        match access {
            Access::Read => &o.read_scope,
            Access::Write => &o.write_scope,
            Access::Action => &o.action_scope,
        }
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs()
}

/// Where [`JwtVerifier::metadata_router`] serves the protected resource metadata (RFC 9728).
pub const PROTECTED_RESOURCE_METADATA_PATH: &str = "/.well-known/oauth-protected-resource";

#[async_trait]
impl Verifier for JwtVerifier {
    async fn verify(&self, credentials: &Credentials) -> Option<Principal> {
        self.check(credentials).await.ok()
    }

    async fn check(&self, credentials: &Credentials) -> Result<Principal, Refusal> {
        let Credentials::Bearer(token) = credentials else { return Err(Refusal::Unverified) };
        if token.len() > MAX_TOKEN_BYTES {
            return Err(invalid("the token is too long"));
        }
        if token.split('.').count() == 3 { self.check_jwt(token).await } else { self.introspect(token).await }
    }

    fn permits(&self, principal: &Principal, access: Access) -> bool {
        let o = &self.inner.options;
        match access {
            Access::Read => principal.has_scope(&o.read_scope) || principal.has_scope(&o.write_scope),
            _ => principal.has_scope(self.scope_for(access)),
        }
    }

    fn insufficient(&self, access: Access) -> Option<String> {
        let o = &self.inner.options;
        Some(format!(
            "Bearer realm=\"{}\", error=\"insufficient_scope\", scope=\"{}\"",
            o.realm,
            self.scope_for(access)
        ))
    }

    fn challenges(&self) -> Vec<String> {
        vec![self.challenge()]
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn scopes_come_from_scope_scp_or_roles() {
        let claims = |json: serde_json::Value| serde_json::from_value::<Claims>(json).unwrap().principal();
        let keycloak = claims(serde_json::json!({ "sub": "a", "scope": "oslc.read oslc.write" }));
        assert_eq!(keycloak.scopes, Some(vec!["oslc.read".to_owned(), "oslc.write".to_owned()]));
        let okta = claims(serde_json::json!({ "sub": "b", "scp": ["oslc.read"] }));
        assert!(okta.has_scope("oslc.read") && !okta.has_scope("oslc.write"));
        let entra = claims(serde_json::json!({ "client_id": "c", "roles": ["oslc.write"] }));
        assert_eq!(entra.name, "c");
        assert!(entra.has_scope("oslc.write"));
        let none = claims(serde_json::json!({ "sub": "d" }));
        assert!(!none.has_scope("oslc.read"), "a token without scopes is granted none");
    }
}
