//! Credentials (issue "Real OSLC clients find it, read it and write it", point 1): the token as bearer or as a
//! Basic password, Basic challenged first, and the cookie session a Basic login opens, with its CSRF rule.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use axum::body::Body;
use common::*;
use oslc_core::rdf::RdfFormat;
use oslc_core::server::auth::{Auth, Policy, Sessions, StaticToken};

const TOKEN: &str = "s3cret-token";

fn basic(password: &str) -> String {
    use base64::Engine as _;
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("someone:{password}")))
}

fn protected(sessions: Option<Sessions>) -> axum::Router {
    let (app, _) = app();
    let auth = Auth::new(StaticToken::new(TOKEN), Policy::protect_all());
    let auth = match sessions {
        Some(sessions) => auth.with_sessions(sessions),
        None => auth,
    };
    auth.layer(app)
}

/// The session cookie (`NAME=value`) a response sets.
fn session_cookie(reply: &Reply) -> Option<String> {
    let set = reply.header("set-cookie")?;
    Some(set.split(';').next().unwrap().to_owned())
}

async fn create_with(app: &axum::Router, headers: &[(&str, &str)], content_type: &str) -> Reply {
    let mut req = request("POST", CRS).header("content-type", content_type).header("accept", "text/turtle");
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    send(app, req.body(Body::from(NEW_CR)).unwrap()).await
}

#[tokio::test]
async fn the_challenge_offers_basic_first_and_names_what_was_received() {
    let app = protected(None);
    let reply = get(&app, CRS, "text/turtle").await;
    assert_eq!(reply.status, 401);
    let challenges: Vec<_> = reply.headers.get_all("www-authenticate").iter().map(|v| v.to_str().unwrap()).collect();
    // Node's `request` (under oslc-client) answers only the first challenge, and only Basic.
    assert!(challenges[0].starts_with("Basic "), "{challenges:?}");
    assert!(challenges.iter().any(|c| c.starts_with("Bearer ")), "{challenges:?}");

    let req = request("GET", CRS).header("authorization", basic("wrong")).body(Body::empty()).unwrap();
    let reply = send(&app, req).await;
    assert_eq!(reply.status, 401);
    assert!(reply.text().contains("HTTP Basic credentials that this server does not accept"), "{}", reply.text());
    assert!(!reply.text().contains("wrong"));

    for credentials in [basic(TOKEN), format!("Bearer {TOKEN}")] {
        let req = request("GET", CRS).header("authorization", credentials).body(Body::empty()).unwrap();
        assert_eq!(send(&app, req).await.status, 200);
    }
}

#[tokio::test]
async fn without_sessions_no_cookie_is_set() {
    let app = protected(None);
    let req = request("GET", CRS).header("authorization", basic(TOKEN)).body(Body::empty()).unwrap();
    let reply = send(&app, req).await;
    assert_eq!(reply.status, 200);
    assert!(reply.header("set-cookie").is_none());
}

#[tokio::test]
async fn a_basic_login_opens_a_session_that_reads_and_writes() {
    let sessions = Sessions::new();
    let app = protected(Some(sessions.clone()));

    // A bearer token is a server-to-server call: no cookie.
    let req = request("GET", CRS).header("authorization", format!("Bearer {TOKEN}")).body(Body::empty()).unwrap();
    assert!(send(&app, req).await.header("set-cookie").is_none());

    let req = request("GET", CRS).header("authorization", basic(TOKEN)).body(Body::empty()).unwrap();
    let reply = send(&app, req).await;
    assert_eq!(reply.status, 200);
    let set = reply.header("set-cookie").expect("a session cookie").to_owned();
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(set.contains(attribute), "{set}");
    }
    assert!(!set.contains("Secure"), "{set}");
    assert!(set.starts_with("JSESSIONID="), "{set}");
    let cookie = session_cookie(&reply).unwrap();
    let id = cookie.strip_prefix("JSESSIONID=").unwrap().to_owned();
    assert!(id.len() >= 43, "256 random bits: {id}");
    assert_eq!(sessions.len(), 1);

    // Basic again with the cookie: the same session, no new cookie.
    let req = request("GET", CRS)
        .header("authorization", basic(TOKEN))
        .header("cookie", &cookie)
        .body(Body::empty())
        .unwrap();
    assert!(send(&app, req).await.header("set-cookie").is_none());
    assert_eq!(sessions.len(), 1);

    // The cookie alone reads, and writes what an HTML form cannot send.
    let req = request("GET", CRS).header("cookie", format!("theme=dark; {cookie}")).body(Body::empty()).unwrap();
    assert_eq!(send(&app, req).await.status, 200);
    let reply = create_with(&app, &[("cookie", &cookie)], RdfFormat::Turtle.media_type()).await;
    assert_eq!(reply.status, 201, "{}", reply.text());

    // A write an HTML form could send cross-site needs the CSRF header equal to the session id.
    let reply = create_with(&app, &[("cookie", &cookie)], "text/plain").await;
    assert_eq!(reply.status, 403, "{}", reply.text());
    assert!(reply.text().contains("x-jazz-csrf-prevent"), "{}", reply.text());
    let reply = create_with(&app, &[("cookie", &cookie), ("x-jazz-csrf-prevent", "guess")], "text/turtle").await;
    assert_eq!(reply.status, 403, "a wrong CSRF value is refused: {}", reply.text());
    let reply = create_with(&app, &[("cookie", &cookie), ("x-jazz-csrf-prevent", &id)], "text/turtle").await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    // A form of the server's own pages, as the browser marks it (Fetch Metadata), passes; another site's does not.
    let own = create_with(&app, &[("cookie", &cookie), ("sec-fetch-site", "same-origin")], "text/plain").await;
    assert_eq!(own.status, 400, "past auth, to the body (text/plain is read as N-Triples): {}", own.text());
    let other = create_with(&app, &[("cookie", &cookie), ("sec-fetch-site", "cross-site")], "text/plain").await;
    assert_eq!(other.status, 403, "{}", other.text());

    // An unknown session id is no credential at all.
    let reply = create_with(&app, &[("cookie", "JSESSIONID=forged")], "text/turtle").await;
    assert_eq!(reply.status, 401);
}

