//! Authentication as a layer over any router: a [`Verifier`] checks the credentials a request carries, and a
//! [`Policy`] says which requests need them, by [`Access`]: reads, writes, and the kit's OSLC Actions (told apart
//! with [`Auth::with_actions`]). A verifier may allow a principal some kinds and not others
//! ([`Verifier::permits`], 403 otherwise), as scoped tokens do. A CORS preflight never needs credentials.
//!
//! [`StaticToken`] is the simple setup: one secret, accepted as a bearer token (`Authorization: Bearer <token>`)
//! and as the password of HTTP Basic with any user name, which is what OSLC clients that cannot add a header of
//! their own (or that fall back to Basic) send. Tokens are compared in constant time.
//!
//! A refused request gets 401 with an `oslc:Error` naming what was received (never its value), and a
//! `WWW-Authenticate` challenge for each scheme the verifier takes (Basic first: clients such as Node's `request`
//! answer only the first challenge of the header, and they know Basic).
//!
//! With [`Auth::with_sessions`], a client that authenticated with HTTP Basic gets a session cookie, as a Jazz
//! server sets `JSESSIONID` after a login: clients that keep cookies and send credentials only when challenged
//! (the OSLC organisation's `oslc-client`, elmclient) then write on the session. A write made with the cookie alone
//! must not be one a browser sends cross-site without a CORS preflight: it carries `X-Jazz-CSRF-Prevent` equal to
//! the session id (Jazz's convention), or the browser marks it `Sec-Fetch-Site: same-origin` (a form of the
//! server's own pages), or it is a PUT, PATCH or DELETE, or a POST whose content type is not one an HTML form
//! sends; otherwise it gets 403. The cookie is `HttpOnly`, `SameSite=Lax`, `Secure` when asked.
//!
//! ```
//! use oslc_core::server::auth::{Auth, Policy, StaticToken};
//! # use tower::ServiceExt;
//!
//! let router: axum::Router = axum::Router::new().route("/r", axum::routing::post(|| async { "written" }));
//! let auth = Auth::new(StaticToken::new("s3cret"), Policy::protect_writes());
//! let router = auth.layer(router);
//! # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
//! let anonymous = axum::http::Request::post("/r").body(axum::body::Body::empty())?;
//! assert_eq!(router.clone().oneshot(anonymous).await?.status(), 401);
//! let basic = axum::http::Request::post("/r")
//!     .header("authorization", "Basic dXNlcjpzM2NyZXQ=") // user:s3cret
//!     .body(axum::body::Body::empty())?;
//! assert_eq!(router.oneshot(basic).await?.status(), 200);
//! # Ok::<_, Box<dyn std::error::Error>>(()) })?;
//! Ok::<_, Box<dyn std::error::Error>>(())
//! ```

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use async_trait::async_trait;
use axum::Router;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use futures_util::future::Either as OneOf;
use http::{HeaderValue, Method, header};
use subtle::ConstantTimeEq as _;

use super::ErrorResponse;
use crate::Error;

#[cfg(feature = "oidc")]
#[cfg_attr(docsrs, doc(cfg(feature = "oidc")))]
pub mod login;
#[cfg(feature = "oidc")]
#[cfg_attr(docsrs, doc(cfg(feature = "oidc")))]
pub mod oidc;
mod sessions;

use sessions::csrf_suspect;
pub use sessions::{CSRF_HEADER, Sessions};

/// The credentials a request carries.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Credentials {
    /// No `Authorization` header.
    None,
    /// `Authorization: Bearer <token>`.
    Bearer(String),
    /// `Authorization: Basic <base64 user:password>`.
    Basic {
        /// The user name.
        user: String,
        /// The password.
        password: String,
    },
    /// A scheme this crate does not read, or a malformed header.
    Other(String),
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secrets themselves.
        f.write_str(self.describe())
    }
}

impl Credentials {
    /// The credentials of an `Authorization` header value (RFC 9110 §11.4: the scheme is case-insensitive).
    #[must_use]
    pub fn from_header(value: Option<&HeaderValue>) -> Self {
        let Some(value) = value.and_then(|v| v.to_str().ok()).map(str::trim) else { return Self::None };
        let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
        let rest = rest.trim();
        if scheme.eq_ignore_ascii_case("bearer") && !rest.is_empty() {
            return Self::Bearer(rest.to_owned());
        }
        if scheme.eq_ignore_ascii_case("basic")
            && let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(rest)
            && let Ok(text) = String::from_utf8(decoded)
            && let Some((user, password)) = text.split_once(':')
        {
            return Self::Basic { user: user.to_owned(), password: password.to_owned() };
        }
        Self::Other(scheme.to_owned())
    }

