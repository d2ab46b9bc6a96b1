//! OAuth 2.0 for the client (feature `oidc`): the client credentials grant (RFC 6749 §4.4), for server-to-server
//! calls, such as a bridge running another tool's OSLC Actions under its own identity.
//!
//! A [`ClientCredentials`] finds the issuer's token endpoint in its discovery document, asks for a token (with the
//! scope and the resource indicator, RFC 8707, that name what it is for), keeps it, and asks for a new one when
//! three quarters of its lifetime have passed (or when the server refused it). Given to the OSLC client as
//! [`crate::client::Credential::ClientCredentials`], every request to its URL prefix carries the token.
//!
//! ```no_run
//! use oslc_core::client::{Client, Credential};
//! use oslc_core::oauth::ClientCredentials;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let tokens = ClientCredentials::discover("https://login.example.com/realms/ops", "bridge", "s3cret")
//!     .await?
//!     .with_scope("oslc.read oslc.write")
//!     .with_resource("https://tracker.example.com");
//! let client = Client::new()?.with_credential("https://tracker.example.com/", Credential::ClientCredentials(tokens));
//! # let _ = client;
//! # Ok(()) }
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::{Error, Result};

/// The longest token response read.
const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// Tokens of one client from one issuer (see the [module docs](self)). Cheap to clone: clones share the token.
#[derive(Clone)]
pub struct ClientCredentials {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    token_endpoint: String,
    client_id: String,
    client_secret: String,
    scope: Option<String>,
    resource: Option<String>,
    /// The token, when to renew it, and when it expires.
    token: tokio::sync::Mutex<Option<Held>>,
}

#[derive(Clone)]
struct Held {
    token: String,
    renew: Instant,
    expires: Instant,
}

impl std::fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("token_endpoint", &self.inner.token_endpoint)
            .field("client_id", &self.inner.client_id)
            .field("client_secret", &"<redacted>")
            .field("scope", &self.inner.scope)
            .field("resource", &self.inner.resource)
            .finish_non_exhaustive()
    }
}

impl PartialEq for ClientCredentials {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl Eq for ClientCredentials {}

fn http_client() -> Result<reqwest::Client> {
    crate::client::http_client(Duration::from_secs(10), Duration::from_secs(5))
}

async fn json(response: reqwest::Response, url: &str) -> Result<serde_json::Value> {
    let status = response.status();
    let mut response = response;
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| remote(url, None, e.to_string()))? {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(remote(url, Some(status.as_u16()), format!("answer larger than {MAX_RESPONSE_BYTES} bytes")));
        }
        body.extend_from_slice(&chunk);
    }
    let value: serde_json::Value =
        serde_json::from_slice(&body).map_err(|e| remote(url, Some(status.as_u16()), format!("not JSON: {e}")))?;
    if !status.is_success() {
        // RFC 6749 §5.2: error and error_description.
        let said =
            [value["error"].as_str(), value["error_description"].as_str()].into_iter().flatten().collect::<Vec<_>>();
        return Err(remote(url, Some(status.as_u16()), said.join(": ")));
    }
    Ok(value)
}

/// A client id and secret as HTTP Basic carries them to a token endpoint: each form-urlencoded first (RFC 6749
/// §2.3.1), so that a `:` or a non-ASCII character in them survives.
pub(crate) fn form_encoded_client(id: &str, secret: &str) -> (String, String) {
    let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    (encode(id), encode(secret))
}

fn remote(url: &str, status: Option<u16>, message: String) -> Error {
    let retryable = status.is_none_or(|s| s == 429 || s >= 500);
    Error::Remote { uri: url.to_owned(), status, message, retryable }
}