#[tokio::test]
async fn sessions_expire_when_idle_and_are_bounded_in_number() {
    let sessions = Sessions::new().with_idle_timeout(Duration::from_secs(1)).with_capacity(3).secure(true);
    let app = protected(Some(sessions.clone()));
    let login = || request("GET", CRS).header("authorization", basic(TOKEN)).body(Body::empty()).unwrap();
    let first = send(&app, login()).await;
    assert!(first.header("set-cookie").unwrap().contains("Secure"));
    let first = session_cookie(&first).unwrap();
    for _ in 0..5 {
        send(&app, login()).await;
    }
    assert_eq!(sessions.len(), 3, "capacity bounds the open sessions");
    // The oldest was closed to make room.
    let req = request("GET", CRS).header("cookie", &first).body(Body::empty()).unwrap();
    assert_eq!(send(&app, req).await.status, 401);

    let reply = send(&app, login()).await;
    let cookie = session_cookie(&reply).unwrap();
    // Each use restarts the idle time: used within a second it lives on; left alone longer, it is gone.
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let req = request("GET", CRS).header("cookie", &cookie).body(Body::empty()).unwrap();
        assert_eq!(send(&app, req).await.status, 200);
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let req = request("GET", CRS).header("cookie", &cookie).body(Body::empty()).unwrap();
    assert_eq!(send(&app, req).await.status, 401, "an idle session expired");
}

#[tokio::test]
async fn a_query_posted_as_a_form_is_a_read() {
    // Point 2: OSLC Query 3.0 queries may be POSTed form-encoded; they follow the read policy, not the write one.
    let (app, _) = app();
    let app = Auth::new(StaticToken::new(TOKEN), Policy::protect_writes()).layer(app);
    let form = request("POST", CRS)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "text/turtle")
        .body(Body::from("oslc.where=dcterms%3Atitle%3D%22x%22"))
        .unwrap();
    let reply = send(&app, form).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let create = create_with(&app, &[], "text/turtle").await;
    assert_eq!(create.status, 401, "a create still needs the token");

    let (app, _) = common::app();
    let app = Auth::new(StaticToken::new(TOKEN), Policy::protect_all()).layer(app);
    let form = request("POST", CRS)
        .header("content-type", "application/x-www-form-urlencoded; charset=utf-8")
        .body(Body::from("oslc.where=dcterms%3Atitle%3D%22x%22"))
        .unwrap();
    assert_eq!(send(&app, form).await.status, 401, "protected reads protect form queries too");
}

/// Lets `operator` read and run actions, and nothing else; `admin` may do everything.
struct Roles;

#[async_trait::async_trait]
impl oslc_core::server::auth::Verifier for Roles {
    async fn verify(
        &self,
        credentials: &oslc_core::server::auth::Credentials,
    ) -> Option<oslc_core::server::auth::Principal> {
        match credentials {
            oslc_core::server::auth::Credentials::Bearer(token) if token == "operator" || token == "admin" => {
                Some(oslc_core::server::auth::Principal::new(token.clone()))
            }
            _ => None,
        }
    }

    fn permits(&self, principal: &oslc_core::server::auth::Principal, access: oslc_core::server::auth::Access) -> bool {
        principal.name == "admin" || access != oslc_core::server::auth::Access::Write
    }

    fn challenges(&self) -> Vec<String> {
        vec!["Bearer realm=\"roles\"".to_owned()]
    }
}

struct Close;

#[async_trait::async_trait]
impl oslc_core::server::ActionHandler for Close {
    async fn run(
        &self,
        _: &oslc_core::Container,
        _: &str,
        current: oslc_core::Resource,
    ) -> oslc_core::Result<oslc_core::Resource> {
        Ok(current)
    }
}

