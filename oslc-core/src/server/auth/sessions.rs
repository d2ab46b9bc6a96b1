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
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(cookie::Cookie::split_parse)
            .filter_map(Result::ok)
            .find(|c| c.name() == &*self.cookie)
            .map(|c| c.value().to_owned())
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
        let cookie = cookie::Cookie::build((self.cookie.to_string(), id))
            .path("/")
            .http_only(true)
            .same_site(cookie::SameSite::Lax)
            .secure(self.secure)
            .build();
        HeaderValue::from_str(&cookie.to_string()).ok()
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
