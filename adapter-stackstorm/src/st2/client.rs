//! The StackStorm REST client (CONTRACT.md §1): rules over `/api/v1/rules`, actions and executions over
//! `/api/v1/actions` and `/api/v1/executions`, authenticated by API key or token, st2's `faultstring` errors kept
//! and passed on.
//!
//! ```no_run
//! use adapter_stackstorm::st2::{RuleStore, St2Auth, St2Client};
//!
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let st2 = St2Client::new("https://st2.example", St2Auth::ApiKey("k3y".into()))?;
//! for rule in st2.list(Some(10)).await?.rules {
//!     println!("{} enabled={}", rule.reference(), rule.enabled);
//! }
//! # Ok(()) }
//! ```

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};

use super::execution::{Action, Execution, ExecutionStore};
use super::rule::Rule;
use super::store::{RulePage, RuleStore, St2Error};

/// How the adapter authenticates to StackStorm. The secret never appears in `Debug` output or logs.
#[derive(Debug, Clone, Default)]
pub enum St2Auth {
    /// No credentials (st2 with auth disabled).
    #[default]
    None,
    /// `St2-Api-Key` (does not expire).
    ApiKey(SecretString),
    /// `X-Auth-Token` (from `POST /auth/v1/tokens`).
    Token(SecretString),
}

/// A client of StackStorm's rule API.
#[derive(Debug, Clone)]
pub struct St2Client {
    http: reqwest::Client,
    base: String,
    auth: St2Auth,
}

impl St2Client {
    /// A client of the API at `url`: a base ending in `/v1` (such as `http://127.0.0.1:9101/v1` for st2api itself)
    /// is used as is; any other URL is taken as StackStorm's public address and `/api/v1` is appended.
    ///
    /// # Errors
    /// [`St2Error::Protocol`] if the URL is not http(s) or the HTTP client cannot be built.
    pub fn new(url: &str, auth: St2Auth) -> Result<Self, St2Error> {
        let url = url.trim_end_matches('/');
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(St2Error::Protocol { message: format!("StackStorm URL {url} is not http or https") });
        }
        let base = if url.ends_with("/v1") { url.to_owned() } else { format!("{url}/api/v1") };
        crate::install_crypto_provider();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| St2Error::Protocol { message: format!("HTTP client: {e}") })?;
        Ok(Self { http, base, auth })
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let request = self.http.request(method, format!("{}{path}", self.base)).header("accept", "application/json");
        match &self.auth {
            St2Auth::None => request,
            St2Auth::ApiKey(key) => request.header("St2-Api-Key", key.expose_secret()),
            St2Auth::Token(token) => request.header("X-Auth-Token", token.expose_secret()),
        }
    }

    async fn send(&self, request: RequestBuilder, expect: StatusCode) -> Result<Response, St2Error> {
        let response = request.send().await.map_err(|e| St2Error::Unavailable { message: without_url(&e) })?;
        if response.status() == expect {
            return Ok(response);
        }
        Err(error_from(response).await)
    }
}

/// reqwest's message without the URL (which may carry query credentials).
fn without_url(error: &reqwest::Error) -> String {
    let mut message = error.to_string();
    if let Some(url) = error.url() {
        message = message.replace(url.as_str(), "StackStorm");
    }
    if error.is_connect() { format!("cannot connect: {message}") } else { message }
}

fn segment(ref_or_id: &str) -> String {
    form_urlencoded::byte_serialize(ref_or_id.as_bytes()).collect::<String>().replace('+', "%20")
}

/// Turns a non-success answer into st2's error, keeping its `faultstring`.
async fn error_from(response: Response) -> St2Error {
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    let faultstring =
        body.get("faultstring").and_then(Value::as_str).map(str::to_owned).unwrap_or_else(|| format!("HTTP {status}"));
    match status {
        StatusCode::NOT_FOUND => St2Error::NotFound { faultstring },
        StatusCode::BAD_REQUEST => St2Error::Invalid { faultstring },
        StatusCode::CONFLICT => St2Error::Conflict {
            faultstring,
            conflict_id: body.get("conflict-id").and_then(Value::as_str).map(str::to_owned),
        },
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => St2Error::Unauthorized { faultstring },
        s if s.is_server_error() => St2Error::Unavailable { message: format!("HTTP {s}: {faultstring}") },
        s => St2Error::Protocol { message: format!("HTTP {s}: {faultstring}") },
    }
}

async fn rule_from(response: Response) -> Result<Rule, St2Error> {
    response.json().await.map_err(|e| St2Error::Protocol { message: format!("rule JSON: {e}") })
}