    /// What was received, for messages: never the secret.
    #[must_use]
    pub fn describe(&self) -> &'static str {
        match self {
            Self::None => "no credentials",
            Self::Bearer(_) => "a bearer token",
            Self::Basic { .. } => "HTTP Basic credentials",
            Self::Other(_) => "an Authorization header of a scheme this server does not take",
        }
    }
}

/// Who a request was made by, once verified.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Principal {
    /// A name for logs (the Basic user name, `token` for a static token, a token's subject).
    pub name: String,
    /// The scopes its credentials were granted, for credentials that have scopes (OAuth 2.0 access tokens);
    /// `None` for credentials that allow whatever the policy protects.
    pub scopes: Option<Vec<String>>,
}

impl Principal {
    /// A principal named `name`, with no scopes.
    #[must_use]
    pub fn new(name: impl Into<String>) -> Self {
        Self { name: name.into(), scopes: None }
    }

    /// The same, granted `scopes`.
    #[must_use]
    pub fn with_scopes(mut self, scopes: Vec<String>) -> Self {
        self.scopes = Some(scopes);
        self
    }

    /// Whether it was granted `scope` (always, for credentials without scopes).
    #[must_use]
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.as_ref().is_none_or(|s| s.iter().any(|g| g == scope))
    }
}

/// Why credentials were refused: what a 401 says (RFC 6750 §3.1 for bearer tokens).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// Nothing more to say than that they prove nothing (no `error` parameter).
    Unverified,
    /// A bearer token that is expired, revoked, malformed, or for someone else: `error="invalid_token"`.
    InvalidToken {
        /// Why, for `error_description` (never the token).
        description: String,
    },
}

/// What a request does, as the auth layer classifies it for [`Policy`] and [`Verifier::permits`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Access {
    /// GET, HEAD, and form-encoded POSTs to a query capability (OSLC Query 3.0 queries sent as a form).
    Read,
    /// Creating, replacing and deleting: every other method but OPTIONS.
    Write,
    /// Running an OSLC Action the kit routes (`POST <member>/<action>`, known through [`Auth::with_actions`]).
    Action,
}

/// Checks credentials.
#[async_trait]
pub trait Verifier: Send + Sync + 'static {
    /// The principal the credentials prove, or `None` when they prove nothing.
    async fn verify(&self, credentials: &Credentials) -> Option<Principal>;

    /// [`Verifier::verify`], saying why credentials were refused (the default says nothing more).
    async fn check(&self, credentials: &Credentials) -> Result<Principal, Refusal> {
        self.verify(credentials).await.ok_or(Refusal::Unverified)
    }

    /// The challenge of a 403 for `access` (RFC 6750 `error="insufficient_scope"`), for verifiers whose
    /// principals have scopes; default none.
    fn insufficient(&self, access: Access) -> Option<String> {
        let _ = access;
        None
    }

    /// The challenges of a 401 for `refusal`: by default [`Verifier::challenges`], with `error="invalid_token"`
    /// and its description added to the `Bearer` challenge for an invalid token.
    fn challenges_for(&self, refusal: &Refusal) -> Vec<String> {
        let mut challenges = self.challenges();
        if let Refusal::InvalidToken { description } = refusal {
            let description = description.replace(['"', '\\'], "'");
            for challenge in &mut challenges {
                if challenge.starts_with("Bearer") {
                    let separator = if challenge.len() > "Bearer".len() { "," } else { "" };
                    challenge
                        .push_str(&format!("{separator} error=\"invalid_token\", error_description=\"{description}\""));
                }
            }
        }
        challenges
    }

    /// Whether `principal` may make a request of kind `access` (default: whoever is verified may do anything the
    /// policy protects). A verifier of scoped tokens answers from the token's scopes; a refusal is a 403.
    fn permits(&self, principal: &Principal, access: Access) -> bool {
        let _ = (principal, access);
        true
    }

    /// The `WWW-Authenticate` challenges a 401 carries, one per scheme taken (such as `Bearer realm="x"`).
    fn challenges(&self) -> Vec<String>;
}

