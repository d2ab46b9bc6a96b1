//! OAuth 2.0 bearer tokens from a real, certified OpenID provider (npm `oidc-provider`, started by
//! `scripts/services.sh` and named by `OIDC_ISSUER`): each kind of bad token gets the RFC 6750 answer and changes
//! nothing; scopes decide reads, writes and actions; keys rotate; opaque tokens are introspected.
#![cfg(feature = "oidc")]
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use base64::Engine as _;
use common::*;
use oslc_core::rdf::RdfFormat;
use oslc_core::server::auth::oidc::{IntrospectionClient, JwtVerifier, OidcOptions};
use oslc_core::server::auth::{Auth, Either, Policy, StaticToken};
use serde_json::{Value, json};

const AUDIENCE: &str = "https://tracker.test/oslc";
const STATIC: &str = "static-secret";

fn issuer() -> String {
    std::env::var("OIDC_ISSUER")
        .expect("OIDC_ISSUER: run the tests with bash scripts/test.sh (or source scripts/services.sh)")
}

fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// A token from the client credentials grant, for `resource` with `scope`.
async fn token(scope: &str, resource: &str) -> String {
    let reply = http()
        .post(format!("{}/token", issuer()))
        .basic_auth("oslc-tests", Some("oslc-tests-secret"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("grant_type=client_credentials&scope={}&resource={resource}", scope.replace(' ', "%20")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let reply: Value = serde_json::from_str(&reply).unwrap();
    reply["access_token"].as_str().unwrap_or_else(|| panic!("a token: {reply}")).to_owned()
}

/// A token signed by the issuer's own key with `claims` (the provider's test helper).
async fn signed(claims: Value) -> String {
    http()
        .post(format!("{}/__test/sign", issuer()))
        .body(claims.to_string())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

async fn protected() -> (axum::Router, Arc<oslc_core::InMemoryProvider>) {
    let options =
        OidcOptions::new(issuer(), AUDIENCE).with_min_refetch(Duration::from_millis(50)).with_realm("tracker");
    let jwt = JwtVerifier::discover(options).await.unwrap();
    let (app, provider) = app();
    let auth = Auth::new(Either::new(StaticToken::new(STATIC), jwt), Policy::protect_all());
    (auth.layer(app), provider)
}

async fn read_with(app: &axum::Router, token: &str) -> Reply {
    let req = request("GET", CRS).header("authorization", format!("Bearer {token}")).header("accept", "text/turtle");
    send(app, req.body(Body::empty()).unwrap()).await
}

async fn create_with(app: &axum::Router, token: &str) -> Reply {
    let req = request("POST", CRS)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", RdfFormat::Turtle.media_type())
        .header("accept", "text/turtle");
    send(app, req.body(Body::from(NEW_CR)).unwrap()).await
}

fn challenge(reply: &Reply) -> String {
    reply
        .headers
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join(" | ")
}

#[tokio::test]
async fn scopes_decide_reads_writes_and_static_tokens_still_work() {
    let (app, provider) = protected().await;
    let read_only = token("oslc.read", AUDIENCE).await;
    assert_eq!(read_with(&app, &read_only).await.status, 200);
    let refused = create_with(&app, &read_only).await;
    assert_eq!(refused.status, 403, "{}", refused.text());
    assert!(
        challenge(&refused).contains("error=\"insufficient_scope\", scope=\"oslc.write\""),
        "{}",
        challenge(&refused)
    );
    assert!(provider.is_empty(), "a refused write changes nothing");

    let writer = token("oslc.read oslc.write", AUDIENCE).await;
    assert_eq!(create_with(&app, &writer).await.status, 201);
    let write_only = token("oslc.write", AUDIENCE).await;
    assert_eq!(read_with(&app, &write_only).await.status, 200, "the write scope reads too");

    // The static token, as bearer and as a Basic password, beside the issuer's tokens.
    assert_eq!(read_with(&app, STATIC).await.status, 200);
    assert_eq!(create_with(&app, STATIC).await.status, 201);

    // Anonymous: 401 naming both schemes, the issuer's scopes in the Bearer challenge; no error for no token.
    let anonymous = send(&app, request("GET", CRS).body(Body::empty()).unwrap()).await;
    assert_eq!(anonymous.status, 401);
    let c = challenge(&anonymous);
    assert!(
        c.contains("Basic realm=") && c.contains("Bearer realm=\"tracker\", scope=\"oslc.read oslc.write\""),
        "{c}"
    );
    assert!(!c.contains("error="), "no token is not an invalid token (RFC 6750 §3.1): {c}");

    // A CORS preflight never needs a token.
    let preflight = request("OPTIONS", CRS)
        .header("origin", "https://elsewhere.example")
        .header("access-control-request-method", "POST")
        .body(Body::empty())
        .unwrap();
    assert!(send(&app, preflight).await.status < 300);
}

#[tokio::test]
async fn every_kind_of_bad_token_is_refused_and_changes_nothing() {
    let (app, provider) = protected().await;
    let t = now();
    let good = json!({ "aud": AUDIENCE, "scope": "oslc.read oslc.write", "sub": "someone" });
    let with = |patch: Value| {
        let mut claims = good.clone();
        for (k, v) in patch.as_object().unwrap() {
            claims[k] = v.clone();
        }
        claims
    };
    let valid = signed(good.clone()).await;
    assert_eq!(create_with(&app, &valid).await.status, 201, "the helper's tokens are good ones");
    let valid_ec = signed(with(json!({ "__alg": "ES256" }))).await;
    assert_eq!(read_with(&app, &valid_ec).await.status, 200, "ES256 too");
    let stored = provider.len();

    let mut cases: Vec<(&str, String, &str)> = vec![
        ("expired", signed(with(json!({ "exp": t - 3600, "iat": t - 7200 }))).await, "expired"),
        ("not yet valid", signed(with(json!({ "nbf": t + 3600 }))).await, "not valid yet"),
        ("wrong audience", signed(with(json!({ "aud": "https://other.test" }))).await, "is not for"),
        ("wrong issuer", signed(with(json!({ "iss": "https://evil.example" }))).await, "not issued by"),
        ("no audience", signed(with(json!({ "aud": null }))).await, "aud"),
    ];
    // Tampered: the payload changed after signing (more scope).
    let parts: Vec<&str> = valid.split('.').collect();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut payload: Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
    payload["sub"] = json!("admin");
    let tampered = format!("{}.{}.{}", parts[0], b64.encode(payload.to_string()), parts[2]);
    cases.push(("tampered", tampered, "signature"));
    // alg none, and an HMAC keyed with the issuer's public key (algorithm confusion).
    let none = format!("{}.{}.", b64.encode(r#"{"alg":"none","typ":"at+jwt"}"#), parts[1]);
    cases.push(("alg none", none, ""));
    let jwks = http().get(format!("{}/jwks", issuer())).send().await.unwrap().text().await.unwrap();
    let jwks: Value = serde_json::from_str(&jwks).unwrap();
    let rsa = jwks["keys"].as_array().unwrap().iter().find(|k| k["kty"] == "RSA").unwrap().clone();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = rsa["kid"].as_str().map(str::to_owned);
    let confused = jsonwebtoken::encode(
        &header,
        &with(json!({ "iss": issuer(), "exp": t + 300 })),
        &jsonwebtoken::EncodingKey::from_secret(rsa.to_string().as_bytes()),
    )
    .unwrap();
    cases.push(("HMAC with the public key", confused, "algorithm"));
    cases.push((
        "unknown key",
        format!("{}.{}.{}", b64.encode(r#"{"alg":"RS256","kid":"nope"}"#), parts[1], parts[2]),
        "key",
    ));
    cases.push(("garbage", "not-a-token".to_owned(), ""));

    for (name, token, said) in cases {
        let reply = create_with(&app, &token).await;
        assert_eq!(reply.status, 401, "{name}: {}", reply.text());
        let c = challenge(&reply);
        assert!(c.contains("error=\"invalid_token\""), "{name}: {c}");
        assert!(c.contains(said), "{name}: the description says why: {c}");
        assert!(!c.contains(&token) || token.is_empty(), "{name}: the token is never echoed");
        assert_eq!(read_with(&app, &token).await.status, 401, "{name}");
    }
    assert_eq!(provider.len(), stored, "no refused token created anything");
}

#[tokio::test]
async fn rotated_keys_are_fetched_once_the_issuer_signs_with_them() {
    let (app, _) = protected().await;
    let before = token("oslc.read", AUDIENCE).await;
    assert_eq!(read_with(&app, &before).await.status, 200);
    let kid = http().post(format!("{}/__test/rotate", issuer())).send().await.unwrap().text().await.unwrap();
    let after = token("oslc.read", AUDIENCE).await;
    let header = jsonwebtoken::decode_header(&after).unwrap();
    assert_eq!(header.kid.as_deref(), Some(kid.as_str()), "the issuer signs with the new key");
    assert_eq!(read_with(&app, &after).await.status, 200, "the verifier fetched the new key");
    assert_eq!(read_with(&app, &before).await.status, 200, "the old key is still published, its tokens still valid");
}

#[tokio::test]
async fn opaque_tokens_are_introspected() {
    let audience = format!("{AUDIENCE}/opaque");
    let options = OidcOptions::new(issuer(), &audience).with_introspection(IntrospectionClient {
        client_id: "oslc-rs".to_owned(),
        client_secret: "oslc-rs-secret".to_owned(),
    });
    let jwt = JwtVerifier::discover(options).await.unwrap();
    assert!(!format!("{jwt:?} {:?}", jwt.options()).contains("oslc-rs-secret"), "secrets never in Debug");
    let (app, _) = app();
    let app = Auth::new(jwt, Policy::protect_all()).layer(app);
    let opaque = token("oslc.read", &audience).await;
    assert_ne!(opaque.split('.').count(), 3, "an opaque token");
    assert_eq!(read_with(&app, &opaque).await.status, 200);
    assert_eq!(create_with(&app, &opaque).await.status, 403, "its scope is read only");
    let reply = read_with(&app, "opaque-but-unknown").await;
    assert_eq!(reply.status, 401);
    assert!(challenge(&reply).contains("not active"), "{}", challenge(&reply));
}

#[tokio::test]
async fn a_wrong_issuer_is_refused_at_start() {
    // The discovery document must name the issuer configured (OpenID Connect Discovery §4.3).
    let other = format!("{}/", issuer());
    let error = JwtVerifier::discover(OidcOptions::new(other, AUDIENCE)).await.unwrap_err();
    assert!(error.to_string().contains("names the issuer"), "{error}");
}

#[tokio::test]
async fn the_client_gets_and_reuses_tokens_with_client_credentials() {
    use oslc_core::client::{Client, Credential};
    use oslc_core::oauth::ClientCredentials;
    // The protected server on a socket, its public URL the audience's.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (app, provider) = protected().await;
    // The kit's paths are relative to BASE's path; serve them under it.
    let app = axum::Router::new().nest("/oslc", app);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let base = format!("http://{addr}/oslc");

    let tokens = ClientCredentials::discover(&issuer(), "oslc-tests", "oslc-tests-secret")
        .await
        .unwrap()
        .with_scope("oslc.read oslc.write")
        .with_resource(AUDIENCE);
    assert!(!format!("{tokens:?}").contains("oslc-tests-secret"), "secrets never in Debug");
    let first = tokens.token().await.unwrap();
    assert_eq!(tokens.token().await.unwrap(), first, "a fresh token is reused, not asked for again");
    let client =
        Client::new().unwrap().with_credential(format!("{base}/"), Credential::ClientCredentials(tokens.clone()));
    let catalog = client.get_graph(&format!("{base}/serviceProviders/catalog")).await.unwrap();
    assert!(!catalog.is_empty());
    let container = format!("{base}/serviceProviders/1/changeRequests");
    let created = client.create(&container, NEW_CR.to_owned()).await.unwrap();
    assert!(created.starts_with("http://tracker.test/oslc/serviceProviders/1/changeRequests/"), "{created}");
    assert_eq!(provider.len(), 1);

    // A client without the write scope is refused with the server's reason.
    let reader = ClientCredentials::discover(&issuer(), "oslc-tests", "oslc-tests-secret")
        .await
        .unwrap()
        .with_scope("oslc.read")
        .with_resource(AUDIENCE);
    let client = Client::new().unwrap().with_credential(format!("{base}/"), Credential::ClientCredentials(reader));
    let refused = client.create(&container, NEW_CR.to_owned()).await.unwrap_err();
    assert!(matches!(refused, oslc_core::Error::Remote { status: Some(403), .. }), "{refused}");
    // A wrong secret is the token endpoint's refusal, named.
    let wrong = ClientCredentials::discover(&issuer(), "oslc-tests", "nope").await.unwrap();
    let error = wrong.token().await.unwrap_err();
    assert!(error.to_string().contains("invalid_client"), "{error}");
}
