//! A fake StackStorm API server for tests and local runs: the rule API with st2's status codes, errors, auth and
//! listing semantics (CONTRACT.md §1), over any [`RuleStore`] — a [`SimulatedSt2`](adapter_stackstorm::st2::SimulatedSt2) in
//! memory or in MongoDB, written as st2 writes it; and actions and executions (`/actions`, `/executions`, cancel
//! and re-run) over any [`ExecutionStore`], by default [`SimulatedExecutions`] with the sample actions.
//!
//! Served at `/api/v1/rules` (nginx's path), `/v1/rules` and `/rules` (st2api's own), with or without a trailing
//! slash; the same for the other routes.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use testkit::fake_st2::{Credentials, spawn};
//! let st2 = std::sync::Arc::new(adapter_stackstorm::st2::SimulatedSt2::in_memory());
//! let base = spawn(st2, Credentials::api_key("k3y")).await;
//! // Point the adapter's client (or st2-oslc --st2-url) at it.
//! let client = adapter_stackstorm::st2::St2Client::new(&base, adapter_stackstorm::st2::St2Auth::ApiKey("k3y".into()));
//! assert!(client.is_ok());
//! # }
//! ```

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use adapter_stackstorm::st2::simulated::rule_from_json;
use adapter_stackstorm::st2::{ExecutionStore, RuleStore, SimulatedExecutions, St2Error};

/// The credentials the fake accepts. Debug output does not show them.
#[derive(Clone, Default)]
pub struct Credentials {
    /// Valid `St2-Api-Key` values.
    pub api_keys: BTreeSet<String>,
    /// Valid `X-Auth-Token` values.
    pub tokens: BTreeSet<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({} api keys, {} tokens)", self.api_keys.len(), self.tokens.len())
    }
}

impl Credentials {
    /// Accepts one API key.
    pub fn api_key(key: &str) -> Self {
        Self { api_keys: [key.to_owned()].into(), tokens: BTreeSet::new() }
    }

    /// Also accepts the auth token `token`.
    #[must_use]
    pub fn with_token(mut self, token: &str) -> Self {
        self.tokens.insert(token.to_owned());
        self
    }
}

/// Serves the fake over `store` on a free loopback port; returns its base URL.
pub async fn spawn(store: Arc<dyn RuleStore>, credentials: Credentials) -> String {
    crate::serve(router(store, credentials)).await
}

#[derive(Clone)]
struct Fake {
    store: Arc<dyn RuleStore>,
    executions: Arc<dyn ExecutionStore>,
    credentials: Arc<Credentials>,
}

/// The fake's router over `store`, accepting `credentials`; actions and executions are the sample actions, run in
/// simulation ([`SimulatedExecutions`]).
pub fn router(store: Arc<dyn RuleStore>, credentials: Credentials) -> Router {
    router_with(store, Arc::new(SimulatedExecutions::with_sample_actions("http://st2.fake")), credentials)
}

/// The fake's router over `store` and `executions`, accepting `credentials`.
pub fn router_with(store: Arc<dyn RuleStore>, executions: Arc<dyn ExecutionStore>, credentials: Credentials) -> Router {
    let state = Fake { store, executions, credentials: Arc::new(credentials) };
    let rules = Router::new()
        .route("/rules", get(list).post(create))
        .route("/rules/", get(list).post(create))
        .route("/rules/{ref_or_id}", get(read).put(replace).delete(delete))
        .route("/rules/{ref_or_id}/", get(read).put(replace).delete(delete))
        .route("/actions", get(actions))
        .route("/actions/{ref_or_id}", get(action))
        .route("/executions", get(list_executions).post(execute))
        .route("/executions/{id}", get(execution).delete(cancel))
        .route("/executions/{id}/re_run", axum::routing::post(re_run));
    Router::new()
        .nest("/api/v1", rules.clone())
        .nest("/v1", rules.clone())
        .merge(rules)
        .layer(middleware::from_fn_with_state(state.clone(), authenticate))
        .with_state(state)
}

fn fault(status: StatusCode, faultstring: &str) -> Response {
    (status, [("content-type", "application/json")], json!({ "faultstring": faultstring }).to_string()).into_response()
}

fn st2_error(error: St2Error) -> Response {
    match error {
        St2Error::NotFound { faultstring } => fault(StatusCode::NOT_FOUND, &faultstring),
        St2Error::Invalid { faultstring } => fault(StatusCode::BAD_REQUEST, &faultstring),
        St2Error::Conflict { faultstring, conflict_id } => (
            StatusCode::CONFLICT,
            [("content-type", "application/json")],
            json!({ "conflict-id": conflict_id, "faultstring": faultstring }).to_string(),
        )
            .into_response(),
        St2Error::Unauthorized { faultstring } => fault(StatusCode::UNAUTHORIZED, &faultstring),
        other => fault(StatusCode::INTERNAL_SERVER_ERROR, &other.to_string()),
    }
}