/// One secret, taken as a bearer token or as a Basic password with any user name.
#[derive(Clone)]
pub struct StaticToken {
    token: Arc<str>,
    realm: String,
}

impl std::fmt::Debug for StaticToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaticToken").field("token", &"<redacted>").field("realm", &self.realm).finish()
    }
}

impl StaticToken {
    /// The verifier of `token`, realm `oslc`.
    #[must_use]
    pub fn new(token: impl Into<String>) -> Self {
        Self { token: Arc::from(token.into()), realm: "oslc".to_owned() }
    }

    /// The realm named in challenges.
    #[must_use]
    pub fn with_realm(mut self, realm: impl Into<String>) -> Self {
        self.realm = realm.into();
        self
    }

    fn matches(&self, presented: &str) -> bool {
        self.token.as_bytes().ct_eq(presented.as_bytes()).into()
    }
}

#[async_trait]
impl Verifier for StaticToken {
    async fn verify(&self, credentials: &Credentials) -> Option<Principal> {
        match credentials {
            Credentials::Bearer(token) if self.matches(token) => Some(Principal::new("token")),
            Credentials::Basic { user, password } if self.matches(password) => Some(Principal::new(user.clone())),
            _ => None,
        }
    }

    fn challenges(&self) -> Vec<String> {
        vec![format!("Basic realm=\"{}\"", self.realm), format!("Bearer realm=\"{}\"", self.realm)]
    }
}

/// Two verifiers, either of which may prove a request's credentials (such as a [`StaticToken`] for simple clients
/// and an OpenID provider's tokens): the first that proves them names the principal; a refusal says what the more
/// specific of the two said; a principal needs what both permit (a verifier lets through principals it does not
/// restrict).
#[derive(Debug, Clone)]
pub struct Either<A, B> {
    first: A,
    second: B,
}

impl<A: Verifier, B: Verifier> Either<A, B> {
    /// `first`, else `second`.
    #[must_use]
    pub fn new(first: A, second: B) -> Self {
        Self { first, second }
    }
}

#[async_trait]
impl<A: Verifier, B: Verifier> Verifier for Either<A, B> {
    async fn verify(&self, credentials: &Credentials) -> Option<Principal> {
        self.check(credentials).await.ok()
    }

    async fn check(&self, credentials: &Credentials) -> Result<Principal, Refusal> {
        let first = match self.first.check(credentials).await {
            Ok(principal) => return Ok(principal),
            Err(refusal) => refusal,
        };
        match self.second.check(credentials).await {
            Ok(principal) => Ok(principal),
            Err(Refusal::Unverified) => Err(first),
            Err(refusal) => Err(refusal),
        }
    }

    fn permits(&self, principal: &Principal, access: Access) -> bool {
        self.first.permits(principal, access) && self.second.permits(principal, access)
    }

    fn insufficient(&self, access: Access) -> Option<String> {
        self.first.insufficient(access).or_else(|| self.second.insufficient(access))
    }

    /// Both verifiers' challenges, one per scheme: where both take a scheme, the second's (more specific) one.
    fn challenges(&self) -> Vec<String> {
        let second = self.second.challenges();
        let scheme = |c: &str| c.split_whitespace().next().unwrap_or_default().to_ascii_lowercase();
        let mut challenges: Vec<String> =
            self.first.challenges().into_iter().filter(|c| !second.iter().any(|s| scheme(s) == scheme(c))).collect();
        challenges.extend(second);
        challenges
    }
}

/// Refuses every credential: for a server configured without any, so that writes are refused with a clear
/// message rather than allowed.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoCredentials;

#[async_trait]
impl Verifier for NoCredentials {
    async fn verify(&self, _credentials: &Credentials) -> Option<Principal> {
        None
    }

    fn challenges(&self) -> Vec<String> {
        vec!["Bearer realm=\"oslc\"".to_owned()]
    }
}

/// Which requests need verified credentials, by [`Access`]; a CORS preflight never does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Policy {
    /// GET and HEAD, and form-encoded POSTs (OSLC Query 3.0 queries sent as a form), are reads.
    pub protect_reads: bool,
    /// Every other method but OPTIONS is a write.
    pub protect_writes: bool,
    /// Actions the kit routes (with [`Auth::with_actions`]; without it they count as writes).
    pub protect_actions: bool,
}

