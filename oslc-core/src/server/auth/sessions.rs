//! Cookie sessions opened by HTTP Basic logins, as a Jazz server keeps them, and the CSRF rule for writes made
//! on them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::Request;
use base64::Engine as _;
use http::{HeaderName, HeaderValue, Method, header};
use subtle::ConstantTimeEq as _;

use super::Principal;

/// `X-Jazz-CSRF-Prevent`: the session id, echoed by a client on writes made with a session cookie.
pub const CSRF_HEADER: HeaderName = HeaderName::from_static("x-jazz-csrf-prevent");

/// Cookie sessions opened by HTTP Basic logins (see the [module docs](super)): bounded in number, expiring after
/// an idle time.
///
/// ```
/// use std::time::Duration;
/// use oslc_core::server::auth::Sessions;
///
/// let sessions = Sessions::new().with_idle_timeout(Duration::from_secs(600)).with_capacity(1_000).secure(true);
/// assert_eq!(sessions.cookie_name(), "JSESSIONID");
/// ```
#[derive(Clone)]
pub struct Sessions {
    cookie: Arc<str>,
    idle: Duration,
    capacity: usize,
    secure: bool,
    cross_site: bool,
    open: Arc<Mutex<HashMap<String, Session>>>,
}

struct Session {
    principal: Principal,
    expires: Instant,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the session ids.
        f.debug_struct("Sessions")
            .field("cookie", &self.cookie)
            .field("idle", &self.idle)
            .field("capacity", &self.capacity)
            .field("secure", &self.secure)
            .field("cross_site", &self.cross_site)
            .finish_non_exhaustive()
    }
}

impl Default for Sessions {
    fn default() -> Self {
        Self::new()
    }
}

impl Sessions {
    /// Sessions in a cookie named `JSESSIONID` (the name Jazz-style clients echo in `X-Jazz-CSRF-Prevent`),
    /// closed after 30 idle minutes, at most 10,000 open.
    #[must_use]
    pub fn new() -> Self {
        Self {
            cookie: Arc::from("JSESSIONID"),
            idle: Duration::from_secs(30 * 60),
            capacity: 10_000,
            secure: false,
            cross_site: false,
            open: Arc::default(),
        }
    }

    /// The cookie's name.
    #[must_use]
    pub fn with_cookie_name(mut self, name: impl Into<String>) -> Self {
        self.cookie = Arc::from(name.into());
        self
    }

    /// How long a session lives without being used.
    #[must_use]
    pub fn with_idle_timeout(mut self, idle: Duration) -> Self {
        self.idle = idle;
        self
    }

