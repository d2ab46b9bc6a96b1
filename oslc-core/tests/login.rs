//! People logging in with OpenID Connect (authorization code with PKCE) at a real, certified OpenID provider (npm
//! `oidc-provider`, started by `scripts/services.sh` and named by `OIDC_ISSUER`), driven over HTTP as a browser
//! drives it: cookies kept, redirects followed, the provider's login and consent forms posted. The headless-Chromium
//! run of the same flow is in `adapter-stackstorm/tests/browser.rs`.
#![cfg(feature = "oidc")]
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use oslc_core::InMemoryProvider;
use oslc_core::discovery::{Occurs, Property, Publisher};
use oslc_core::server::auth::login::{BrowserLogin, LoginOptions};
use oslc_core::server::auth::oidc::{JwtVerifier, OidcOptions};
use oslc_core::server::auth::{Auth, Policy, Sessions};
use oslc_core::server::{Collection, Server, ServiceProviderConfig};
use oslc_core::vocab::{dcterms, oslc_cm, xsd};
use serde_json::{Value, json};

const BROWSER_ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

fn issuer() -> String {
    std::env::var("OIDC_ISSUER")
        .expect("OIDC_ISSUER: run the tests with bash scripts/test.sh (or source scripts/services.sh)")
}

/// A tracker served on loopback with people logging in at the provider.
struct Served {
    public: String,
    provider: Arc<InMemoryProvider>,
    login: BrowserLogin,
}

impl Served {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.public)
    }

    fn collection(&self) -> String {
        self.url("/serviceProviders/1/changeRequests")
    }
}

/// A client registered at the provider for `public` (dynamic registration: the redirect URI has the port).
async fn register(public: &str) -> (String, String) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let reply: Value = reqwest::Client::new()
        .post(format!("{}/reg", issuer()))
        .header("content-type", "application/json")
        .body(
            json!({
            "redirect_uris": [format!("{public}/auth/callback")],
            "post_logout_redirect_uris": [format!("{public}/auth/session")],
            "grant_types": ["authorization_code"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "client_secret_basic",
            })
            .to_string(),
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap();
    let id = reply["client_id"].as_str().unwrap_or_else(|| panic!("a client: {reply}")).to_owned();
    (id, reply["client_secret"].as_str().unwrap().to_owned())
}

async fn serve(policy: Policy) -> Served {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let public = format!("http://{}", listener.local_addr().unwrap());
    let provider = Arc::new(InMemoryProvider::new().with_resource_type(oslc_cm::ChangeRequest.into_owned()));
    let built = Server::builder(&public)
        .unwrap()
        .with_oidc_issuer(&issuer())
        .unwrap()
        .with_title("Test tracker")
        .with_publisher(Publisher::new("Test tracker", "test-tracker"))
        .with_service_provider(
            ServiceProviderConfig::new("1", "Project one").with_collection(
                Collection::new("changeRequests", provider.clone())
                    .with_title("Change requests")
                    .with_resource_type(oslc_cm::ChangeRequest.into_owned())
                    .with_property(
                        Property::new("title", dcterms::title.into_owned(), Occurs::ExactlyOne)
                            .with_value_type(xsd::string.into_owned()),
                    ),
            ),
        )
        .build()
        .unwrap();
    let jwt = JwtVerifier::discover(OidcOptions::new(issuer(), public.clone())).await.unwrap();
    let (client_id, secret) = register(&public).await;
    let login = BrowserLogin::new(
        &jwt,
        LoginOptions::new(client_id, secret, public.clone()).with_home("/serviceProviders/catalog"),
        Sessions::new(),
    )
    .unwrap();
    let auth = Auth::new(jwt, policy).with_actions(&built).with_login(login.clone());
    let app = auth.layer(built.router).merge(login.router());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Served { public, provider, login }
}

/// A browser: it keeps cookies and follows redirects.
fn browser() -> reqwest::Client {
    browser_and_steps().0
}

/// A browser, and the same browser not following redirects (to look at one step).
fn browser_and_steps() -> (reqwest::Client, reqwest::Client) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let follow = reqwest::Client::builder().cookie_provider(jar.clone()).build().unwrap();
    let steps =
        reqwest::Client::builder().cookie_provider(jar).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    (follow, steps)
}

/// A new browser that does not follow redirects.
fn one_step() -> reqwest::Client {
    browser_and_steps().1
}

/// The value of `attribute` in `tag`.
fn attribute(tag: &str, attribute: &str) -> Option<String> {
    let key = format!("{attribute}=\"");
    let start = tag.find(&key)? + key.len();
    let end = start + tag[start..].find('"')?;
    Some(tag[start..end].replace("&amp;", "&"))
}