/// Credentials in st2's order: `X-Auth-Token`, `St2-Api-Key`, query `x-auth-token`, query `st2-api-key`, cookie
/// `auth-token`; the first present is used (CONTRACT.md §1.8).
async fn authenticate(State(fake): State<Fake>, request: axum::extract::Request, next: Next) -> Response {
    let headers = request.headers();
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let query: Vec<(String, String)> =
        form_urlencoded::parse(request.uri().query().unwrap_or_default().as_bytes()).into_owned().collect();
    let param = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let cookie = header("cookie")
        .and_then(|c| c.split(';').find_map(|kv| kv.trim().strip_prefix("auth-token=").map(str::to_owned)));
    let credential = header("x-auth-token")
        .map(|t| (true, t))
        .or_else(|| header("st2-api-key").map(|k| (false, k)))
        .or_else(|| param("x-auth-token").map(|t| (true, t)))
        .or_else(|| param("st2-api-key").map(|k| (false, k)))
        .or_else(|| cookie.map(|t| (true, t)));
    match credential {
        None => fault(StatusCode::UNAUTHORIZED, "Unauthorized - One of Token or API key required."),
        Some((true, token)) if !fake.credentials.tokens.contains(&token) => {
            fault(StatusCode::UNAUTHORIZED, "Unauthorized")
        }
        Some((false, key)) if !fake.credentials.api_keys.contains(&key) => {
            fault(StatusCode::UNAUTHORIZED, "Unauthorized - ApiKey with key_hash=<hash> not found.")
        }
        Some(_) => next.run(request).await,
    }
}

fn json_response(status: StatusCode, value: &impl serde::Serialize) -> Response {
    let body = serde_json::to_string(value).unwrap_or_default();
    (status, [("content-type", "application/json")], body).into_response()
}

/// `transform_to_bool` (CONTRACT.md §1.3).
fn to_bool(value: &str) -> Result<bool, St2Error> {
    match value {
        "1" | "true" | "True" => Ok(true),
        "0" | "false" | "False" => Ok(false),
        other => Err(St2Error::invalid(format!("Invalid bool representation \"{other}\" provided."))),
    }
}

async fn list(State(fake): State<Fake>, Query(params): Query<Vec<(String, String)>>) -> Response {
    let param = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let limit = match param("limit").map(str::parse::<i64>) {
        None => None,
        Some(Ok(-1)) => None,
        Some(Ok(0)) => {
            return fault(
                StatusCode::BAD_REQUEST,
                "Limit, \"0\" specified, must be a positive number or -1 for full result set.",
            );
        }
        Some(Ok(n)) if n <= -2 => {
            return fault(StatusCode::BAD_REQUEST, &format!("Limit, \"{n}\" specified, must be a positive number."));
        }
        Some(Ok(n)) => usize::try_from(n).ok(),
        Some(Err(_)) => return fault(StatusCode::BAD_REQUEST, "Invalid limit"),
    };
    let enabled = match param("enabled").map(to_bool).transpose() {
        Ok(enabled) => enabled,
        Err(e) => return st2_error(e),
    };
    let page = match fake.store.list(None).await {
        Ok(page) => page,
        Err(e) => return st2_error(e),
    };
    let matching: Vec<_> = page
        .rules
        .into_iter()
        .filter(|r| param("pack").is_none_or(|p| r.pack == p))
        .filter(|r| param("name").is_none_or(|n| r.name == n))
        .filter(|r| param("action").is_none_or(|a| r.action.reference == a))
        .filter(|r| param("trigger").is_none_or(|t| r.trigger.reference.as_deref() == Some(t)))
        .filter(|r| enabled.is_none_or(|e| r.enabled == e))
        .collect();
    let total = matching.len();
    let shown: Vec<&adapter_stackstorm::st2::Rule> =
        matching.iter().take(limit.unwrap_or(usize::MAX)).map(|rule| &**rule).collect();
    let mut response = json_response(StatusCode::OK, &shown);
    let headers = response.headers_mut();
    headers.insert("x-total-count", HeaderValue::from(total));
    if let Some(limit) = limit {
        headers.insert("x-limit", HeaderValue::from(limit));
    }
    response
}

async fn read(
    State(fake): State<Fake>,
    Path(ref_or_id): Path<String>,
    Query(params): Query<Vec<(String, String)>>,
) -> Response {
    let show_secrets = params.iter().any(|(k, v)| k == "show_secrets" && matches!(v.as_str(), "true" | "True" | "1"));
    match fake.store.get(&ref_or_id, show_secrets).await {
        Ok(rule) => json_response(StatusCode::OK, &rule),
        Err(e) => st2_error(e),
    }
}

