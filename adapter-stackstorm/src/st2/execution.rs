//! StackStorm actions and their executions: st2's JSON (`Action`, `Execution` of `st2-openapi.yaml`), the statuses
//! and what they mean, the [`ExecutionStore`] trait (implemented by the REST client and by [`SimulatedExecutions`]),
//! and the simulation `--demo` and the fake st2 run.
//!
//! The simulation runs nothing: `core.noop` succeeds at once; `core.pause` stays `running` for its `max_pause`
//! seconds (default 5) and can be cancelled; every other action succeeds after a short simulated run (200 ms) with
//! a result saying it was simulated. Statuses move as st2's do: `requested` → `scheduled` → `running` → `succeeded`;
//! a cancel moves a running execution to `canceling` and then `canceled`, and one not running yet straight to
//! `canceled`; an execution already done is not changed.
//!
//! ```
//! use adapter_stackstorm::st2::execution::{ExecutionStore, SimulatedExecutions, Status};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let st2 = SimulatedExecutions::with_sample_actions("https://st2.example");
//! let run = st2.execute("core.noop", serde_json::Map::new()).await?;
//! let done = st2.wait_until_done(&run.id, std::time::Duration::from_secs(5)).await?;
//! assert_eq!(done.status(), Status::Succeeded);
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::rule::MASKED;
use super::store::St2Error;

/// A parameter of an action (`parameters` of st2's action metadata, a JSON Schema subset).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ParameterSpec {
    /// Its JSON type (`string`, `integer`, `number`, `boolean`, `array`, `object`).
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub value_type: Option<String>,
    /// What it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Whether an execution must give it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub required: bool,
    /// Its value when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    /// The values it may take.
    #[serde(default, rename = "enum", skip_serializing_if = "Option::is_none")]
    pub allowed: Option<Vec<Value>>,
    /// Whether its value is a secret (shown as `********`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub secret: bool,
    /// Whether an execution may not change it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub immutable: bool,
}

/// A StackStorm action, as `GET /api/v1/actions/{ref}` answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Action {
    /// Its id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `pack.name`.
    #[serde(rename = "ref", default)]
    pub reference: String,
    /// Its name.
    pub name: String,
    /// Its pack.
    pub pack: String,
    /// What it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Whether it may run.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// The runner that runs it (`local-shell-cmd`, `python-script`, `orquesta`…).
    pub runner_type: String,
    /// Its parameters, by name.
    #[serde(default)]
    pub parameters: BTreeMap<String, ParameterSpec>,
}

fn yes() -> bool {
    true
}

impl Action {
    /// An action `pack.name` run by `runner_type`.
    #[must_use]
    pub fn new(pack: &str, name: &str, runner_type: &str) -> Self {
        Self {
            id: None,
            reference: format!("{pack}.{name}"),
            name: name.to_owned(),
            pack: pack.to_owned(),
            description: None,
            enabled: true,
            runner_type: runner_type.to_owned(),
            parameters: BTreeMap::new(),
        }
    }

    /// The same with `description`.
    #[must_use]
    pub fn with_description(mut self, description: &str) -> Self {
        self.description = Some(description.to_owned());
        self
    }

    /// The same with parameter `name`.
    #[must_use]
    pub fn with_parameter(mut self, name: &str, spec: ParameterSpec) -> Self {
        self.parameters.insert(name.to_owned(), spec);
        self
    }
}

/// The status of an execution (`status` of st2's `Execution`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Status {
    /// `requested`
    Requested,
    /// `scheduled`
    Scheduled,
    /// `delayed`
    Delayed,
    /// `running`
    Running,
    /// `succeeded`
    Succeeded,
    /// `failed`
    Failed,
    /// `timeout`
    Timeout,
    /// `abandoned`
    Abandoned,
    /// `canceling`
    Canceling,
    /// `canceled`
    Canceled,
    /// `pending` (an Inquiry waits)
    Pending,
    /// `pausing`
    Pausing,
    /// `paused`
    Paused,
    /// `resuming`
    Resuming,
}

