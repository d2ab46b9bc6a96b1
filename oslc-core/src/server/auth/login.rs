//! People in a browser (feature `oidc`): OpenID Connect's authorization code flow with PKCE, ending in a cookie
//! session.
//!
//! With [`Auth::with_login`](super::Auth::with_login), a browser (a request that [prefers HTML](crate::server))
//! asking without credentials for a page that needs them is sent to the OpenID provider to log in, and comes back
//! to the page it asked for: a delegated dialog opened in a window or frame comes back to the dialog. A creation
//! dialog, whose only use is to write, sends the person to log in first even where reads need no credentials.
//!
//! [`BrowserLogin::router`] serves, at the root of the public URL:
//! - `GET /auth/login[?return_to=/path]`: starts a login;
//! - `GET /auth/callback`: where the provider sends the browser back (register `<public URL>/auth/callback` as the
//!   client's redirect URI);
//! - `GET /auth/session`: who is logged in, with a button to log out;
//! - `POST /auth/logout`: closes the session and, when the provider has an `end_session_endpoint`, logs out there
//!   too (RP-Initiated Logout; register `<public URL>/auth/session` as a post-logout redirect URI).
//!
//! A login is protected as OAuth 2.0 Security BCP (RFC 9700) asks: PKCE with S256, a `state` bound to the browser
//! by a short-lived cookie (so a login cannot be forced on someone else's browser), a `nonce` checked in the ID
//! token, the ID token verified against the issuer's keys (signature, `iss`, `aud`, `azp`, `exp`), and a way back
//! that can only be a path of this server (never another site). Logins in progress are bounded in number and
//! expire after ten minutes.
//!
//! The session's principal is named by the ID token (`preferred_username`, else `email`, `name`, `sub`), and has the
//! scopes of the access token the login got, checked as any bearer token is ([`JwtVerifier`]); when that token is
//! not one for this server, the scopes the token response names. So the same `oslc.read` and `oslc.write` decide
//! what a person may do. The login asks for the server's audience as its resource (RFC 8707) so that providers that
//! take resource indicators issue a token for this server.
//!
//! The session cookie is the [`Sessions`]' (`HttpOnly`, `SameSite=Lax`, or `None` for frames of other sites with
//! [`Sessions::cross_site`], `Secure` when asked). Writes on it keep the CSRF rule of the [module](super).
//!
//! ```no_run
//! use oslc_core::server::auth::{Auth, Policy, Sessions};
//! use oslc_core::server::auth::login::{BrowserLogin, LoginOptions};
//! use oslc_core::server::auth::oidc::{JwtVerifier, OidcOptions};
//!
//! # async fn run(router: axum::Router) -> Result<(), Box<dyn std::error::Error>> {
//! let public = "https://st2-oslc.example.com";
//! let jwt = JwtVerifier::discover(OidcOptions::new("https://login.example.com/realms/ops", public)).await?;
//! let login = BrowserLogin::new(&jwt, LoginOptions::new("st2-oslc", "s3cret", public), Sessions::new().secure(true))?;
//! let auth = Auth::new(jwt, Policy::protect_all()).with_login(login.clone());
//! let app = auth.layer(router).merge(login.router());
//! # let _ = app;
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use maud::{DOCTYPE, Markup, html};
use subtle::ConstantTimeEq as _;

use super::oidc::{JwtVerifier, OidcError, read_limited};
use super::{Credentials, Principal, Sessions, Verifier as _};

/// Where a login starts.
pub const LOGIN_PATH: &str = "/auth/login";
/// Where the provider sends the browser back (the redirect URI is the public URL and this path).
pub const CALLBACK_PATH: &str = "/auth/callback";
/// Where a person is told who is logged in (and where a logout at the provider comes back).
pub const SESSION_PATH: &str = "/auth/session";
/// Where a logout is posted.
pub const LOGOUT_PATH: &str = "/auth/logout";

