//! OSLC in the browser (issue "OSLC in the browser"): headless Chromium, driven over WebDriver (Debian's chromium
//! and chromium-driver, installed by `scripts/browser.sh`), against `st2-oslc --demo`. One browser and one adapter
//! serve every scenario, in order; a page on another origin (another port) embeds the dialogs and previews as an
//! OSLC client would. The screenshots in `docs/screenshots/` are taken here.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use support::{Running, TOKEN, eventually};

/// What a host page received from the dialog: the `oslc-response:` messages, as JSON.
const HOST_PAGE: &str = r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Another OSLC tool</title>
<style>body{font-family:sans-serif;margin:1rem}iframe{border:1px solid #bbb;border-radius:6px}</style></head>
<body><h1>Another OSLC tool</h1><div id="frame"></div><div id="received"></div>
<script>
window.addEventListener('message', function (e) {
  if (typeof e.data !== 'string' || e.data.indexOf('oslc-response:') !== 0) { return; }
  var p = document.createElement('p');
  p.className = 'response';
  p.textContent = e.data.substring('oslc-response:'.length);
  document.getElementById('received').appendChild(p);
});
var params = new URLSearchParams(window.location.search);
var f = document.createElement('iframe');
f.id = 'oslc-frame';
f.src = params.get('src');
f.width = params.get('w') || '600';
f.height = params.get('h') || '480';
document.getElementById('frame').appendChild(f);
</script></body></html>"#;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Serves [`HOST_PAGE`] on a free loopback port (another origin than the adapter's).
async fn host_page() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().route("/embed", axum::routing::get(|| async { axum::response::Html(HOST_PAGE) }));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// ChromeDriver and a headless Chromium session.
struct Browser {
    client: Client,
    _driver: Running,
    profile: PathBuf,
}

impl Browser {
    async fn start() -> Self {
        let port = free_port();
        let driver = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".to_owned());
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts (bash scripts/browser.sh installs it)");
        let driver = Running(child);
        let http = reqwest::Client::new();
        let status = format!("http://127.0.0.1:{port}/status");
        eventually("chromedriver to answer", 30, async || {
            http.get(&status).send().await.is_ok_and(|r| r.status().is_success())
        })
        .await;
        let profile = std::env::temp_dir().join(format!("st2-oslc-chromium-{}", support::unique("p")));
        let binary = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".to_owned(),
            json!({
                "binary": binary,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                    "--no-first-run", "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--window-size=1100,800", format!("--user-data-dir={}", profile.display()),
                ],
            }),
        );
        let client = ClientBuilder::rustls()
            .unwrap()
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a Chromium session");
        Self { client, _driver: driver, profile }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// Everything the scenarios share.
struct Setup {
    c: Client,
    /// The adapter's base URL.
    base: String,
    /// The host page's URL (another origin).
    host: String,
    http: reqwest::Client,
}

impl Setup {
    fn collection(&self) -> String {
        format!("{}/serviceProviders/1/changeRequests", self.base)
    }

    fn dialog(&self, kind: &str) -> String {
        format!("{}/dialogs/1/changeRequests/{kind}/form", self.base)
    }

    async fn embed(&self, src: &str, width: &str, height: &str) {
        let url = format!(
            "{}/embed?{}",
            self.host,
            form_urlencoded::Serializer::new(String::new())
                .extend_pairs([("src", src), ("w", width), ("h", height)])
                .finish()
        );
        self.c.goto(&url).await.unwrap();
        self.c.wait().for_element(Locator::Css("iframe#oslc-frame")).await.unwrap();
    }

    /// Waits for the host page's next `oslc-response:`, after `seen` earlier ones.
    async fn response(&self, seen: usize) -> Value {
        let c = &self.c;
        let text = support::wait_for_value("the dialog's oslc-response", 10, async || {
            let found = c.find_all(Locator::Css("#received p.response")).await.ok()?;
            let element = found.get(seen)?;
            element.text().await.ok()
        })
        .await;
        serde_json::from_str(&text).unwrap()
    }

    async fn texts(&self, css: &str) -> Vec<String> {
        let mut texts = Vec::new();
        for element in self.c.find_all(Locator::Css(css)).await.unwrap_or_default() {
            texts.push(element.text().await.unwrap_or_default());
        }
        texts
    }

    async fn screenshot(&self, name: &str) {
        let png = self.c.screenshot().await.unwrap();
        assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    /// A rule's Turtle read over HTTP with the token, as an OSLC client reads it.
    async fn get_turtle(&self, url: &str) -> (u16, String) {
        let r = self.http.get(url).bearer_auth(TOKEN).header("accept", "text/turtle").send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    /// The first enabled rule by title.
    async fn first_member(&self) -> String {
        let query = "oslc.pageSize=1&oslc.orderBy=%2Bdcterms:title&oslc.where=st2:enabled=true";
        let (_, body) = self.get_turtle(&format!("{}?{query}", self.collection())).await;
        let prefix = format!("<{}/", self.collection());
        let start = body.find(&prefix).expect("a member in the page") + 1;
        let end = start + body[start..].find('>').unwrap();
        body[start..end].to_owned()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oslc_in_the_browser() {
    let host = host_page().await;
    let host = format!("http://{host}");
    let (_adapter, addr) = support::spawn_st2_oslc(
        &[
            "--demo",
            "--listen",
            "127.0.0.1:0",
            "--poll-interval-ms",
            "100",
            "--protect-reads",
            "--frame-ancestor",
            &host,
        ],
        TOKEN,
    );
    let base = format!("http://{addr}");
    let browser = Browser::start().await;
    let s = Setup { c: browser.client.clone(), base, host, http: reqwest::Client::new() };

    // A person gives credentials once (HTTP Basic, the token as password); the browser keeps them for the site.
    let with_credentials = s.base.replacen("http://", &format!("http://oslc:{TOKEN}@"), 1);
    s.c.goto(&format!("{with_credentials}/serviceProviders/catalog")).await.unwrap();
    let h1 = s.c.wait().for_element(Locator::Css("h1")).await.unwrap().text().await.unwrap();
    assert_eq!(h1, "StackStorm OSLC adapter", "the catalog as a page");

    selection_dialog_picks_one_rule(&s).await;
    selection_dialog_picks_several_and_cancels(&s).await;
    creation_dialog_creates_a_rule(&s).await;
    resource_page_actions_work(&s).await;
    live_page_shows_an_event(&s).await;
    injected_markup_does_not_run(&s).await;
    preview_is_embedded(&s).await;
    dialogs_are_framed_only_by_configured_origins(&s).await;
    people_log_in_with_openid_connect(&s).await;

    browser.client.clone().close().await.unwrap();
}

async fn selection_dialog_picks_one_rule(s: &Setup) {
    s.embed(&s.dialog("selection"), "600", "480").await;
    s.c.enter_frame(0).await.unwrap();
    let search = s.c.wait().for_element(Locator::Css("input[type=search]")).await.unwrap();
    // Enter runs the search (oslc.searchTerms).
    search.send_keys("webhook\u{E007}").await.unwrap();
    let c = &s.c;
    eventually("the search to list the matching rules", 10, async || {
        let url = c.execute("return document.location.href", vec![]).await.ok();
        let url = url.as_ref().and_then(Value::as_str).unwrap_or_default().to_owned();
        let labels = s.texts("button.oslc-pick").await;
        // Search terms match any text of a rule (its trigger type too), so the timer rule is the one left out.
        url.contains("q=webhook")
            && labels.iter().any(|l| l == "sample_rule_with_webhook")
            && !labels.iter().any(|l| l == "sample_rule_with_timer")
    })
    .await;
    s.screenshot("selection-dialog").await;
    // The dialog's script is ready before anything is clicked.
    s.c.wait().for_element(Locator::Css("html[data-oslc-ready]")).await.unwrap();
    let pick = s.c.find(Locator::Css("button.oslc-pick[data-label=sample_rule_with_webhook]")).await.unwrap();
    let label = pick.text().await.unwrap();
    pick.click().await.unwrap();
    s.c.enter_parent_frame().await.unwrap();
    let response = s.response(0).await;
    let results = response["oslc:results"].as_array().unwrap();
    assert_eq!(results.len(), 1, "{response}");
    assert_eq!(results[0]["oslc:label"], label.as_str());
    let uri = results[0]["rdf:resource"].as_str().unwrap();
    assert!(uri.starts_with(&s.collection()), "{uri}");
    let (status, turtle) = s.get_turtle(uri).await;
    assert_eq!(status, 200);
    assert!(turtle.contains(&format!("\"{label}\"")), "the picked rule is the one labelled: {turtle}");
}

async fn selection_dialog_picks_several_and_cancels(s: &Setup) {
    s.embed(&s.dialog("selection"), "600", "480").await;
    s.c.enter_frame(0).await.unwrap();
    s.c.wait().for_element(Locator::Css("input.oslc-check")).await.unwrap();
    let boxes = s.c.find_all(Locator::Css("input.oslc-check")).await.unwrap();
    assert!(boxes.len() >= 2, "the demo has several rules");
    boxes[0].click().await.unwrap();
    boxes[1].click().await.unwrap();
    s.c.find(Locator::Id("oslc-confirm")).await.unwrap().click().await.unwrap();
    s.c.enter_parent_frame().await.unwrap();
    let response = s.response(0).await;
    let results = response["oslc:results"].as_array().unwrap();
    assert_eq!(results.len(), 2, "{response}");
    assert_ne!(results[0]["rdf:resource"], results[1]["rdf:resource"]);

    // Cancel answers empty results, by its button and by Escape (keyboard alone).
    s.c.enter_frame(0).await.unwrap();
    s.c.find(Locator::Id("oslc-cancel")).await.unwrap().click().await.unwrap();
    s.c.enter_parent_frame().await.unwrap();
    assert_eq!(s.response(1).await, json!({ "oslc:results": [] }));
    s.c.enter_frame(0).await.unwrap();
    s.c.find(Locator::Css("input[type=search]")).await.unwrap().send_keys("\u{E00C}").await.unwrap();
    s.c.enter_parent_frame().await.unwrap();
    assert_eq!(s.response(2).await, json!({ "oslc:results": [] }));
}

async fn creation_dialog_creates_a_rule(s: &Setup) {
    s.embed(&s.dialog("creation"), "600", "640").await;
    s.c.enter_frame(0).await.unwrap();
    s.c.wait().for_element(Locator::Id("oslc-field-title")).await.unwrap();
    // Refused first: the criteria are not JSON; the form says so and nothing is created.
    for (field, value) in [
        ("title", "created_in_the_dialog"),
        ("pack", "examples"),
        ("triggerType", "core.st2.generic.notifytrigger"),
        ("actionRef", "core.noop"),
        ("criteria", "{not json"),
    ] {
        let input = s.c.find(Locator::Id(&format!("oslc-field-{field}"))).await.unwrap();
        input.clear().await.unwrap();
        input.send_keys(value).await.unwrap();
    }
    s.c.find(Locator::Css("form.create button[type=submit]")).await.unwrap().click().await.unwrap();
    let error = s.c.wait().for_element(Locator::Css("p.error")).await.unwrap().text().await.unwrap();
    assert!(error.contains("criteria"), "{error}");
    s.c.enter_parent_frame().await.unwrap();
    s.screenshot("creation-dialog").await;
    s.c.enter_frame(0).await.unwrap();
    let (_, listing) = s.get_turtle(&s.collection()).await;
    assert!(!listing.contains("created_in_the_dialog"), "a refused form creates nothing");

    let criteria = s.c.find(Locator::Id("oslc-field-criteria")).await.unwrap();
    criteria.clear().await.unwrap();
    s.c.find(Locator::Css("form.create button[type=submit]")).await.unwrap().click().await.unwrap();
    s.c.enter_parent_frame().await.unwrap();
    let response = s.response(0).await;
    let results = response["oslc:results"].as_array().unwrap();
    assert_eq!(results.len(), 1, "{response}");
    assert_eq!(results[0]["oslc:label"], "created_in_the_dialog");
    let (status, turtle) = s.get_turtle(results[0]["rdf:resource"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    assert!(turtle.contains("core.noop") && turtle.contains("\"examples\""), "{turtle}");
}

async fn resource_page_actions_work(s: &Setup) {
    let member = s.first_member().await;
    s.c.goto(&member).await.unwrap();
    let c = &s.c;
    let title = c.wait().for_element(Locator::Css("h1")).await.unwrap().text().await.unwrap();
    let (_, turtle) = s.get_turtle(&member).await;
    assert!(turtle.contains(&format!("\"{title}\"")), "the page shows the rule's title");
    // The rule is enabled: its page offers Disable.
    for (click, then, status) in [("disable", "enable", "Disabled"), ("enable", "disable", "Enabled")] {
        c.wait()
            .for_element(Locator::Css(&format!("button[data-action={click}]")))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        eventually(&format!("the page after {click}"), 10, async || {
            c.find(Locator::Css(&format!("button[data-action={then}]"))).await.is_ok()
        })
        .await;
        let (_, turtle) = s.get_turtle(&member).await;
        assert!(turtle.contains(&format!("\"{status}\"")), "{click} changed the rule: {turtle}");
        assert!(s.texts("td").await.iter().any(|t| t == status), "the page shows it {status}");
        if click == "disable" {
            s.screenshot("resource-page").await;
        }
    }
}

async fn live_page_shows_an_event(s: &Setup) {
    let member = s.first_member().await;
    s.c.goto(&format!("{}/events/live", s.base)).await.unwrap();
    eventually("the live page to connect", 10, async || {
        s.texts("#oslc-live-state").await.first().is_some_and(|t| t == "Connected")
    })
    .await;
    let before = s.texts("tr.oslc-live-event").await.len();
    let r = s.http.post(format!("{member}/disable")).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let changed = Instant::now();
    eventually("the change on the live page within 2 s", 2, async || {
        let rows = s.texts("tr.oslc-live-event").await;
        rows.len() > before && rows[0].contains(&member) && rows[0].contains("RuleDisabled")
    })
    .await;
    eprintln!("live page: the event showed {} ms after the change", changed.elapsed().as_millis());
    let r = s.http.post(format!("{member}/enable")).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

async fn injected_markup_does_not_run(s: &Setup) {
    let hostile = "<script>alert(1)</script><img src=x onerror=alert(2)>";
    let body = format!(
        "@prefix st2: <https://w3id.org/st2-oslc/ns#> . <> <http://purl.org/dc/terms/title> \"markup_probe\" ; \
         <http://purl.org/dc/terms/description> \"{}\" ; st2:triggerType \"core.st2.generic.notifytrigger\" ; st2:actionRef \"core.noop\" .",
        hostile.replace('"', "\\\"")
    );
    let r = s
        .http
        .post(s.collection())
        .bearer_auth(TOKEN)
        .header("content-type", "text/turtle")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let member = r.headers()["location"].to_str().unwrap().to_owned();
    s.c.goto(&member).await.unwrap();
    s.c.wait().for_element(Locator::Css("h1")).await.unwrap();
    assert!(s.texts("td").await.iter().any(|t| t.contains(hostile)), "the markup shows as text");
    assert!(s.c.get_alert_text().await.is_err(), "no script ran");
    let injected =
        s.c.execute("return document.querySelectorAll('main script, img[src=x]').length", vec![]).await.unwrap();
    assert_eq!(injected, json!(0));
    // In the selection dialog too.
    s.c.goto(&format!("{}?q=markup_probe", s.dialog("selection"))).await.unwrap();
    s.c.wait().for_element(Locator::Css("button.oslc-pick")).await.unwrap();
    assert!(s.c.get_alert_text().await.is_err(), "no script ran in the dialog");
}

async fn preview_is_embedded(s: &Setup) {
    let member = s.first_member().await;
    let compact: Value = s
        .http
        .get(format!("{member}?compact"))
        .bearer_auth(TOKEN)
        .header("accept", "application/json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let small = &compact["smallPreview"];
    let (w, h) = (small["hintWidth"].as_str().unwrap(), small["hintHeight"].as_str().unwrap());
    s.embed(small["document"].as_str().unwrap(), w.trim_end_matches("px"), h.trim_end_matches("px")).await;
    s.c.enter_frame(0).await.unwrap();
    let title = s.c.wait().for_element(Locator::Css("h1")).await.unwrap().text().await.unwrap();
    assert_eq!(title, compact["title"].as_str().unwrap(), "the preview shows the Compact's title");
    s.c.enter_parent_frame().await.unwrap();
    s.screenshot("preview").await;
}

async fn dialogs_are_framed_only_by_configured_origins(s: &Setup) {
    // `localhost` is another origin than the configured `127.0.0.1` one.
    let unconfigured = s.host.replace("127.0.0.1", "localhost");
    let url = format!(
        "{unconfigured}/embed?{}",
        form_urlencoded::Serializer::new(String::new()).append_pair("src", &s.dialog("selection")).finish()
    );
    s.c.goto(&url).await.unwrap();
    s.c.wait().for_element(Locator::Css("iframe#oslc-frame")).await.unwrap();
    s.c.enter_frame(0).await.unwrap();
    let c = &s.c;
    let blocked = support::wait_for_value("the refused frame to settle", 10, async || {
        let href = c.execute("return document.location.href", vec![]).await.ok()?;
        let href = href.as_str()?.to_owned();
        (href.starts_with("chrome-error:") || href.starts_with("http")).then_some(href)
    })
    .await;
    assert!(blocked.starts_with("chrome-error:"), "the browser refused to frame the dialog: {blocked}");
    s.c.enter_parent_frame().await.unwrap();
}

/// A client registered at the OpenID provider for the adapter at `base` (dynamic registration: the redirect URI
/// holds the port).
async fn register_client(http: &reqwest::Client, issuer: &str, base: &str) -> (String, String) {
    let registration = json!({
        "client_name": "st2-oslc (browser test)",
        "redirect_uris": [format!("{base}/auth/callback")],
        "post_logout_redirect_uris": [format!("{base}/auth/session")],
        "grant_types": ["authorization_code"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "client_secret_basic",
    });
    let reply = http
        .post(format!("{issuer}/reg"))
        .header("content-type", "application/json")
        .body(registration.to_string())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let reply: Value = serde_json::from_str(&reply).unwrap();
    let id = reply["client_id"].as_str().unwrap_or_else(|| panic!("a registered client: {reply}"));
    (id.to_owned(), reply["client_secret"].as_str().unwrap().to_owned())
}

/// Logs in as `user` on the provider's development login and consent pages, in the current frame, until the browser
/// has left the provider.
async fn provider_login(c: &Client, issuer: &str, user: &str) {
    let deadline = Instant::now() + std::time::Duration::from_secs(20);
    let mut submitted = 0;
    loop {
        assert!(Instant::now() < deadline, "the provider kept asking after {submitted} forms");
        let here = c.execute("return document.location.href", vec![]).await.unwrap();
        let here = here.as_str().unwrap_or_default().to_owned();
        let ready = c.execute("return document.readyState", vec![]).await.unwrap();
        if !here.starts_with(issuer) {
            if submitted > 0 && ready == "complete" {
                return;
            }
            tokio::task::yield_now().await;
            continue;
        }
        if ready != "complete" {
            continue;
        }
        if let Ok(login) = c.find(Locator::Css("input[name=login]")).await {
            login.send_keys(user).await.unwrap();
            c.find(Locator::Css("input[name=password]")).await.unwrap().send_keys("any password").await.unwrap();
        }
        let Ok(submit) = c.find(Locator::Css("form button[type=submit]")).await else { continue };
        submit.click().await.unwrap();
        submitted += 1;
        // The next page (another form of the provider, or the way back) replaces this one.
        eventually("the provider's next page", 10, async || {
            c.execute("return document.location.href", vec![]).await.ok().and_then(|v| v.as_str().map(str::to_owned))
                != Some(here.clone())
        })
        .await;
    }
}

/// OpenID Connect for people: a page of an adapter protected by the provider sends the browser to log in and back;
/// the session page says who is logged in; logging out ends the session here and at the provider; a selection
/// dialog framed by another tool's page goes through the login inside the frame, comes back to the dialog, and
/// answers the tool.
async fn people_log_in_with_openid_connect(s: &Setup) {
    let issuer = std::env::var("OIDC_ISSUER")
        .expect("OIDC_ISSUER: run the tests with bash scripts/test.sh (or source scripts/services.sh)");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let (client_id, secret) = register_client(&s.http, &issuer, &base).await;
    let listen = format!("127.0.0.1:{port}");
    let (_adapter, _) = support::spawn_st2_oslc(
        &[
            "--demo",
            "--listen",
            &listen,
            "--protect-reads",
            "--frame-ancestor",
            &s.host,
            "--oidc-issuer",
            &issuer,
            "--oidc-client-id",
            &client_id,
            "--oidc-client-secret",
            &secret,
            "--oidc-browser-login",
        ],
        TOKEN,
    );
    let c = &s.c;
    let catalog = format!("{base}/serviceProviders/catalog");
    c.goto(&catalog).await.unwrap();
    provider_login(c, &issuer, "alice").await;
    assert_eq!(c.current_url().await.unwrap().as_str(), catalog, "back at the page asked for");
    let h1 = c.wait().for_element(Locator::Css("h1")).await.unwrap().text().await.unwrap();
    assert_eq!(h1, "StackStorm OSLC adapter");
    // An OSLC client without credentials is still refused: the login is for browsers.
    let api = s.http.get(&catalog).header("accept", "text/turtle").send().await.unwrap();
    assert_eq!(api.status(), 401);

    // The navigation links to the session page, which names the person and the scopes of the access token.
    c.find(Locator::LinkText("Session")).await.unwrap().click().await.unwrap();
    let who = c.wait().for_element(Locator::Css("strong.oslc-principal")).await.unwrap().text().await.unwrap();
    assert_eq!(who, "alice");
    let page = c.source().await.unwrap();
    assert!(page.contains("oslc.write"), "{page}");

    // Logging out: here, then at the provider, which asks and comes back to the session page.
    c.find(Locator::Css("form button[type=submit]")).await.unwrap().click().await.unwrap();
    eventually("the provider's logout page", 10, async || {
        c.current_url().await.is_ok_and(|u| u.as_str().starts_with(&issuer))
    })
    .await;
    c.wait().for_element(Locator::Css("button[name=logout][value=yes]")).await.unwrap().click().await.unwrap();
    eventually("the session page, logged out", 10, async || c.find(Locator::Css("p.oslc-anonymous")).await.is_ok())
        .await;
    assert!(c.current_url().await.unwrap().as_str().starts_with(&format!("{base}/auth/session")));

    // Another tool's page frames the selection dialog; without a session the frame goes through the login and
    // comes back to the dialog, which answers the tool.
    let dialog = format!("{base}/dialogs/1/changeRequests/selection/form");
    s.embed(&dialog, "700", "560").await;
    c.enter_frame(0).await.unwrap();
    provider_login(c, &issuer, "bob").await;
    let search = c.wait().for_element(Locator::Css("input[type=search]")).await.unwrap();
    let here = c.execute("return document.location.href", vec![]).await.unwrap();
    assert_eq!(here.as_str(), Some(dialog.as_str()), "back at the dialog");
    search.send_keys("webhook\u{E007}").await.unwrap();
    c.wait().for_element(Locator::Css("html[data-oslc-ready]")).await.unwrap();
    let pick =
        c.wait().for_element(Locator::Css("button.oslc-pick[data-label=sample_rule_with_webhook]")).await.unwrap();
    pick.click().await.unwrap();
    c.enter_parent_frame().await.unwrap();
    let response = s.response(0).await;
    let results = response["oslc:results"].as_array().unwrap();
    assert_eq!(results.len(), 1, "{response}");
    assert!(results[0]["rdf:resource"].as_str().unwrap().starts_with(&base), "{response}");
}