impl Policy {
    /// Writes and actions need credentials; reads do not.
    #[must_use]
    pub fn protect_writes() -> Self {
        Self::protecting(false, true, true)
    }

    /// Every request but a CORS preflight needs credentials.
    #[must_use]
    pub fn protect_all() -> Self {
        Self::protecting(true, true, true)
    }

    /// Each kind of request protected or not.
    #[must_use]
    pub fn protecting(reads: bool, writes: bool, actions: bool) -> Self {
        Self { protect_reads: reads, protect_writes: writes, protect_actions: actions }
    }

    /// Whether requests of kind `access` need credentials.
    #[must_use]
    pub fn protects(&self, access: Access) -> bool {
        match access {
            Access::Read => self.protect_reads,
            Access::Write => self.protect_writes,
            Access::Action => self.protect_actions,
        }
    }
}

/// A verifier and a policy, applied to a router with [`Auth::layer`].
#[derive(Clone)]
pub struct Auth {
    verifier: Arc<dyn Verifier>,
    policy: Policy,
    sessions: Option<Sessions>,
    /// The path of each container with actions, and their names.
    actions: Arc<[(String, Vec<String>)]>,
    /// The path of every container (query capability), once known through [`Auth::with_actions`].
    containers: Option<Arc<[String]>>,
    /// Where people in a browser log in.
    #[cfg(feature = "oidc")]
    login: Option<login::BrowserLogin>,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth").field("policy", &self.policy).field("sessions", &self.sessions).finish_non_exhaustive()
    }
}

impl Auth {
    /// `verifier` checks the credentials of the requests `policy` protects.
    #[must_use]
    pub fn new(verifier: impl Verifier, policy: Policy) -> Self {
        Self {
            verifier: Arc::new(verifier),
            policy,
            sessions: None,
            actions: Arc::from([]),
            containers: None,
            #[cfg(feature = "oidc")]
            login: None,
        }
    }

    /// Sends people in a browser who have no session to the OpenID provider to log in, and back (see
    /// [`login`]); the login's sessions become this layer's. Serve [`login::BrowserLogin::router`] beside the
    /// layer.
    #[cfg(feature = "oidc")]
    #[cfg_attr(docsrs, doc(cfg(feature = "oidc")))]
    #[must_use]
    pub fn with_login(mut self, login: login::BrowserLogin) -> Self {
        self.sessions = Some(login.sessions().clone());
        self.login = Some(login);
        self
    }

    /// Learns the layout of `built`: `POST <member>/<action>` on its collections is [`Access::Action`] (otherwise
    /// such a request counts as a write), and a form-encoded POST is a read (an OSLC query sent as a form) only when
    /// it goes to one of its query capabilities; any other form (an action button, a creation dialog) is a write or
    /// an action. Without it, a form-encoded POST is a read except to a delegated dialog (`/dialogs/…`).
    #[must_use]
    pub fn with_actions<S>(mut self, built: &super::Built<S>) -> Self {
        self.containers = Some(
            built
                .service_providers
                .iter()
                .flat_map(|p| p.collections.iter().map(move |c| super::Layout::container_path(&p.id, &c.segment)))
                .collect(),
        );
        // Paths relative to the kit's base URL, as the router the layer wraps sees them.
        self.actions = built
            .service_providers
            .iter()
            .flat_map(|p| p.collections.iter().map(move |c| (p, c)))
            .filter(|(_, c)| !c.actions.is_empty())
            .map(|(p, c)| (super::Layout::container_path(&p.id, &c.segment), c.actions.clone()))
            .collect();
        self
    }

    /// Opens a cookie session for each client that authenticates with HTTP Basic (see the [module docs](self)).
    #[must_use]
    pub fn with_sessions(mut self, sessions: Sessions) -> Self {
        self.sessions = Some(sessions);
        self
    }