/// The cookie binding a login in progress to the browser that started it.
const STATE_COOKIE: &str = "oslc_login";
/// How long a login may take.
const PENDING_TTL: Duration = Duration::from_secs(10 * 60);
/// Logins in progress kept at most.
const MAX_PENDING: usize = 10_000;
/// The longest way back kept, and the longest callback query read.
const MAX_RETURN_TO: usize = 2048;
const MAX_CALLBACK_QUERY: usize = 8 * 1024;

/// How [`BrowserLogin`] logs people in.
#[derive(Clone)]
#[non_exhaustive]
pub struct LoginOptions {
    /// This server's client id at the provider.
    pub client_id: String,
    /// Its secret (sent with HTTP Basic, `client_secret_basic`).
    pub client_secret: String,
    /// This server's public URL; the redirect URI is it followed by [`CALLBACK_PATH`].
    pub public_url: String,
    /// The scopes asked for (default `openid`, `profile`, and the verifier's read and write scopes).
    pub scopes: Option<Vec<String>>,
    /// The resource indicator asked for (RFC 8707; default the verifier's audience; `None` sends none).
    pub resource: Option<Option<String>>,
    /// Where a login with no way back (or an unusable one) ends (default `/`).
    pub home: String,
}

impl std::fmt::Debug for LoginOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginOptions")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("public_url", &self.public_url)
            .field("scopes", &self.scopes)
            .field("resource", &self.resource)
            .field("home", &self.home)
            .finish()
    }
}

impl LoginOptions {
    /// Logins as client `client_id` with `client_secret`, for the server at `public_url`.
    #[must_use]
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<String>, public_url: impl Into<String>) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            public_url: public_url.into(),
            scopes: None,
            resource: None,
            home: "/".to_owned(),
        }
    }

    /// The scopes asked for (`openid` is added if missing).
    #[must_use]
    pub fn with_scopes(mut self, scopes: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.scopes = Some(scopes.into_iter().map(Into::into).collect());
        self
    }

    /// The resource indicator asked for, or none.
    #[must_use]
    pub fn with_resource(mut self, resource: Option<String>) -> Self {
        self.resource = Some(resource);
        self
    }

    /// Where a login with no way back ends: a path of this server.
    #[must_use]
    pub fn with_home(mut self, home: impl Into<String>) -> Self {
        self.home = home.into();
        self
    }
}

/// Logs people in with the provider's authorization code flow (see the [module docs](self)). Cheap to clone.
#[derive(Clone)]
pub struct BrowserLogin {
    inner: Arc<Inner>,
}

struct Inner {
    verifier: JwtVerifier,
    sessions: Sessions,
    client_id: String,
    client_secret: String,
    public: String,
    redirect_uri: String,
    scope: String,
    resource: Option<String>,
    home: String,
    authorization_endpoint: String,
    token_endpoint: String,
    end_session_endpoint: Option<String>,
    /// The path of the login's routes as the browser sees them (the public URL's path and `/auth`), where the
    /// cookie binding a login to the browser is sent.
    cookie_path: String,
    /// The origins a page of the login may send a form to (itself, and the provider's end-session endpoint).
    form_action: String,
    pending: Mutex<HashMap<String, Pending>>,
}

/// A login in progress, by its `state`.
struct Pending {
    code_verifier: String,
    nonce: String,
    return_to: String,
    started: Instant,
}

impl std::fmt::Debug for BrowserLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrowserLogin")
            .field("client_id", &self.inner.client_id)
            .field("redirect_uri", &self.inner.redirect_uri)
            .field("scope", &self.inner.scope)
            .finish_non_exhaustive()
    }
}