    /// How many sessions may be open at once; opening one more when all are live closes the eighth closest to
    /// expiry.
    #[must_use]
    pub fn with_capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity.max(1);
        self
    }

    /// Whether the cookie is `Secure` (sent over HTTPS only): set it when the public URL is https.
    #[must_use]
    pub fn secure(mut self, secure: bool) -> Self {
        self.secure = secure;
        self
    }

    /// Whether the cookie is also sent in frames of other sites' pages (`SameSite=None`), as delegated dialogs
    /// framed by another tool need; browsers take that only with `Secure`, so it applies when [`Sessions::secure`]
    /// is set. Otherwise the cookie is `SameSite=Lax`. Writes on the session keep the CSRF rule either way.
    #[must_use]
    pub fn cross_site(mut self, cross_site: bool) -> Self {
        self.cross_site = cross_site;
        self
    }

    /// The cookie's name.
    #[must_use]
    pub fn cookie_name(&self) -> &str {
        &self.cookie
    }

    /// How many sessions are open (expired ones included until they are swept).
    #[must_use]
    pub fn len(&self) -> usize {
        self.open.lock().map_or(0, |open| open.len())
    }

    /// Whether no session is open.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The session id a request's cookies carry, if any.
    pub(super) fn presented(&self, headers: &http::HeaderMap) -> Option<String> {
        Self::cookie_value(headers, &self.cookie)
    }

    /// The principal of an open session, whose idle time starts again.
    pub(super) fn resume(&self, id: &str) -> Option<Principal> {
        let mut open = self.open.lock().ok()?;
        let now = Instant::now();
        let session = open.get_mut(id)?;
        if session.expires <= now {
            open.remove(id);
            return None;
        }
        session.expires = now + self.idle;
        Some(session.principal.clone())
    }

    /// Opens a session for `principal` and returns its `Set-Cookie` value.
    pub(super) fn open(&self, principal: Principal) -> Option<HeaderValue> {
        let id = {
            use rand::Rng as _;
            let bytes: [u8; 32] = rand::rng().random();
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
        };
        {
            let mut open = self.open.lock().ok()?;
            let now = Instant::now();
            if open.len() >= self.capacity {
                open.retain(|_, s| s.expires > now);
            }
            if open.len() >= self.capacity {
                // Full of live sessions: close the eighth closest to expiry at once, so that clients logging in
                // without keeping cookies cost one sweep per many logins, not one per login.
                let mut by_expiry: Vec<(Instant, String)> = open.iter().map(|(k, s)| (s.expires, k.clone())).collect();
                by_expiry.sort_unstable();
                for (_, id) in by_expiry.into_iter().take((self.capacity / 8).max(1)) {
                    open.remove(&id);
                }
            }
            open.insert(id.clone(), Session { principal, expires: now + self.idle });
        }
        self.cookie_header(&self.cookie, &id, "/", None)
    }

    /// Closes the session `id`, if open.
    #[cfg_attr(not(feature = "oidc"), allow(dead_code))]
    pub(super) fn close(&self, id: &str) {
        if let Ok(mut open) = self.open.lock() {
            open.remove(id);
        }
    }

    /// A `Set-Cookie` value with this store's attributes: `HttpOnly`, `SameSite` as configured, `Secure` when
    /// asked; `max_age` zero removes the cookie.
    pub(super) fn cookie_header(
        &self,
        name: &str,
        value: &str,
        path: &str,
        max_age: Option<Duration>,
    ) -> Option<HeaderValue> {
        let same_site = if self.cross_site && self.secure { cookie::SameSite::None } else { cookie::SameSite::Lax };
        let mut cookie = cookie::Cookie::build((name.to_owned(), value.to_owned()))
            .path(path.to_owned())
            .http_only(true)
            .same_site(same_site)
            .secure(self.secure)
            .build();
        if let Some(age) = max_age {
            cookie.set_max_age(cookie::time::Duration::try_from(age).ok());
        }
        HeaderValue::from_str(&cookie.to_string()).ok()
    }

    /// The value of the cookie `name` a request carries.
    pub(super) fn cookie_value(headers: &http::HeaderMap, name: &str) -> Option<String> {
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(cookie::Cookie::split_parse)
            .filter_map(Result::ok)
            .find(|c| c.name() == name)
            .map(|c| c.value().to_owned())
    }
}

/// Whether a write made with a session cookie alone is one a browser could send cross-site without a CORS
/// preflight (Fetch's "simple" requests), lacks the CSRF header and is not marked `Sec-Fetch-Site: same-origin`
/// by the browser: such a write is refused.
pub(super) fn csrf_suspect(request: &Request, session_id: &str) -> bool {
    if let Some(echoed) = request.headers().get(&CSRF_HEADER) {
        return !bool::from(echoed.as_bytes().ct_eq(session_id.as_bytes()));
    }
    // The browser says the request comes from one of this server's own pages (Fetch Metadata; a page cannot set
    // this header): the server's own forms, such as its action buttons and creation dialogs.
    if request.headers().get("sec-fetch-site").is_some_and(|v| v.as_bytes() == b"same-origin") {
        return false;
    }
    if *request.method() != Method::POST {
        // PUT, PATCH and DELETE are never sent cross-site without a preflight, which this server's CORS (no
        // `Access-Control-Allow-Credentials`) never grants with cookies.
        return false;
    }
    let essence = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|ct| ct.split(';').next())
        .map(|e| e.trim().to_ascii_lowercase());
    matches!(
        essence.as_deref(),
        None | Some("application/x-www-form-urlencoded" | "multipart/form-data" | "text/plain")
    )
}