    /// Protects `router`'s routes (those added to it so far). The same as `router.layer(auth.clone())`: `Auth`
    /// is a [`tower::Layer`], to stack with others in one `ServiceBuilder` (one layer of axum's per-route
    /// services rather than one for each).
    pub fn layer<S: Clone + Send + Sync + 'static>(&self, router: Router<S>) -> Router<S> {
        router.layer(self.clone())
    }

    /// What `request` does: a read, a write, or one of the kit's actions.
    #[must_use]
    pub fn access(&self, request: &Request) -> Access {
        let method = request.method();
        let form = request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|ct| {
            ct.split(';').next().is_some_and(|e| e.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"))
        });
        if *method == Method::GET || *method == Method::HEAD {
            return Access::Read;
        }
        if *method == Method::POST {
            let path = request.uri().path();
            if form {
                let query = match &self.containers {
                    Some(containers) => containers.iter().any(|c| c == path.trim_end_matches('/')),
                    None => !path.starts_with("/dialogs/"),
                };
                if query {
                    return Access::Read;
                }
            }
            let is_action = self.actions.iter().any(|(container, names)| {
                path.strip_prefix(container.as_str())
                    .and_then(|rest| rest.strip_prefix('/'))
                    .and_then(|rest| rest.split_once('/'))
                    .is_some_and(|(id, name)| !id.is_empty() && names.iter().any(|n| n == name))
            });
            if is_action {
                return Access::Action;
            }
        }
        Access::Write
    }

    fn is_write(&self, request: &Request) -> bool {
        self.access(request) != Access::Read
    }

    /// A 303 to the OpenID provider's login, for a browser without credentials asking for a page (see
    /// [`Auth::with_login`]); `needed` says whether the request needs credentials.
    #[cfg(feature = "oidc")]
    fn login_first(&self, request: &Request, needed: bool) -> Option<Response> {
        let login = self.login.as_ref()?;
        let page = (*request.method() == Method::GET || *request.method() == Method::HEAD)
            && request.headers().get(header::AUTHORIZATION).is_none()
            && super::html::prefers_html(request.headers());
        if !page {
            return None;
        }
        // A creation dialog is only there to write: log in before filling it in.
        let path = request.uri().path();
        let writes = path.starts_with("/dialogs/") && path.ends_with("/creation/form");
        if !(needed || writes) || login.has_session(request.headers()) {
            return None;
        }
        let back = request.uri().path_and_query().map_or(path, http::uri::PathAndQuery::as_str);
        Some(login.begin(Some(back)))
    }

    #[cfg(not(feature = "oidc"))]
    #[allow(clippy::unused_self)]
    fn login_first(&self, _request: &Request, _needed: bool) -> Option<Response> {
        None
    }

    /// What happens to `request` before any credentials are read: it goes on unchecked (`Ok(None)`), is answered
    /// at once (a browser sent to log in), or needs its credentials checked (`Err`).
    fn gate(&self, request: &Request) -> Result<Option<Response>, Access> {
        let access = self.access(request);
        if *request.method() == Method::OPTIONS {
            return Ok(None);
        }
        if !self.policy.protects(access) {
            return Ok(self.login_first(request, false));
        }
        Err(access)
    }

    /// Checks the credentials of `request`, which needs `access`, and hands it to `next` if they allow it.
    async fn check<N, F>(&self, request: Request, access: Access, next: N) -> Response
    where
        N: FnOnce(Request) -> F,
        F: Future<Output = Response>,
    {
        let credentials = Credentials::from_header(request.headers().get(header::AUTHORIZATION));
        let checked = self.verifier.check(&credentials).await;
        if let Ok(principal) = checked.clone() {
            if !self.verifier.permits(&principal, access) {
                return self.forbidden(&request, &principal, access);
            }
            let session = match (&self.sessions, &credentials) {
                (Some(sessions), Credentials::Basic { .. })
                    if sessions.presented(request.headers()).and_then(|id| sessions.resume(&id)).is_none() =>
                {
                    sessions.open(principal)
                }
                _ => None,
            };
            let mut response = next(request).await;
            if let Some(cookie) = session {
                response.headers_mut().append(header::SET_COOKIE, cookie);
            }
            return response;
        }
        if credentials == Credentials::None
            && let Some(sessions) = &self.sessions
            && let Some(id) = sessions.presented(request.headers())
            && let Some(principal) = sessions.resume(&id)
        {
            if !self.verifier.permits(&principal, access) {
                return self.forbidden(&request, &principal, access);
            }
            let read = !self.is_write(&request);
            if read || !csrf_suspect(&request, &id) {
                return next(request).await;
            }
            let message = format!(
                "a write made with the session cookie alone must carry {CSRF_HEADER} equal to the session id, or not be \
                 a request an HTML form can send"
            );
            return ErrorResponse::new(Error::Forbidden { message }, request.headers()).into_response();
        }
        if credentials == Credentials::None
            && let Some(login) = self.login_first(&request, true)
        {
            return login;
        }
        let refusal = checked.err().unwrap_or(Refusal::Unverified);
        let message = match (&credentials, &refusal) {
            (Credentials::None, _) => {
                "this request needs credentials: Authorization: Bearer <token>, or Basic with the token as password"
                    .to_owned()
            }
            (_, Refusal::InvalidToken { description }) => format!("the bearer token is not accepted: {description}"),
            (other, _) => format!("{} that this server does not accept", other.describe()),
        };
        tracing::debug!(method = %request.method(), path = request.uri().path(), reason = %message, "request refused");
        let mut response = ErrorResponse::new(Error::Unauthorized { message }, request.headers()).into_response();
        for challenge in self.verifier.challenges_for(&refusal) {
            if let Ok(value) = HeaderValue::from_str(&challenge) {
                response.headers_mut().append(header::WWW_AUTHENTICATE, value);
            }
        }
        response
    }
}