/// The `action` of the page's first form, and its hidden inputs.
fn form_of(page: &str) -> Option<(String, Vec<(String, String)>)> {
    let form = &page[page.find("<form")?..];
    let form = &form[..form.find("</form>")?];
    let action = attribute(&form[..form.find('>')?], "action")?;
    let hidden = form
        .split("<input")
        .skip(1)
        .map(|input| &input[..input.find('>').unwrap_or(input.len())])
        .filter(|input| input.contains("type=\"hidden\""))
        .filter_map(|input| Some((attribute(input, "name")?, attribute(input, "value").unwrap_or_default())))
        .collect();
    Some((action, hidden))
}

/// Opens `url` as a browser and logs in as `user` at the provider where it asks (its development login and consent
/// forms): the page reached in the end.
async fn visit_logging_in(browser: &reqwest::Client, url: &str, user: &str) -> reqwest::Response {
    let mut response = browser.get(url).header("accept", BROWSER_ACCEPT).send().await.unwrap();
    let issuer = issuer();
    for _ in 0..4 {
        if !response.url().as_str().starts_with(&issuer) {
            return response;
        }
        let at = response.url().clone();
        let page = response.text().await.unwrap();
        let (action, hidden) = form_of(&page).unwrap_or_else(|| panic!("a form at the provider's {at}: {page}"));
        let target = at.join(&action).unwrap();
        let mut form = form_urlencoded::Serializer::new(String::new());
        form.extend_pairs(&hidden);
        if page.contains("name=\"login\"") {
            form.extend_pairs([("login", user), ("password", "any")]);
        }
        let form = form.finish();
        response = browser
            .post(target)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", BROWSER_ACCEPT)
            .body(form)
            .send()
            .await
            .unwrap();
    }
    panic!("the provider kept asking: {}", response.url());
}

#[tokio::test]
async fn a_person_logs_in_at_the_provider_and_comes_back_to_the_page() {
    let served = serve(Policy::protect_all()).await;
    let (b, b_steps) = browser_and_steps();
    let page = format!("{}?oslc.pageSize=5", served.collection());

    // An OSLC client without credentials is refused as before: only a browser is sent to log in.
    let api = b.get(&page).header("accept", "text/turtle").send().await.unwrap();
    assert_eq!(api.status(), 401);
    let challenge = api.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.starts_with("Bearer"), "{challenge}");
    // The browser is sent to the provider's authorization endpoint, with PKCE, state and nonce.
    let first = one_step().get(&page).header("accept", BROWSER_ACCEPT).send().await.unwrap();
    assert_eq!(first.status(), 303);
    let location = first.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(&format!("{}/auth?", issuer())), "{location}");
    let asked: std::collections::HashMap<String, String> =
        reqwest::Url::parse(&location).unwrap().query_pairs().into_owned().collect();
    assert_eq!(asked["response_type"], "code");
    assert_eq!(asked["code_challenge_method"], "S256");
    assert_eq!(asked["redirect_uri"], served.login.redirect_uri());
    assert_eq!(asked["resource"], served.public);
    assert!(asked["scope"].split(' ').any(|s| s == "openid"), "{}", asked["scope"]);
    assert!(asked["state"].len() >= 43 && asked["nonce"].len() >= 43);
    let bound = first.headers().get_all("set-cookie").iter().any(|c| {
        let c = c.to_str().unwrap();
        c.starts_with(&format!("oslc_login={}", asked["state"])) && c.contains("HttpOnly") && c.contains("SameSite=Lax")
    });
    assert!(bound, "the login is bound to the browser by a cookie");

    // Logged in, the browser is back at the page it asked for.
    let back = visit_logging_in(&b, &page, "alice").await;
    assert_eq!(back.url().as_str(), page);
    assert_eq!(back.status(), 200);
    assert!(back.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let session = b.get(served.url("/auth/session")).send().await.unwrap().text().await.unwrap();
    assert!(session.contains("<strong class=\"oslc-principal\">alice</strong>"), "{session}");
    assert!(session.contains("oslc.write"), "the scopes of the access token: {session}");

    // The session writes as a browser's own page does (same-origin); a cross-site form on it is refused.
    let create = |site: &'static str, content_type: &'static str| {
        b.post(served.collection())
            .header("content-type", content_type)
            .header("accept", "text/turtle")
            .header("sec-fetch-site", site)
            .body("<> <http://purl.org/dc/terms/title> \"From the browser\" .")
    };
    assert_eq!(create("same-origin", "text/turtle").send().await.unwrap().status(), 201);
    assert_eq!(create("cross-site", "text/plain").send().await.unwrap().status(), 403);
    assert_eq!(served.provider.len(), 1, "the cross-site write changed nothing");

    // Logging out closes the session here and at the provider, which comes back to the session page.
    let out = b_steps.post(served.url("/auth/logout")).header("sec-fetch-site", "same-origin");
    let out = out.send().await.unwrap();
    assert_eq!(out.status(), 303);
    let end = out.headers()["location"].to_str().unwrap();
    assert!(end.contains("post_logout_redirect_uri=") && end.contains("client_id="), "{end}");
    let cleared = out.headers().get_all("set-cookie").iter().any(|c| c.to_str().unwrap().starts_with("JSESSIONID=;"));
    assert!(cleared, "the session cookie is removed");
    let again = b.get(&page).header("accept", "text/turtle").send().await.unwrap();
    assert_eq!(again.status(), 401, "the session is closed");
}