/// Every status, with st2's name for it.
const STATUSES: [(Status, &str); 14] = [
    (Status::Requested, "requested"),
    (Status::Scheduled, "scheduled"),
    (Status::Delayed, "delayed"),
    (Status::Running, "running"),
    (Status::Succeeded, "succeeded"),
    (Status::Failed, "failed"),
    (Status::Timeout, "timeout"),
    (Status::Abandoned, "abandoned"),
    (Status::Canceling, "canceling"),
    (Status::Canceled, "canceled"),
    (Status::Pending, "pending"),
    (Status::Pausing, "pausing"),
    (Status::Paused, "paused"),
    (Status::Resuming, "resuming"),
];

impl Status {
    /// st2's name for it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        STATUSES.iter().find(|(s, _)| *s == self).map_or("requested", |(_, name)| name)
    }

    /// The status st2 names `name`.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        STATUSES.iter().find(|(_, n)| *n == name).map(|(s, _)| *s)
    }

    /// Whether the execution is over (st2's `LIVEACTION_COMPLETED_STATES`).
    #[must_use]
    pub fn is_done(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Timeout | Self::Abandoned | Self::Canceled)
    }
}

/// The action an execution runs, as the execution carries it (st2 embeds the whole action; its ref is what matters).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecutionAction {
    /// The action's ref.
    #[serde(rename = "ref")]
    pub reference: String,
    /// The rest of the action, as st2 sent it.
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

/// One status change (`log` of st2's `Execution`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    /// When.
    pub timestamp: String,
    /// The status it took.
    pub status: String,
}

/// An execution of an action, as `GET /api/v1/executions/{id}` answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Execution {
    /// Its id.
    pub id: String,
    /// The action it runs.
    pub action: ExecutionAction,
    /// Its input parameters (secrets masked unless asked).
    #[serde(default)]
    pub parameters: Map<String, Value>,
    /// Its status, st2's name.
    pub status: String,
    /// When it started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_timestamp: Option<String>,
    /// When it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_timestamp: Option<String>,
    /// How long it took.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elapsed_seconds: Option<f64>,
    /// Its result (the runner's output).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    /// Its page in st2's web UI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web_url: Option<String>,
    /// Who ran it, and from what (a rule, another execution).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Map<String, Value>>,
    /// Its status changes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub log: Vec<LogEntry>,
}

impl Execution {
    /// Its status (an unknown name reads as `requested`).
    #[must_use]
    pub fn status(&self) -> Status {
        Status::parse(&self.status).unwrap_or(Status::Requested)
    }
}

/// What the adapter needs of StackStorm's actions and executions. Implemented by the REST client and by
/// [`SimulatedExecutions`].
#[async_trait]
pub trait ExecutionStore: Send + Sync + 'static {
    /// Every action, ordered by ref.
    async fn actions(&self) -> Result<Vec<Action>, St2Error>;

    /// One action by ref or id.
    async fn action(&self, ref_or_id: &str) -> Result<Action, St2Error>;

    /// Runs action `action_ref` with `parameters` (POST `/executions`, 201); secrets masked in the answer.
    async fn execute(&self, action_ref: &str, parameters: Map<String, Value>) -> Result<Execution, St2Error>;

    /// The latest `limit` executions, newest first (st2's default order).
    async fn executions(&self, limit: usize) -> Result<Vec<Execution>, St2Error>;

    /// One execution.
    async fn execution(&self, id: &str) -> Result<Execution, St2Error>;

    /// Cancels an execution (DELETE `/executions/{id}`); returns it as it is then.
    async fn cancel(&self, id: &str) -> Result<Execution, St2Error>;

    /// Runs an execution's action again with its parameters (POST `/executions/{id}/re_run`, 201).
    async fn re_run(&self, id: &str) -> Result<Execution, St2Error>;

    /// Polls until execution `id` is done or `timeout` passes; the last state read.
    ///
    /// # Errors
    /// As [`ExecutionStore::execution`].
    async fn wait_until_done(&self, id: &str, timeout: Duration) -> Result<Execution, St2Error> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let execution = self.execution(id).await?;
            if execution.status().is_done() || tokio::time::Instant::now() >= deadline {
                return Ok(execution);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// How long an ordinary action's simulated run takes.
const SIMULATED_RUN: Duration = Duration::from_millis(200);
/// The most executions the simulation keeps (the oldest done ones go first).
const MAX_EXECUTIONS: usize = 10_000;
/// The longest `max_pause` the simulation honours, in seconds.
const MAX_PAUSE_SECONDS: u64 = 3600;

/// Actions and executions in memory, run in simulation (see the [module docs](self)). Cheap to clone.
#[derive(Clone)]
pub struct SimulatedExecutions {
    inner: Arc<Inner>,
}

struct Inner {
    web: String,
    user: String,
    actions: Mutex<BTreeMap<String, Action>>,
    executions: Mutex<BTreeMap<String, Execution>>,
    observer: Mutex<Option<Observer>>,
}

/// Told of every write to an execution, in order (with secrets in clear, as st2's database keeps them): to keep
/// them where st2 does, such as MongoDB's `action_execution_d_b` for a change stream. It must not block.
pub type Observer = Arc<dyn Fn(&Execution) + Send + Sync>;

impl std::fmt::Debug for SimulatedExecutions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimulatedExecutions").field("web", &self.inner.web).finish_non_exhaustive()
    }
}