impl<S> tower::Layer<S> for Auth {
    type Service = AuthService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthService { auth: Arc::new(self.clone()), inner }
    }
}

/// The service of the [`Auth`] layer. A request its policy leaves open goes straight on; one it protects has its
/// credentials checked first.
#[derive(Clone)]
pub struct AuthService<S> {
    auth: Arc<Auth>,
    inner: S,
}

impl<S> std::fmt::Debug for AuthService<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthService").field("auth", &self.auth).finish_non_exhaustive()
    }
}

/// The response future of [`AuthService`].
pub type AuthFuture<F> = OneOf<
    std::future::Ready<Result<Response, Infallible>>,
    OneOf<F, Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>>,
>;

impl<S> tower::Service<Request> for AuthService<S>
where
    S: tower::Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = AuthFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        match self.auth.gate(&request) {
            Ok(None) => OneOf::Right(OneOf::Left(self.inner.call(request))),
            Ok(Some(answer)) => OneOf::Left(std::future::ready(Ok(answer))),
            Err(access) => {
                // The ready service goes with the check; a fresh clone stays for the next call.
                let fresh = self.inner.clone();
                let mut inner = std::mem::replace(&mut self.inner, fresh);
                let auth = self.auth.clone();
                OneOf::Right(OneOf::Right(Box::pin(async move {
                    let next = |request| async move {
                        let Ok(response) = inner.call(request).await;
                        response
                    };
                    Ok(auth.check(request, access, next).await)
                })))
            }
        }
    }
}

impl Auth {
    /// The 403 for a principal whose credentials do not allow `access`, with the verifier's
    /// `insufficient_scope` challenge if it has one.
    fn forbidden(&self, request: &Request, principal: &Principal, access: Access) -> Response {
        let message = format!("{} may not make this request ({access:?})", principal.name);
        tracing::debug!(method = %request.method(), path = request.uri().path(), reason = %message, "request refused");
        let mut response = ErrorResponse::new(Error::Forbidden { message }, request.headers()).into_response();
        if let Some(challenge) = self.verifier.insufficient(access)
            && let Ok(value) = HeaderValue::from_str(&challenge)
        {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_read_and_never_shown() {
        let basic = HeaderValue::from_static("basic dXNlcjpwdw==");
        assert_eq!(
            Credentials::from_header(Some(&basic)),
            Credentials::Basic { user: "user".into(), password: "pw".into() }
        );
        let bearer = HeaderValue::from_static("BEARER   t0k");
        assert_eq!(Credentials::from_header(Some(&bearer)), Credentials::Bearer("t0k".into()));
        assert_eq!(format!("{:?}", Credentials::Bearer("t0k".into())), "a bearer token");
        assert_eq!(Credentials::from_header(None), Credentials::None);
        let digest = HeaderValue::from_static("Digest x");
        assert!(matches!(Credentials::from_header(Some(&digest)), Credentials::Other(_)));
        assert!(!format!("{:?}", StaticToken::new("SECRET")).contains("SECRET"));
    }
}