#[tokio::test]
async fn a_forged_or_replayed_callback_opens_no_session() {
    let served = serve(Policy::protect_all()).await;
    let step = one_step();
    let callback = served.url("/auth/callback");
    let start = step.get(served.url("/auth/login")).send().await.unwrap();
    let location = start.headers()["location"].to_str().unwrap().to_owned();
    let state: String = reqwest::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .unwrap();

    // A callback this browser did not start (no cookie: another browser's login), or of an unknown state.
    let stranger = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let forged = stranger.get(format!("{callback}?state={state}&code=x")).send().await.unwrap();
    assert_eq!(forged.status(), 400);
    assert!(forged.text().await.unwrap().contains("not started by this browser"));
    let unknown = step.get(format!("{callback}?state=nope&code=x")).send().await.unwrap();
    assert_eq!(unknown.status(), 400);

    // The provider's refusal is shown (escaped), and the login cannot be used again.
    let refused = step
        .get(format!("{callback}?state={state}&error=access_denied&error_description=%3Cscript%3Ex%3C%2Fscript%3E"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let text = refused.text().await.unwrap();
    assert!(text.contains("access_denied") && text.contains("&lt;script&gt;") && !text.contains("<script>"), "{text}");
    let replayed = step.get(format!("{callback}?state={state}&code=x")).send().await.unwrap();
    assert_eq!(replayed.status(), 400, "a login is used once");
    assert!(replayed.headers().get("set-cookie").is_none_or(|c| !c.to_str().unwrap().starts_with("JSESSIONID")));

    // A made-up code for a real login: the provider refuses it, no session.
    let start = step.get(served.url("/auth/login")).send().await.unwrap();
    let location = start.headers()["location"].to_str().unwrap().to_owned();
    let state: String =
        reqwest::Url::parse(&location).unwrap().query_pairs().find(|(k, _)| k == "state").unwrap().1.into_owned();
    let made_up = step.get(format!("{callback}?state={state}&code=made-up")).send().await.unwrap();
    assert_eq!(made_up.status(), 502);
    assert!(made_up.text().await.unwrap().contains("refused the code"));
    let page = step.get(served.collection()).header("accept", "text/turtle").send().await.unwrap();
    assert_eq!(page.status(), 401, "no session was opened");
}

#[tokio::test]
async fn the_way_back_never_leaves_the_server_and_a_creation_dialog_asks_to_log_in_first() {
    let served = serve(Policy::protect_writes()).await;
    // Reads are open: pages and the selection dialog are shown without a login.
    let b = browser();
    let selection = served.url("/dialogs/1/changeRequests/selection/form");
    let open = one_step().get(&selection).header("accept", BROWSER_ACCEPT).send().await.unwrap();
    assert_eq!(open.status(), 200);
    // The creation dialog is only for writing: the login comes first, and then the dialog.
    let creation = served.url("/dialogs/1/changeRequests/creation/form");
    let first = one_step().get(&creation).header("accept", BROWSER_ACCEPT).send().await.unwrap();
    assert_eq!(first.status(), 303);
    let back = visit_logging_in(&b, &creation, "bob").await;
    assert_eq!(back.url().as_str(), creation);
    assert_eq!(back.status(), 200);
    assert!(back.text().await.unwrap().contains("<form"), "the creation dialog's form");

    // A way back to another site is not taken: the login ends at the home page.
    let b = browser();
    let elsewhere = served.url("/auth/login?return_to=%2F%2Fevil.example%2F");
    let end = visit_logging_in(&b, &elsewhere, "carol").await;
    assert_eq!(end.url().as_str(), served.url("/serviceProviders/catalog"));
    assert_eq!(end.status(), 200);
}
