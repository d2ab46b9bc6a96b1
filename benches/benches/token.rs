//! Verifying an OAuth 2.0 access token (a JWT) with the JWKS cached, as `JwtVerifier` does on each request
//! (target: under 50 µs): RS256 and ES256, the signature checked each time (a token seen for the first time) and
//! a token seen lately (its check kept), beside the baseline of the signature check alone. The keys are made for
//! this benchmark only.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::{SystemTime, UNIX_EPOCH};

use criterion::{Criterion, criterion_group, criterion_main};
use oslc_core::server::auth::oidc::{JwtVerifier, OidcOptions};
use oslc_core::server::auth::{Credentials, Verifier};

const RSA_PEM: &str = "-----BEGIN PRIVATE KEY-----\nMIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQDOS/aJbEXKFHpQ\nW6KMGR7AwQj963iZXS89aiBRz8SJG84p/Z87086dEfCLu1OMTQX7D57ZUMxsQBh5\nbzsS4ezOua/+Rb5m8a13dvIH6ksOl+Spo4xB00rYgFdQPyPw3/tYTGYfW3cV0k0i\nfbdawcY9e3M12q880Dm47W0W75wF5FfXg0y4pvlKgzcn9OQYDRlt5zd0U5KYOH2a\nGR1diM6NBCLHrwfXyvsQ0W8Xe5cYe+52/YiZXDnVKY8jcrgNjcn3EEuF/JE4bgyF\nRgFe1DbcwiB2RjNUXyuW6FBnp251Kp/pOu8heeC+F/rNNj4M9edayRd/O4jMqe3G\nrrSqcSO7AgMBAAECggEAFCd9C9VKxtX+p8shXj6LWpmBSg1Z2Dcvs6L39VuEVUDP\ngMVea8yNlZrNvVkCbeU4fbFQ+4+BPod53KND9NxNnloAb6mwqFiuxx+/wDY2Oalt\nQDAni7wbcSYDYbuexJxH70sczwNzPEEyIqSAPUWhGxtBw4knMEcc3IxAPsq58M6T\nx57geVgndqFrDum565Wbw7Q57HlxodMIZ+8bVDUuZSSdsyhIYxi9riWQLWc/jeI6\nIY4xOhsdsDGx2eDK5stOY6C0KhuZJGGhZN2mJI905Jhv3TbhWThp1yBAKn7GtFaA\ntCWtqzy4ncWJJxiEU248yhsdYdALuP2TJ/sQMUDcgQKBgQD4PJ5tgy6DzXH8lubo\nfP8unoMAS3a6JhVA/yST4cNWEXPsl9wzhsSbnvZ1zMyuEZ4ELYJBACDwcgq+6+/F\nL4O4YSC5JDRVgUbuw2x2DEOWClV7M13Y0HDRpJ5PokCwD3oPJOtbwFom/xidvuPZ\nTpfIEJRzRJ+uHgVjxbHYZ/kR8wKBgQDUv5KORhQYWWuTsIe2TVh44pV2kmQC9s1s\nXCyYtF4Ms4a3Gic9NExkgB6jqX5OOClnNCTpOdgi3u72/bkii0P4dyiEMgZe5s8H\nUe9ID+pYlVR6LFqafBPCj6+/unYn73NgQR+hNCPxaOuub9B/WRSmlGslXV0m+3cq\nWtW5HW3RGQKBgAixXr7pBBz7ec1ln2puziTcyiudeOfl44KmLKq9EjEWZV/YpY5s\nXsAwXeMcK+LAnS76RQBvt7eT1sp+yqO2GT/Arvusx+RipZBA6bBsl4VOkVXCI7wu\n+HRu9lhFj0xbDmQvX8qTvtR0xHDpuWLnvKr14azzrz/Sr0+iIas5YOB/AoGBAMJS\nnXXQssgu3SEQbFVqvnXkWKruOeWvMqFYa++rSACH9nPGsrKn02M010ecKF8f00mO\nCmzxRedMA6+cvv67gAEyLdLZspH6dn10LICA8QeqlnfljXhv/siG3/vbP9NoVtVD\nhrWC35XAxQ0W2rWHU2J4TInbhpt1szn/sBmetND5AoGBAPafxXUX0vC8nNEK0eEh\nJBuwMxeTfpdhNT3ZUGXWBkQ9tgSZlneh5V1sV70RIA4e1O64gvRqyFhowh+fq41I\n3U5LIVR3XJxhUfltDX6/9C4LlyvYSgAmTFbuujbr061YJ6cVo+P81pF4KoiqPAnL\n14hu2gOiubZ012X56xegQznl\n-----END PRIVATE KEY-----";
const RSA_JWK: &str = r#"{"kty":"RSA","n":"zkv2iWxFyhR6UFuijBkewMEI_et4mV0vPWogUc_EiRvOKf2fO9POnRHwi7tTjE0F-w-e2VDMbEAYeW87EuHszrmv_kW-ZvGtd3byB-pLDpfkqaOMQdNK2IBXUD8j8N_7WExmH1t3FdJNIn23WsHGPXtzNdqvPNA5uO1tFu-cBeRX14NMuKb5SoM3J_TkGA0Zbec3dFOSmDh9mhkdXYjOjQQix68H18r7ENFvF3uXGHvudv2ImVw51SmPI3K4DY3J9xBLhfyROG4MhUYBXtQ23MIgdkYzVF8rluhQZ6dudSqf6TrvIXngvhf6zTY-DPXnWskXfzuIzKntxq60qnEjuw","e":"AQAB","kid":"rs256","alg":"RS256","use":"sig"}"#;
const EC_PEM: &str = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgX9YQVsx39iFsyE4W\nW8nmYJKmN/yx+pP94KBwe2HIp9ahRANCAARdTx4cticxsIv9x3YCh6/mwxq0FxXJ\nhjvNiQxm0tXPlsddjZECdpdiP1CgOWJx6J3wXyggLHw5fI0gDg7PQTwN\n-----END PRIVATE KEY-----";
const EC_JWK: &str = r#"{"kty":"EC","x":"XU8eHLYnMbCL_cd2Aoev5sMatBcVyYY7zYkMZtLVz5Y","y":"x12NkQJ2l2I_UKA5YnHonfBfKCAsfDl8jSAODs9BPA0","crv":"P-256","kid":"es256","alg":"ES256","use":"sig"}"#;
const AUDIENCE: &str = "https://bench.test/oslc";