impl ClientCredentials {
    /// The client `client_id` of `issuer`, whose token endpoint its discovery document names.
    ///
    /// # Errors
    /// [`Error::Remote`] when the discovery document cannot be read or names no token endpoint.
    pub async fn discover(
        issuer: &str,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> Result<Self> {
        let http = http_client()?;
        let url = format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/'));
        let response = http.get(&url).send().await.map_err(|e| remote(&url, None, e.to_string()))?;
        let discovery = json(response, &url).await?;
        let token_endpoint = discovery["token_endpoint"]
            .as_str()
            .ok_or_else(|| remote(&url, None, "the discovery document names no token_endpoint".to_owned()))?
            .to_owned();
        Ok(Self::new(http, token_endpoint, client_id.into(), client_secret.into()))
    }

    /// The client `client_id` at a known token endpoint.
    ///
    /// # Errors
    /// [`Error::Backend`] if the HTTP client cannot be built.
    pub fn with_token_endpoint(
        token_endpoint: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> Result<Self> {
        Ok(Self::new(http_client()?, token_endpoint.into(), client_id.into(), client_secret.into()))
    }

    fn new(http: reqwest::Client, token_endpoint: String, client_id: String, client_secret: String) -> Self {
        Self {
            inner: Arc::new(Inner {
                http,
                token_endpoint,
                client_id,
                client_secret,
                scope: None,
                resource: None,
                token: tokio::sync::Mutex::new(None),
            }),
        }
    }

    fn rebuilt(self, change: impl FnOnce(&mut Option<String>, &mut Option<String>)) -> Self {
        let inner = &self.inner;
        let (mut scope, mut resource) = (inner.scope.clone(), inner.resource.clone());
        change(&mut scope, &mut resource);
        Self {
            inner: Arc::new(Inner {
                http: inner.http.clone(),
                token_endpoint: inner.token_endpoint.clone(),
                client_id: inner.client_id.clone(),
                client_secret: inner.client_secret.clone(),
                scope,
                resource,
                token: tokio::sync::Mutex::new(None),
            }),
        }
    }

    /// The scopes asked for (space separated).
    #[must_use]
    pub fn with_scope(self, scope: impl Into<String>) -> Self {
        let scope = scope.into();
        self.rebuilt(|s, _| *s = Some(scope))
    }

    /// The resource the tokens are for (RFC 8707 resource indicator; the server's audience).
    #[must_use]
    pub fn with_resource(self, resource: impl Into<String>) -> Self {
        let resource = resource.into();
        self.rebuilt(|_, r| *r = Some(resource))
    }

    /// A token: the one held while it is fresh, else a new one.
    ///
    /// # Errors
    /// [`Error::Remote`] when the token endpoint refuses or cannot be reached and no unexpired token is held.
    pub async fn token(&self) -> Result<String> {
        let mut held = self.inner.token.lock().await;
        let now = Instant::now();
        if let Some(h) = held.as_ref()
            && now < h.renew
        {
            return Ok(h.token.clone());
        }
        match self.fetch().await {
            Ok(fresh) => {
                let token = fresh.token.clone();
                *held = Some(fresh);
                Ok(token)
            }
            // Renewal failed: the old token serves until it expires.
            Err(e) => match held.as_ref() {
                Some(h) if now < h.expires => {
                    tracing::warn!(error = %e, "the access token could not be renewed; using the current one");
                    Ok(h.token.clone())
                }
                _ => Err(e),
            },
        }
    }

    /// Drops the token held (a server refused it), so the next [`ClientCredentials::token`] asks for a new one.
    pub async fn forget(&self) {
        *self.inner.token.lock().await = None;
    }

    async fn fetch(&self) -> Result<Held> {
        let inner = &self.inner;
        let body = {
            let mut form = form_urlencoded::Serializer::new(String::new());
            form.append_pair("grant_type", "client_credentials");
            if let Some(scope) = &inner.scope {
                form.append_pair("scope", scope);
            }
            if let Some(resource) = &inner.resource {
                form.append_pair("resource", resource);
            }
            form.finish()
        };
        let url = &inner.token_endpoint;
        let asked = Instant::now();
        let (id, secret) = form_encoded_client(&inner.client_id, &inner.client_secret);
        let response = inner
            .http
            .post(url)
            .basic_auth(id, Some(secret))
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(reqwest::header::ACCEPT, "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| remote(url, None, e.to_string()))?;
        let answer = json(response, url).await?;
        let token = answer["access_token"]
            .as_str()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| remote(url, None, "the answer holds no access_token".to_owned()))?
            .to_owned();
        if answer["token_type"].as_str().is_some_and(|t| !t.eq_ignore_ascii_case("bearer")) {
            return Err(remote(url, None, format!("token type {} is not Bearer", answer["token_type"])));
        }
        let lifetime = Duration::from_secs(answer["expires_in"].as_u64().unwrap_or(300));
        Ok(Held { token, renew: asked + lifetime * 3 / 4, expires: asked + lifetime })
    }
}