#[async_trait]
impl RuleStore for St2Client {
    async fn list(&self, limit: Option<usize>) -> Result<RulePage, St2Error> {
        let mut request = self.request(Method::GET, "/rules");
        if let Some(limit) = limit {
            request = request.query(&[("limit", limit)]);
        }
        let response = self.send(request, StatusCode::OK).await?;
        let total = response.headers().get("x-total-count").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
        let rules: Vec<Rule> =
            response.json().await.map_err(|e| St2Error::Protocol { message: format!("rule list JSON: {e}") })?;
        Ok(RulePage { total: total.unwrap_or(rules.len()), rules: rules.into_iter().map(Arc::new).collect() })
    }

    async fn get(&self, ref_or_id: &str, show_secrets: bool) -> Result<Rule, St2Error> {
        let mut request = self.request(Method::GET, &format!("/rules/{}", segment(ref_or_id)));
        if show_secrets {
            request = request.query(&[("show_secrets", "true")]);
        }
        rule_from(self.send(request, StatusCode::OK).await?).await
    }

    async fn create(&self, rule: &Rule) -> Result<Rule, St2Error> {
        let request = self.request(Method::POST, "/rules").json(rule);
        rule_from(self.send(request, StatusCode::CREATED).await?).await
    }

    async fn replace(&self, id: &str, rule: &Rule) -> Result<Rule, St2Error> {
        let request = self.request(Method::PUT, &format!("/rules/{}", segment(id))).json(rule);
        rule_from(self.send(request, StatusCode::OK).await?).await
    }

    async fn delete(&self, ref_or_id: &str) -> Result<(), St2Error> {
        let request = self.request(Method::DELETE, &format!("/rules/{}", segment(ref_or_id)));
        self.send(request, StatusCode::NO_CONTENT).await.map(|_| ())
    }
}

async fn json_of<T: serde::de::DeserializeOwned>(response: Response, what: &str) -> Result<T, St2Error> {
    response.json().await.map_err(|e| St2Error::Protocol { message: format!("{what} JSON: {e}") })
}

/// The most actions read in all (st2 pages `/actions` by 100).
const MAX_ACTIONS: usize = 10_000;

#[async_trait]
impl ExecutionStore for St2Client {
    async fn actions(&self) -> Result<Vec<Action>, St2Error> {
        let mut actions: Vec<Action> = Vec::new();
        loop {
            let request = self.request(Method::GET, "/actions").query(&[("limit", 100), ("offset", actions.len())]);
            let response = self.send(request, StatusCode::OK).await?;
            let total: Option<usize> =
                response.headers().get("x-total-count").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
            let page: Vec<Action> = json_of(response, "action list").await?;
            let last = page.len() < 100;
            actions.extend(page);
            if last || total.is_some_and(|t| actions.len() >= t) || actions.len() >= MAX_ACTIONS {
                break;
            }
        }
        actions.sort_by(|a, b| a.reference.cmp(&b.reference));
        Ok(actions)
    }

    async fn action(&self, ref_or_id: &str) -> Result<Action, St2Error> {
        let request = self.request(Method::GET, &format!("/actions/{}", segment(ref_or_id)));
        json_of(self.send(request, StatusCode::OK).await?, "action").await
    }

    async fn execute(&self, action_ref: &str, parameters: Map<String, Value>) -> Result<Execution, St2Error> {
        let body = serde_json::json!({ "action": action_ref, "parameters": parameters });
        let request = self.request(Method::POST, "/executions").json(&body);
        json_of(self.send(request, StatusCode::CREATED).await?, "execution").await
    }

    async fn executions(&self, limit: usize) -> Result<Vec<Execution>, St2Error> {
        let request = self.request(Method::GET, "/executions").query(&[("limit", limit)]);
        json_of(self.send(request, StatusCode::OK).await?, "execution list").await
    }

    async fn execution(&self, id: &str) -> Result<Execution, St2Error> {
        let request = self.request(Method::GET, &format!("/executions/{}", segment(id)));
        json_of(self.send(request, StatusCode::OK).await?, "execution").await
    }

    async fn cancel(&self, id: &str) -> Result<Execution, St2Error> {
        let request = self.request(Method::DELETE, &format!("/executions/{}", segment(id)));
        json_of(self.send(request, StatusCode::OK).await?, "execution").await
    }

    async fn re_run(&self, id: &str) -> Result<Execution, St2Error> {
        let body = serde_json::json!({ "parameters": {} });
        let request = self.request(Method::POST, &format!("/executions/{}/re_run", segment(id))).json(&body);
        json_of(self.send(request, StatusCode::CREATED).await?, "execution").await
    }
}