/// Serves the discovery document and the JWKS; returns the issuer.
async fn issuer() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let discovery = serde_json::json!({ "issuer": issuer, "jwks_uri": format!("{issuer}/jwks") }).to_string();
    let jwks = format!("{{\"keys\":[{RSA_JWK},{EC_JWK}]}}");
    let app = axum::Router::new()
        .route("/.well-known/openid-configuration", axum::routing::get(move || async move { discovery }))
        .route("/jwks", axum::routing::get(move || async move { jwks }));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    issuer
}

fn token(issuer: &str, alg: jsonwebtoken::Algorithm, kid: &str, key: &jsonwebtoken::EncodingKey) -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let claims = serde_json::json!({
        "iss": issuer, "aud": AUDIENCE, "sub": "bench", "iat": now, "exp": now + 3600,
        "scope": "oslc.read oslc.write", "client_id": "bench",
    });
    let mut header = jsonwebtoken::Header::new(alg);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, &claims, key).unwrap()
}

fn verify(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let issuer = runtime.block_on(issuer());
    let cached = runtime.block_on(JwtVerifier::discover(OidcOptions::new(&issuer, AUDIENCE))).unwrap();
    let each_time = runtime
        .block_on(JwtVerifier::discover(OidcOptions::new(&issuer, AUDIENCE).with_cache_ttl(std::time::Duration::ZERO)))
        .unwrap();
    let rsa = token(
        &issuer,
        jsonwebtoken::Algorithm::RS256,
        "rs256",
        &jsonwebtoken::EncodingKey::from_rsa_pem(RSA_PEM.as_bytes()).unwrap(),
    );
    let ec = token(
        &issuer,
        jsonwebtoken::Algorithm::ES256,
        "es256",
        &jsonwebtoken::EncodingKey::from_ec_pem(EC_PEM.as_bytes()).unwrap(),
    );
    let mut group = c.benchmark_group("verify_access_token");
    let jwk = |json: &str| {
        jsonwebtoken::DecodingKey::from_jwk(&serde_json::from_str::<jsonwebtoken::jwk::Jwk>(json).unwrap()).unwrap()
    };
    for (name, token, alg, key) in [
        ("RS256", rsa, jsonwebtoken::Algorithm::RS256, jwk(RSA_JWK)),
        ("ES256", ec, jsonwebtoken::Algorithm::ES256, jwk(EC_JWK)),
    ] {
        // The baseline: the signature check alone (ring, through jsonwebtoken), what any verifier pays at least.
        let (message, signature) = token.rsplit_once('.').unwrap();
        assert!(jsonwebtoken::crypto::verify(signature, message.as_bytes(), &key, alg).unwrap());
        group.bench_function(format!("{name}/signature_alone"), |b| {
            b.iter(|| jsonwebtoken::crypto::verify(black_box(signature), message.as_bytes(), &key, alg).unwrap());
        });
        let credentials = Credentials::Bearer(token);
        // Each request checks the signature (a token seen for the first time), and a token seen lately.
        for (how, verifier) in [("signature", &each_time), ("seen_lately", &cached)] {
            assert!(runtime.block_on(verifier.check(&credentials)).is_ok(), "{name} verifies");
            group.bench_function(format!("{name}/{how}"), |b| {
                b.iter(|| runtime.block_on(verifier.check(black_box(&credentials))).is_ok());
            });
        }
    }
    group.finish();
}

criterion_group!(benches, verify);
criterion_main!(benches);