fn body_rule(body: &Bytes) -> Result<adapter_stackstorm::st2::Rule, St2Error> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| St2Error::invalid(format!("Failed to parse request body: {e}")))?;
    rule_from_json(value)
}

async fn create(State(fake): State<Fake>, body: Bytes) -> Response {
    let rule = match body_rule(&body) {
        Ok(rule) => rule,
        Err(e) => return st2_error(e),
    };
    match fake.store.create(&rule).await {
        Ok(created) => json_response(StatusCode::CREATED, &created),
        Err(e) => st2_error(e),
    }
}

async fn replace(State(fake): State<Fake>, Path(id): Path<String>, body: Bytes) -> Response {
    let rule = match body_rule(&body) {
        Ok(rule) => rule,
        Err(e) => return st2_error(e),
    };
    match fake.store.replace(&id, &rule).await {
        Ok(updated) => json_response(StatusCode::OK, &updated),
        Err(e) => st2_error(e),
    }
}

async fn delete(State(fake): State<Fake>, Path(ref_or_id): Path<String>) -> Response {
    match fake.store.delete(&ref_or_id).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => st2_error(e),
    }
}

/// `limit` and `offset` of a list (st2's `ResourceController`), within bounds.
fn paging(params: &[(String, String)], default_limit: usize) -> Result<(usize, usize), St2Error> {
    let param = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let number = |name: &str, default: usize| match param(name).map(str::parse::<i64>) {
        None => Ok(default),
        Some(Ok(-1)) if name == "limit" => Ok(usize::MAX),
        Some(Ok(n)) if n >= 0 && !(name == "limit" && n == 0) => Ok(usize::try_from(n).unwrap_or(usize::MAX)),
        _ => Err(St2Error::invalid(format!("Invalid {name}"))),
    };
    Ok((number("limit", default_limit)?, number("offset", 0)?))
}

async fn actions(State(fake): State<Fake>, Query(params): Query<Vec<(String, String)>>) -> Response {
    let (limit, offset) = match paging(&params, 100) {
        Ok(paging) => paging,
        Err(e) => return st2_error(e),
    };
    match fake.executions.actions().await {
        Ok(all) => {
            let total = all.len();
            let shown: Vec<_> = all.into_iter().skip(offset).take(limit).collect();
            let mut response = json_response(StatusCode::OK, &shown);
            response.headers_mut().insert("x-total-count", HeaderValue::from(total));
            response
        }
        Err(e) => st2_error(e),
    }
}

async fn action(State(fake): State<Fake>, Path(ref_or_id): Path<String>) -> Response {
    match fake.executions.action(&ref_or_id).await {
        Ok(action) => json_response(StatusCode::OK, &action),
        Err(e) => st2_error(e),
    }
}

async fn list_executions(State(fake): State<Fake>, Query(params): Query<Vec<(String, String)>>) -> Response {
    let (limit, offset) = match paging(&params, 100) {
        Ok(paging) => paging,
        Err(e) => return st2_error(e),
    };
    match fake.executions.executions(limit.saturating_add(offset)).await {
        Ok(all) => json_response(StatusCode::OK, &all.into_iter().skip(offset).collect::<Vec<_>>()),
        Err(e) => st2_error(e),
    }
}

async fn execute(State(fake): State<Fake>, body: Bytes) -> Response {
    let value: Value = match serde_json::from_slice(&body) {
        Ok(value) => value,
        Err(e) => return fault(StatusCode::BAD_REQUEST, &format!("Failed to parse request body: {e}")),
    };
    let Some(action) = value.get("action").and_then(Value::as_str) else {
        return fault(StatusCode::BAD_REQUEST, "'action' is a required property");
    };
    let parameters = match value.get("parameters") {
        None => serde_json::Map::new(),
        Some(Value::Object(map)) => map.clone(),
        Some(other) => return fault(StatusCode::BAD_REQUEST, &format!("{other} is not of type 'object'")),
    };
    match fake.executions.execute(action, parameters).await {
        Ok(execution) => json_response(StatusCode::CREATED, &execution),
        Err(e) => st2_error(e),
    }
}

async fn execution(State(fake): State<Fake>, Path(id): Path<String>) -> Response {
    match fake.executions.execution(&id).await {
        Ok(execution) => json_response(StatusCode::OK, &execution),
        Err(e) => st2_error(e),
    }
}

async fn cancel(State(fake): State<Fake>, Path(id): Path<String>) -> Response {
    match fake.executions.cancel(&id).await {
        Ok(execution) => json_response(StatusCode::OK, &execution),
        Err(e) => st2_error(e),
    }
}

async fn re_run(State(fake): State<Fake>, Path(id): Path<String>) -> Response {
    match fake.executions.re_run(&id).await {
        Ok(execution) => json_response(StatusCode::CREATED, &execution),
        Err(e) => st2_error(e),
    }
}