/// 32 random bytes, base64url: a `state`, `nonce` or PKCE code verifier (RFC 7636 §4.1: 43 characters).
fn random_token() -> String {
    use rand::Rng as _;
    let bytes: [u8; 32] = rand::rng().random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The origin (`scheme://authority`) of an http(s) URL.
fn origin_of(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"))?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    Some(&url[..url.len() - rest.len() + end])
}

/// `target` if it is a path of this server (`/…`, never `//host` or `/\host`, which browsers take as another
/// site), of printable ASCII and not too long.
fn local_path(target: &str) -> Option<&str> {
    let ok = target.starts_with('/')
        && !target.starts_with("//")
        && !target.starts_with("/\\")
        && target.len() <= MAX_RETURN_TO
        && target.bytes().all(|b| b.is_ascii_graphic());
    ok.then_some(target)
}

impl BrowserLogin {
    /// Logins with the provider `verifier` reads tokens of, opening sessions in `sessions`.
    ///
    /// # Errors
    /// [`OidcError::NoEndpoint`] when the provider's discovery document names no authorization or token
    /// endpoint; [`OidcError::Config`] when the public URL or the home is not usable.
    pub fn new(verifier: &JwtVerifier, options: LoginOptions, sessions: Sessions) -> Result<Self, OidcError> {
        let issuer = verifier.options().issuer.clone();
        let required = |name: &'static str| {
            verifier
                .endpoint(name)?
                .map(str::to_owned)
                .ok_or(OidcError::NoEndpoint { issuer: issuer.clone(), endpoint: name })
        };
        let authorization_endpoint = required("authorization_endpoint")?;
        let token_endpoint = required("token_endpoint")?;
        let end_session_endpoint = verifier.endpoint("end_session_endpoint")?.map(str::to_owned);
        let public = options.public_url.trim_end_matches('/').to_owned();
        if origin_of(&public).is_none() {
            return Err(OidcError::Config(format!("the public URL {public} is not an http(s) URL")));
        }
        let home = local_path(&options.home)
            .ok_or_else(|| OidcError::Config(format!("the home {} is not a path of this server", options.home)))?
            .to_owned();
        let mut scopes = options.scopes.clone().unwrap_or_else(|| {
            let o = verifier.options();
            vec!["openid".to_owned(), "profile".to_owned(), o.read_scope.clone(), o.write_scope.clone()]
        });
        if !scopes.iter().any(|s| s == "openid") {
            scopes.insert(0, "openid".to_owned());
        }
        scopes.dedup();
        let resource = options.resource.clone().unwrap_or_else(|| Some(verifier.options().audience.clone()));
        let mut form_action = "'self'".to_owned();
        if let Some(origin) = end_session_endpoint.as_deref().and_then(origin_of) {
            form_action.push(' ');
            form_action.push_str(origin);
        }
        let public_path = origin_of(&public).map_or("", |origin| &public[origin.len()..]);
        let cookie_path = format!("{public_path}/auth");
        Ok(Self {
            inner: Arc::new(Inner {
                cookie_path,
                verifier: verifier.clone(),
                sessions,
                redirect_uri: format!("{public}{CALLBACK_PATH}"),
                client_id: options.client_id,
                client_secret: options.client_secret,
                public,
                scope: scopes.join(" "),
                resource,
                home,
                authorization_endpoint,
                token_endpoint,
                end_session_endpoint,
                form_action,
                pending: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// The sessions logins open.
    #[must_use]
    pub fn sessions(&self) -> &Sessions {
        &self.inner.sessions
    }

    /// The redirect URI to register at the provider.
    #[must_use]
    pub fn redirect_uri(&self) -> &str {
        &self.inner.redirect_uri
    }

    /// The login's routes ([`LOGIN_PATH`], [`CALLBACK_PATH`], [`SESSION_PATH`], [`LOGOUT_PATH`]), to serve at the
    /// root of the public URL, outside the auth layer.
    pub fn router<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        let (start, back, session, logout) = (self.clone(), self.clone(), self.clone(), self.clone());
        Router::new()
            .route(
                LOGIN_PATH,
                axum::routing::get(move |request: Request| {
                    let login = start.clone();
                    async move {
                        let asked = request.uri().query().and_then(|q| {
                            form_urlencoded::parse(q.as_bytes())
                                .find(|(k, _)| k == "return_to")
                                .map(|(_, v)| v.into_owned())
                        });
                        login.begin(asked.as_deref())
                    }
                }),
            )
            .route(
                CALLBACK_PATH,
                axum::routing::get(move |request: Request| {
                    let login = back.clone();
                    async move { login.callback(request.uri().query(), request.headers()).await }
                }),
            )
            .route(
                SESSION_PATH,
                axum::routing::get(move |request: Request| {
                    let login = session.clone();
                    async move { login.session_page(request.headers()) }
                }),
            )
            .route(
                LOGOUT_PATH,
                axum::routing::post(move |request: Request| {
                    let login = logout.clone();
                    async move { login.logout(request.headers()) }
                }),
            )
    }

    /// Whether the request carries a cookie of an open session.
    pub(super) fn has_session(&self, headers: &HeaderMap) -> bool {
        let sessions = &self.inner.sessions;
        sessions.presented(headers).is_some_and(|id| sessions.resume(&id).is_some())
    }

    /// Starts a login that comes back to `return_to` (a path of this server; otherwise the home): a 303 to the
    /// provider's authorization endpoint, with the cookie binding the login to this browser.
    pub(super) fn begin(&self, return_to: Option<&str>) -> Response {
        let inner = &self.inner;
        let return_to = return_to.and_then(local_path).unwrap_or(&inner.home).to_owned();
        let (state, nonce, code_verifier) = (random_token(), random_token(), random_token());
        let challenge = {
            use sha2::Digest as _;
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(code_verifier.as_bytes()))
        };
        {
            let mut pending = inner.pending.lock().unwrap_or_else(PoisonError::into_inner);
            if pending.len() >= MAX_PENDING {
                pending.retain(|_, p| p.started.elapsed() < PENDING_TTL);
            }
            if pending.len() >= MAX_PENDING {
                // Full of fresh logins (someone is starting many): the oldest eighth goes.
                let mut by_age: Vec<(Instant, String)> = pending.iter().map(|(k, p)| (p.started, k.clone())).collect();
                by_age.sort_unstable();
                for (_, state) in by_age.into_iter().take(MAX_PENDING / 8) {
                    pending.remove(&state);
                }
            }
            pending.insert(
                state.clone(),
                Pending { code_verifier, nonce: nonce.clone(), return_to, started: Instant::now() },
            );
        }
        let mut query = form_urlencoded::Serializer::new(String::new());
        query.extend_pairs([
            ("response_type", "code"),
            ("client_id", inner.client_id.as_str()),
            ("redirect_uri", inner.redirect_uri.as_str()),
            ("scope", inner.scope.as_str()),
            ("state", state.as_str()),
            ("nonce", nonce.as_str()),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ]);
        if let Some(resource) = &inner.resource {
            query.append_pair("resource", resource);
        }
        let separator = if inner.authorization_endpoint.contains('?') { '&' } else { '?' };
        let location = format!("{}{separator}{}", inner.authorization_endpoint, query.finish());
        let mut response = see_other(&location);
        if let Some(cookie) = inner.sessions.cookie_header(STATE_COOKIE, &state, &inner.cookie_path, Some(PENDING_TTL))
        {
            response.headers_mut().append(header::SET_COOKIE, cookie);
        }
        response
    }

    /// The provider sent the browser back: checks the login, asks for the tokens, verifies the ID token, opens a
    /// session and goes back where the login started.
    async fn callback(&self, query: Option<&str>, headers: &HeaderMap) -> Response {
        let inner = &self.inner;
        let query = query.unwrap_or_default();
        if query.len() > MAX_CALLBACK_QUERY {
            return self.failed(StatusCode::BAD_REQUEST, "the answer from the OpenID provider is too long");
        }
        let params: HashMap<String, String> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
        let Some(state) = params.get("state") else {
            return self.failed(StatusCode::BAD_REQUEST, "the answer from the OpenID provider has no state");
        };
        // The login must be one this browser started, and is used once.
        let bound = Sessions::cookie_value(headers, STATE_COOKIE)
            .is_some_and(|cookie| bool::from(cookie.as_bytes().ct_eq(state.as_bytes())));
        if !bound {
            return self.failed(StatusCode::BAD_REQUEST, "this login was not started by this browser");
        }
        let pending = inner.pending.lock().unwrap_or_else(PoisonError::into_inner).remove(state);
        let Some(pending) = pending.filter(|p| p.started.elapsed() < PENDING_TTL) else {
            return self.failed(StatusCode::BAD_REQUEST, "this login is unknown or has expired");
        };
        if let Some(error) = params.get("error") {
            let description = params.get("error_description").map_or(String::new(), |d| format!(": {d}"));
            return self.failed(
                StatusCode::FORBIDDEN,
                &format!("the OpenID provider refused the login ({error}{description})"),
            );
        }
        let Some(code) = params.get("code") else {
            return self.failed(StatusCode::BAD_REQUEST, "the answer from the OpenID provider has no code");
        };
        let principal = match self.exchange(code, &pending).await {
            Ok(principal) => principal,
            Err(reason) => {
                tracing::warn!(reason = %reason, "an OpenID Connect login failed");
                return self.failed(StatusCode::BAD_GATEWAY, &reason);
            }
        };
        tracing::info!(principal = %principal.name, "logged in with OpenID Connect");
        // A session opened before (another login in this browser) is closed: one browser, one principal.
        if let Some(old) = inner.sessions.presented(headers) {
            inner.sessions.close(&old);
        }
        let Some(session) = inner.sessions.open(principal) else {
            return self.failed(StatusCode::SERVICE_UNAVAILABLE, "no session could be opened");
        };
        let mut response = see_other(&format!("{}{}", inner.public, pending.return_to));
        let h = response.headers_mut();
        h.append(header::SET_COOKIE, session);
        if let Some(clear) = inner.sessions.cookie_header(STATE_COOKIE, "", &inner.cookie_path, Some(Duration::ZERO)) {
            h.append(header::SET_COOKIE, clear);
        }
        response
    }

    /// Trades the code for tokens (with the PKCE verifier) and makes the principal of the ID token.
    async fn exchange(&self, code: &str, pending: &Pending) -> Result<Principal, String> {
        let inner = &self.inner;
        let form = form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", inner.redirect_uri.as_str()),
                ("code_verifier", pending.code_verifier.as_str()),
            ])
            .finish();
        let (id, secret) = crate::oauth::form_encoded_client(&inner.client_id, &inner.client_secret);
        let response = inner
            .verifier
            .http()
            .post(&inner.token_endpoint)
            .basic_auth(id, Some(secret))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .body(form)
            .send()
            .await
            .map_err(|e| format!("the token endpoint could not be reached: {e}"))?;
        let status = response.status();
        let bytes = read_limited(response).await.map_err(|e| format!("the token endpoint's answer: {e}"))?;
        let answer: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|_| format!("the token endpoint answered {status} with something other than JSON"))?;
        if !status.is_success() {
            let error = answer["error"].as_str().unwrap_or("an error");
            return Err(format!("the token endpoint refused the code ({error})"));
        }
        let id_token = answer["id_token"].as_str().ok_or("the token endpoint's answer has no ID token")?;
        let claims =
            inner.verifier.verify_id_token(id_token, &inner.client_id, &pending.nonce).await.map_err(|r| match r {
                super::Refusal::InvalidToken { description } => description,
                super::Refusal::Unverified => "the ID token is not valid".to_owned(),
            })?;
        let name = claims.preferred_username.or(claims.email).or(claims.name).unwrap_or(claims.sub);
        // The scopes of the access token, read as any bearer token is; else those the answer names.
        let from_token = match answer["access_token"].as_str() {
            Some(token) => {
                inner.verifier.check(&Credentials::Bearer(token.to_owned())).await.ok().and_then(|p| p.scopes)
            }
            None => None,
        };
        let scopes = from_token.unwrap_or_else(|| {
            answer["scope"].as_str().map(|s| s.split_whitespace().map(str::to_owned).collect()).unwrap_or_default()
        });
        Ok(Principal::new(name).with_scopes(scopes))
    }

    /// Who is logged in, with a logout button; or a link to log in.
    fn session_page(&self, headers: &HeaderMap) -> Response {
        let sessions = &self.inner.sessions;
        let principal = sessions.presented(headers).and_then(|id| sessions.resume(&id));
        let login = format!("{}{LOGIN_PATH}", self.inner.public);
        let body = match &principal {
            Some(p) => html! {
                p { "Logged in as " strong.oslc-principal { (p.name) } "." }
                @if let Some(scopes) = &p.scopes {
                    p { "Scopes: " code { (scopes.join(" ")) } }
                }
                form method="post" action={ (self.inner.public) (LOGOUT_PATH) } {
                    button type="submit" { "Log out" }
                }
            },
            None => html! {
                p.oslc-anonymous { "Not logged in." }
                p { a href=(login) { "Log in" } }
            },
        };
        self.page(StatusCode::OK, "Session", body)
    }

    /// Closes the session, and logs out at the provider when it can.
    fn logout(&self, headers: &HeaderMap) -> Response {
        let inner = &self.inner;
        // A logout another site's page posts is refused: a person is not logged out behind their back.
        if headers.get("sec-fetch-site").is_some_and(|v| v.as_bytes() == b"cross-site") {
            return self.failed(StatusCode::FORBIDDEN, "a logout must come from this server's own page");
        }
        if let Some(id) = inner.sessions.presented(headers) {
            inner.sessions.close(&id);
        }
        let back = format!("{}{SESSION_PATH}", inner.public);
        let location = match &inner.end_session_endpoint {
            Some(end) => {
                let query = form_urlencoded::Serializer::new(String::new())
                    .extend_pairs([
                        ("client_id", inner.client_id.as_str()),
                        ("post_logout_redirect_uri", back.as_str()),
                    ])
                    .finish();
                let separator = if end.contains('?') { '&' } else { '?' };
                format!("{end}{separator}{query}")
            }
            None => back,
        };
        let mut response = see_other(&location);
        if let Some(clear) = inner.sessions.cookie_header(inner.sessions.cookie_name(), "", "/", Some(Duration::ZERO)) {
            response.headers_mut().append(header::SET_COOKIE, clear);
        }
        response
    }

    /// A page saying why a login failed, with a way to try again.
    fn failed(&self, status: StatusCode, reason: &str) -> Response {
        let login = format!("{}{LOGIN_PATH}", self.inner.public);
        let body = html! {
            p.oslc-error { "The login did not succeed: " (reason) "." }
            p { a href=(login) { "Log in again" } }
        };
        self.page(status, "Login failed", body)
    }

    fn page(&self, status: StatusCode, title: &str, body: Markup) -> Response {
        let page = html! {
            (DOCTYPE)
            html lang="en" {
                head { meta charset="utf-8"; title { (title) } }
                body { main { h1 { (title) } (body) } }
            }
        };
        let mut response = (status, page.into_string()).into_response();
        let h = response.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        let policy = format!(
            "default-src 'none'; form-action {}; base-uri 'none'; frame-ancestors 'none'",
            self.inner.form_action
        );
        if let Ok(value) = HeaderValue::from_str(&policy) {
            h.insert(header::CONTENT_SECURITY_POLICY, value);
        }
        response
    }
}

/// A 303 to `location`, never cached.
fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_way_back_is_only_ever_a_path_of_this_server() {
        assert_eq!(
            local_path("/dialogs/1/changeRequests/selection/form?q=x"),
            Some("/dialogs/1/changeRequests/selection/form?q=x")
        );
        for elsewhere in ["//evil.example", "/\\evil.example", "https://evil.example/", "evil", "", "/a b", "/\u{7f}"] {
            assert_eq!(local_path(elsewhere), None, "{elsewhere:?}");
        }
        assert_eq!(local_path(&format!("/{}", "a".repeat(MAX_RETURN_TO))), None);
    }

    #[test]
    fn origins_of_urls() {
        assert_eq!(origin_of("https://login.example.com/realms/x/logout?y"), Some("https://login.example.com"));
        assert_eq!(origin_of("http://127.0.0.1:9000"), Some("http://127.0.0.1:9000"));
        assert_eq!(origin_of("javascript:alert(1)"), None);
    }

    #[test]
    fn random_tokens_are_pkce_verifiers() {
        let token = random_token();
        assert_eq!(token.len(), 43, "RFC 7636 §4.1: 43 to 128 characters");
        assert_ne!(token, random_token());
    }
}