#[tokio::test]
async fn actions_are_their_own_kind_of_request_for_policies_and_verifiers() {
    use oslc_core::server::auth::Access;
    use oslc_core::server::{Collection, CollectionAction, Server, ServiceProviderConfig};
    let provider = std::sync::Arc::new(oslc_core::InMemoryProvider::new());
    let built = Server::builder(BASE)
        .unwrap()
        .with_service_provider(ServiceProviderConfig::new("1", "one").with_collection(
            Collection::new("changeRequests", provider).with_action(CollectionAction::post(
                "close",
                "Close",
                std::sync::Arc::new(Close),
            )),
        ))
        .build::<()>()
        .unwrap();
    let auth = Auth::new(Roles, Policy::protect_writes()).with_actions(&built);
    let app = auth.layer(built.router);
    let as_ = |token: &str| format!("Bearer {token}");

    let created = create_with(&app, &[("authorization", &as_("admin"))], "text/turtle").await;
    assert_eq!(created.status, 201);
    let member = created.header("location").unwrap().to_owned();
    let path = member.strip_prefix(BASE).unwrap().to_owned();
    let close = |token: Option<String>| {
        let mut req = request("POST", &format!("{path}/close")).header("accept", "text/turtle");
        if let Some(token) = token {
            req = req.header("authorization", token);
        }
        req.body(Body::empty()).unwrap()
    };
    // The operator may run the action but not write; without credentials the action is refused (actions protected).
    assert_eq!(send(&app, close(Some(as_("operator")))).await.status, 200);
    assert_eq!(send(&app, close(None)).await.status, 401);
    let refused = create_with(&app, &[("authorization", &as_("operator"))], "text/turtle").await;
    assert_eq!(refused.status, 403, "{}", refused.text());
    // With actions left open, anyone may run them, and writes stay protected.
    let open = Auth::new(Roles, Policy::protecting(false, true, false)).with_actions(&built_again());
    let app = open.layer(built_again().router);
    assert_eq!(send(&app, close(None)).await.status, 404, "runs (no such member in this fresh server), not 401");
    assert_eq!(create_with(&app, &[], "text/turtle").await.status, 401);
    assert!(Policy::protect_writes().protects(Access::Action));
}

fn built_again() -> oslc_core::server::Built {
    use oslc_core::server::{Collection, CollectionAction, Server, ServiceProviderConfig};
    Server::builder(BASE)
        .unwrap()
        .with_service_provider(
            ServiceProviderConfig::new("1", "one").with_collection(
                Collection::new("changeRequests", std::sync::Arc::new(oslc_core::InMemoryProvider::new()))
                    .with_action(CollectionAction::post("close", "Close", std::sync::Arc::new(Close))),
            ),
        )
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_form_is_a_read_only_when_it_is_a_query() {
    // Browsers post forms with cached Basic credentials or none: an action button or a creation dialog posted as a
    // form is a write (or an action), never a read that an anonymous form may make.
    use oslc_core::server::{Collection, CollectionAction, Server, ServiceProviderConfig};
    let provider = std::sync::Arc::new(oslc_core::InMemoryProvider::new());
    let built = Server::builder(BASE)
        .unwrap()
        .with_service_provider(ServiceProviderConfig::new("1", "One").with_collection(
            Collection::new("changeRequests", provider.clone()).with_action(CollectionAction::post(
                "touch",
                "Touch",
                std::sync::Arc::new(Close),
            )),
        ))
        .build::<()>()
        .unwrap();
    let auth = Auth::new(StaticToken::new(TOKEN), Policy::protect_writes()).with_actions(&built);
    let app = auth.layer(built.router);
    let created = post(&app, CRS, RdfFormat::Turtle, NEW_CR).await;
    assert_eq!(created.status, 401);
    let authorized = request("POST", CRS)
        .header("content-type", "text/turtle")
        .header("authorization", format!("Bearer {TOKEN}"))
        .body(Body::from(NEW_CR))
        .unwrap();
    let member = send(&app, authorized).await.header("location").unwrap().to_owned();
    let form = |uri: &str, body: &'static str| {
        request("POST", uri)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "text/turtle")
            .body(Body::from(body))
            .unwrap()
    };
    assert_eq!(send(&app, form(CRS, "oslc.where=dcterms%3Atitle%3D%22x%22")).await.status, 200, "a query");
    assert_eq!(send(&app, form(&format!("{member}/touch"), "")).await.status, 401, "an action button");
    let dialog = format!("{BASE}/dialogs/1/changeRequests/creation/form");
    assert_eq!(send(&app, form(&dialog, "title=x")).await.status, 401, "a creation dialog");
    assert_eq!(provider.len(), 1, "nothing was created by the anonymous form");

    // Without the layout, the dialogs are still writes.
    let (plain, _) = common::app();
    let plain = Auth::new(StaticToken::new(TOKEN), Policy::protect_writes()).layer(plain);
    assert_eq!(send(&plain, form(&dialog, "title=x")).await.status, 401);
}