/// The current UTC time as st2 writes timestamps (`2026-12-02T18:00:00.123456Z`).
fn now() -> String {
    let now = oxsdatatypes::DateTime::now();
    let text = now.to_string();
    // xsd:dateTime prints `Z` for UTC with the fraction as it is; st2 writes microseconds.
    match text.split_once('.') {
        Some((seconds, fraction)) => {
            let digits: String = fraction.chars().take_while(char::is_ascii_digit).take(6).collect();
            format!("{seconds}.{digits:0<6}Z")
        }
        None => format!("{}.000000Z", text.trim_end_matches('Z')),
    }
}

fn mint_id() -> String {
    // An ObjectId-shaped id (24 hex digits), as st2's.
    uuid::Uuid::new_v4().simple().to_string()[..24].to_owned()
}

fn spec(value_type: &str, description: &str) -> ParameterSpec {
    ParameterSpec {
        value_type: Some(value_type.to_owned()),
        description: Some(description.to_owned()),
        ..ParameterSpec::default()
    }
}

/// The actions of the demo: st2's `core` pack (as st2 registers them) and the actions the sample rules run.
#[must_use]
pub fn sample_actions() -> Vec<Action> {
    let required = |mut s: ParameterSpec| {
        s.required = true;
        s
    };
    vec![
        Action::new("core", "noop", "noop").with_description("Action that executes nothing"),
        Action::new("core", "pause", "python-script")
            .with_description("Action to pause current thread of workflow/sub-workflow.")
            .with_parameter(
                "max_pause",
                ParameterSpec { default: Some(json!(5)), ..spec("integer", "Time to pause in seconds.") },
            ),
        Action::new("core", "local", "local-shell-cmd")
            .with_description("Action that executes an arbitrary Linux command on the localhost.")
            .with_parameter(
                "cmd",
                required(spec("string", "Arbitrary Linux command to be executed on the local host.")),
            )
            .with_parameter("cwd", spec("string", "Working directory where the command will be executed in"))
            .with_parameter(
                "timeout",
                ParameterSpec { default: Some(json!(60)), ..spec("integer", "Action timeout in seconds.") },
            ),
        Action::new("core", "remote", "remote-shell-cmd")
            .with_description("Action to execute arbitrary linux command remotely.")
            .with_parameter(
                "cmd",
                required(spec("string", "Arbitrary Linux command to be executed on the remote host(s).")),
            )
            .with_parameter(
                "hosts",
                required(spec(
                    "string",
                    "A comma delimited string of a list of hosts where the remote command will be executed.",
                )),
            )
            .with_parameter("password", ParameterSpec { secret: true, ..spec("string", "Password used to log in.") }),
        Action::new("core", "http", "http-request")
            .with_description("Action that performs an http request.")
            .with_parameter("url", required(spec("string", "URL to the HTTP endpoint.")))
            .with_parameter(
                "method",
                ParameterSpec {
                    default: Some(json!("GET")),
                    allowed: Some(
                        ["HEAD", "GET", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH", "PURGE"]
                            .iter()
                            .map(|m| json!(m))
                            .collect(),
                    ),
                    ..spec("string", "HTTP method to use.")
                },
            ),
        Action::new("chatops", "post_message", "announcement")
            .with_description("Post a message to stream for chatops")
            .with_parameter("channel", required(spec("string", "Channel to post to")))
            .with_parameter("message", required(spec("string", "Message to send."))),
        Action::new("pagerduty", "create_incident", "python-script")
            .with_description("Open a PagerDuty incident")
            .with_parameter(
                "api_key",
                ParameterSpec { secret: true, required: true, ..spec("string", "PagerDuty API key") },
            )
            .with_parameter("title", required(spec("string", "The incident's title")))
            .with_parameter("service", spec("string", "The service affected")),
    ]
}

impl SimulatedExecutions {
    /// No actions yet; executions' web URLs start with `web` (StackStorm's public URL; none when empty).
    #[must_use]
    pub fn new(web: &str) -> Self {
        Self {
            inner: Arc::new(Inner {
                web: web.trim_end_matches('/').to_owned(),
                user: "st2admin".to_owned(),
                actions: Mutex::default(),
                executions: Mutex::default(),
                observer: Mutex::default(),
            }),
        }
    }

    /// With the [`sample_actions`].
    #[must_use]
    pub fn with_sample_actions(web: &str) -> Self {
        let st2 = Self::new(web);
        for action in sample_actions() {
            st2.register(action);
        }
        st2
    }

    /// Tells `observer` of every write to an execution from now on.
    pub fn observe(&self, observer: Observer) {
        *self.inner.observer.lock().unwrap_or_else(PoisonError::into_inner) = Some(observer);
    }

    fn observed(&self, execution: &Execution) {
        if let Some(observer) = self.inner.observer.lock().unwrap_or_else(PoisonError::into_inner).as_ref() {
            observer(execution);
        }
    }

    /// Registers an action (as `st2ctl reload` does), with an id.
    pub fn register(&self, mut action: Action) {
        action.reference = format!("{}.{}", action.pack, action.name);
        action.id.get_or_insert_with(mint_id);
        self.inner.actions.lock().unwrap_or_else(PoisonError::into_inner).insert(action.reference.clone(), action);
    }

    fn find_action(&self, ref_or_id: &str) -> Option<Action> {
        let actions = self.inner.actions.lock().unwrap_or_else(PoisonError::into_inner);
        actions.get(ref_or_id).or_else(|| actions.values().find(|a| a.id.as_deref() == Some(ref_or_id))).cloned()
    }

    /// The execution as st2 shows it: secrets of its action masked.
    fn masked(&self, mut execution: Execution) -> Execution {
        if let Some(action) = self.find_action(&execution.action.reference) {
            for (name, value) in &mut execution.parameters {
                if action.parameters.get(name).is_some_and(|p| p.secret) {
                    *value = Value::String(MASKED.to_owned());
                }
            }
        }
        execution
    }

    /// Moves execution `id` to `status` unless it is done (or canceling, unless the move ends the cancel);
    /// whether it moved.
    fn transition(&self, id: &str, status: Status, result: Option<Value>) -> bool {
        let mut executions = self.inner.executions.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(execution) = executions.get_mut(id) else { return false };
        let current = execution.status();
        if current.is_done() || (current == Status::Canceling && status != Status::Canceled) {
            return false;
        }
        let at = now();
        execution.status = status.as_str().to_owned();
        execution.log.push(LogEntry { timestamp: at.clone(), status: execution.status.clone() });
        if status.is_done() {
            execution.end_timestamp = Some(at);
            if let Some(result) = result {
                execution.result = Some(result);
            }
        }
        // Under the lock, so the observer sees the writes in their order.
        self.observed(execution);
        true
    }

    /// Runs execution `id` of `action` in simulation, in the background.
    fn simulate(&self, id: String, action: &Action, parameters: &Map<String, Value>) {
        let st2 = self.clone();
        let run = match action.reference.as_str() {
            "core.noop" => Duration::ZERO,
            "core.pause" => Duration::from_secs(
                parameters.get("max_pause").and_then(Value::as_u64).unwrap_or(5).min(MAX_PAUSE_SECONDS),
            ),
            _ => SIMULATED_RUN,
        };
        let reference = action.reference.clone();
        let summary = match parameters.get("cmd").and_then(Value::as_str) {
            Some(cmd) => format!("simulated: {cmd}"),
            None => format!("simulated: {reference}"),
        };
        tokio::spawn(async move {
            for status in [Status::Scheduled, Status::Running] {
                if !st2.transition(&id, status, None) {
                    return;
                }
            }
            tokio::time::sleep(run).await;
            let result = match reference.as_str() {
                "core.noop" => json!({}),
                _ => json!({ "stdout": summary, "stderr": "", "return_code": 0, "succeeded": true, "failed": false }),
            };
            st2.transition(&id, Status::Succeeded, Some(result));
        });
    }

    fn store(&self, execution: Execution) {
        let mut executions = self.inner.executions.lock().unwrap_or_else(PoisonError::into_inner);
        if executions.len() >= MAX_EXECUTIONS {
            // The oldest done one goes (ids are not ordered by time; the log's first timestamp is).
            let oldest = executions
                .values()
                .filter(|e| e.status().is_done())
                .min_by(|a, b| a.start_timestamp.cmp(&b.start_timestamp))
                .map(|e| e.id.clone());
            if let Some(oldest) = oldest {
                executions.remove(&oldest);
            }
        }
        self.observed(&execution);
        executions.insert(execution.id.clone(), execution);
    }
}

/// st2's checks of an execution's parameters against its action (`st2common/util/param.py`): unknown parameters,
/// missing required ones, values outside `enum`, and types.
fn check_parameters(action: &Action, parameters: &Map<String, Value>) -> Result<(), St2Error> {
    for (name, value) in parameters {
        let Some(spec) = action.parameters.get(name) else {
            return Err(St2Error::invalid(format!("Additional properties are not allowed ('{name}' was unexpected)")));
        };
        if let Some(allowed) = &spec.allowed
            && !allowed.contains(value)
        {
            return Err(St2Error::invalid(format!("{value} is not one of {}", Value::Array(allowed.clone()))));
        }
        let fits = match spec.value_type.as_deref() {
            Some("string") => value.is_string(),
            Some("integer") => value.is_i64() || value.is_u64(),
            Some("number") => value.is_number(),
            Some("boolean") => value.is_boolean(),
            Some("array") => value.is_array(),
            Some("object") => value.is_object(),
            _ => true,
        };
        if !fits {
            let wanted = spec.value_type.as_deref().unwrap_or_default();
            return Err(St2Error::invalid(format!("{value} is not of type '{wanted}'")));
        }
    }
    for (name, spec) in &action.parameters {
        if spec.required && spec.default.is_none() && !parameters.contains_key(name) {
            return Err(St2Error::invalid(format!("'{name}' is a required property")));
        }
    }
    Ok(())
}

#[async_trait]
impl ExecutionStore for SimulatedExecutions {
    async fn actions(&self) -> Result<Vec<Action>, St2Error> {
        Ok(self.inner.actions.lock().unwrap_or_else(PoisonError::into_inner).values().cloned().collect())
    }

    async fn action(&self, ref_or_id: &str) -> Result<Action, St2Error> {
        self.find_action(ref_or_id).ok_or_else(|| St2Error::not_found(ref_or_id))
    }

    async fn execute(&self, action_ref: &str, parameters: Map<String, Value>) -> Result<Execution, St2Error> {
        let action = self
            .find_action(action_ref)
            .ok_or_else(|| St2Error::invalid(format!("Action \"{action_ref}\" cannot be found.")))?;
        if !action.enabled {
            return Err(St2Error::invalid(format!(
                "Action \"{action_ref}\" cannot be executed because it is disabled."
            )));
        }
        check_parameters(&action, &parameters)?;
        let id = mint_id();
        let at = now();
        let mut values = parameters.clone();
        for (name, spec) in &action.parameters {
            if let (Some(default), false) = (&spec.default, values.contains_key(name)) {
                values.insert(name.clone(), default.clone());
            }
        }
        let execution = Execution {
            id: id.clone(),
            action: ExecutionAction {
                reference: action.reference.clone(),
                rest: match serde_json::to_value(&action) {
                    Ok(Value::Object(mut map)) => {
                        map.remove("ref");
                        map
                    }
                    _ => Map::new(),
                },
            },
            parameters: values.clone(),
            status: Status::Requested.as_str().to_owned(),
            start_timestamp: Some(at.clone()),
            end_timestamp: None,
            elapsed_seconds: None,
            result: None,
            web_url: (!self.inner.web.is_empty()).then(|| format!("{}/#/history/{id}/general", self.inner.web)),
            context: Some(Map::from_iter([("user".to_owned(), Value::String(self.inner.user.clone()))])),
            log: vec![LogEntry { timestamp: at, status: Status::Requested.as_str().to_owned() }],
        };
        self.store(execution.clone());
        self.simulate(id, &action, &values);
        Ok(self.masked(execution))
    }

    async fn executions(&self, limit: usize) -> Result<Vec<Execution>, St2Error> {
        let executions = self.inner.executions.lock().unwrap_or_else(PoisonError::into_inner);
        let mut all: Vec<Execution> = executions.values().cloned().collect();
        drop(executions);
        all.sort_by(|a, b| b.start_timestamp.cmp(&a.start_timestamp).then_with(|| b.id.cmp(&a.id)));
        all.truncate(limit);
        Ok(all.into_iter().map(|e| self.masked(e)).collect())
    }

    async fn execution(&self, id: &str) -> Result<Execution, St2Error> {
        let found = self.inner.executions.lock().unwrap_or_else(PoisonError::into_inner).get(id).cloned();
        found.map(|e| self.masked(e)).ok_or_else(|| St2Error::not_found(id))
    }

    async fn cancel(&self, id: &str) -> Result<Execution, St2Error> {
        let current = self.execution(id).await?;
        match current.status() {
            status if status.is_done() => {
                return Err(St2Error::invalid(format!("Action cannot be canceled. State = {}.", status.as_str())));
            }
            Status::Running | Status::Paused | Status::Pausing | Status::Resuming | Status::Pending => {
                // The runner is told, and the execution is canceled once it stops.
                self.transition(id, Status::Canceling, None);
                let st2 = self.clone();
                let id = id.to_owned();
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    st2.transition(&id, Status::Canceled, None);
                });
            }
            _ => {
                self.transition(id, Status::Canceled, None);
            }
        }
        self.execution(id).await
    }

    async fn re_run(&self, id: &str) -> Result<Execution, St2Error> {
        let original = self.inner.executions.lock().unwrap_or_else(PoisonError::into_inner).get(id).cloned();
        let original = original.ok_or_else(|| St2Error::not_found(id))?;
        self.execute(&original.action.reference, original.parameters).await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn a_pause_is_cancelled_and_a_done_execution_is_not() {
        let st2 = SimulatedExecutions::with_sample_actions("https://st2.test");
        let params = Map::from_iter([("max_pause".to_owned(), json!(30))]);
        let pause = st2.execute("core.pause", params).await.unwrap();
        assert_eq!(pause.status(), Status::Requested);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while st2.execution(&pause.id).await.unwrap().status() != Status::Running {
            assert!(tokio::time::Instant::now() < deadline);
            tokio::task::yield_now().await;
        }
        assert_eq!(st2.cancel(&pause.id).await.unwrap().status(), Status::Canceling);
        let canceled = st2.wait_until_done(&pause.id, Duration::from_secs(5)).await.unwrap();
        assert_eq!(canceled.status(), Status::Canceled);
        assert!(st2.cancel(&pause.id).await.is_err(), "a done execution cannot be canceled");
        let statuses: Vec<&str> = canceled.log.iter().map(|l| l.status.as_str()).collect();
        assert_eq!(statuses, ["requested", "scheduled", "running", "canceling", "canceled"]);
    }

    #[tokio::test]
    async fn parameters_are_checked_and_secrets_masked() {
        let st2 = SimulatedExecutions::with_sample_actions("https://st2.test");
        let missing = st2.execute("core.local", Map::new()).await;
        assert!(matches!(missing, Err(St2Error::Invalid { .. })));
        let unknown = st2.execute("core.local", Map::from_iter([("nope".to_owned(), json!(1))])).await;
        assert!(matches!(unknown, Err(St2Error::Invalid { .. })));
        let wrong =
            st2.execute("core.http", Map::from_iter([("url".into(), json!("x")), ("method".into(), json!("GOT"))]));
        assert!(matches!(wrong.await, Err(St2Error::Invalid { .. })));
        let params = Map::from_iter([("api_key".into(), json!("pd-123")), ("title".into(), json!("down"))]);
        let run = st2.execute("pagerduty.create_incident", params).await.unwrap();
        assert_eq!(run.parameters["api_key"], MASKED);
        assert_eq!(st2.execution(&run.id).await.unwrap().parameters["api_key"], MASKED);
        let done = st2.wait_until_done(&run.id, Duration::from_secs(5)).await.unwrap();
        assert_eq!(done.status(), Status::Succeeded);
        assert!(done.end_timestamp.is_some() && done.result.is_some());
        let again = st2.re_run(&run.id).await.unwrap();
        assert_ne!(again.id, run.id);
        assert_eq!(again.action.reference, "pagerduty.create_incident");
    }
}
