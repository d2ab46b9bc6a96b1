//! StackStorm actions and executions as OSLC Automation 2.1: each action is an `oslc_auto:AutomationPlan`; creating
//! an `oslc_auto:AutomationRequest` runs the action (st2's `POST /api/v1/executions`); each execution is an
//! `oslc_auto:AutomationResult` (and the request that produced it), its st2 status mapped to Automation's state and
//! verdict ([`state_and_verdict`]). A PUT of `oslc_auto:desiredState oslc_auto:canceled` on a request or result
//! cancels the execution; `POST {result}/rerun` runs it again.
//!
//! ```
//! use adapter_stackstorm::oslc::automation::state_and_verdict;
//! use adapter_stackstorm::st2::Status;
//! use oslc_core::vocab::oslc_auto;
//!
//! assert_eq!(state_and_verdict(Status::Succeeded), (oslc_auto::complete, oslc_auto::passed));
//! assert_eq!(state_and_verdict(Status::Paused), (oslc_auto::inProgress, oslc_auto::unavailable));
//! ```

use std::sync::Arc;

use async_trait::async_trait;
use oslc_core::oxrdf::{
    BlankNode, Graph, Literal, NamedNode, NamedNodeRef, NamedOrBlankNodeRef, Term, TermRef, TripleRef,
};
use oslc_core::vocab::{dcterms, oslc, oslc_auto, rdf, rdfs, xsd};
use oslc_core::{Container, Error, IfMatch, Resource, ResourceProvider, Result};
use serde_json::{Map, Value};

use super::vocab as st2;
use crate::st2::execution::{Action, Execution, ExecutionStore, ParameterSpec, Status};

/// How many executions the request and result collections list (st2 keeps executions for a while; older ones are
/// still read by id).
pub const LISTED_EXECUTIONS: usize = 500;
/// The most input parameters an AutomationRequest may give.
const MAX_INPUT_PARAMETERS: usize = 100;

/// Where the Automation resources live.
#[derive(Debug, Clone)]
pub struct AutomationUris {
    /// The plans' container.
    pub plans: Container,
    /// The requests' container (its creation factory runs actions).
    pub requests: Container,
    /// The results' container.
    pub results: Container,
    /// The service provider.
    pub service_provider: NamedNode,
}

/// Automation's state and verdict for an st2 status: requested, scheduled, delayed → queued; running, pausing,
/// paused, resuming, pending → inProgress; canceling → canceling; canceled → canceled; succeeded → complete +
/// passed; failed → complete + failed; timeout, abandoned → complete + error. The verdict is `unavailable` until
/// the execution is complete.
#[must_use]
pub fn state_and_verdict(status: Status) -> (NamedNodeRef<'static>, NamedNodeRef<'static>) {
    match status {
        Status::Requested | Status::Scheduled | Status::Delayed => (oslc_auto::queued, oslc_auto::unavailable),
        Status::Canceling => (oslc_auto::canceling, oslc_auto::unavailable),
        Status::Canceled => (oslc_auto::canceled, oslc_auto::unavailable),
        Status::Succeeded => (oslc_auto::complete, oslc_auto::passed),
        Status::Failed => (oslc_auto::complete, oslc_auto::failed),
        Status::Timeout | Status::Abandoned => (oslc_auto::complete, oslc_auto::error),
        _ => (oslc_auto::inProgress, oslc_auto::unavailable),
    }
}

fn string(value: &str) -> Literal {
    Literal::new_simple_literal(value)
}

/// A JSON value as an RDF literal: strings, integers, decimals and booleans as their XSD types, anything else as
/// `rdf:JSON`.
fn json_literal(value: &Value) -> Literal {
    match value {
        Value::String(s) => string(s),
        Value::Bool(b) => Literal::new_typed_literal(b.to_string(), xsd::boolean),
        Value::Number(n) if n.is_i64() || n.is_u64() => Literal::new_typed_literal(n.to_string(), xsd::integer),
        Value::Number(n) => Literal::new_typed_literal(n.to_string(), xsd::double),
        other => Literal::new_typed_literal(other.to_string(), rdf::JSON),
    }
}

/// The XSD type an st2 parameter type is shown with.
fn value_type(spec: &ParameterSpec) -> NamedNodeRef<'static> {
    match spec.value_type.as_deref() {
        Some("integer") => xsd::integer,
        Some("number") => xsd::double,
        Some("boolean") => xsd::boolean,
        Some("array" | "object") => rdf::JSON,
        _ => xsd::string,
    }
}

/// A parameter value given as a literal, read as the JSON value the action's parameter takes.
fn json_value(literal: &Literal, spec: Option<&ParameterSpec>, name: &str) -> Result<Value> {
    let text = literal.value();
    let bad = |wanted: &str| Error::bad_request(format!("input parameter {name}: {text:?} is not {wanted}"));
    Ok(match spec.and_then(|s| s.value_type.as_deref()) {
        Some("integer") => Value::from(text.parse::<i64>().map_err(|_| bad("an integer"))?),
        Some("number") => Value::Number(
            text.parse::<f64>().ok().and_then(serde_json::Number::from_f64).ok_or_else(|| bad("a number"))?,
        ),
        Some("boolean") => Value::Bool(match text {
            "true" | "1" => true,
            "false" | "0" => false,
            _ => return Err(bad("a boolean")),
        }),
        Some("array" | "object") => serde_json::from_str(text).map_err(|_| bad("JSON"))?,
        _ if literal.datatype() == rdf::JSON => serde_json::from_str(text).map_err(|_| bad("JSON"))?,
        _ => Value::String(text.to_owned()),
    })
}

struct Builder {
    graph: Graph,
    subject: NamedNode,
}

impl Builder {
    fn new(subject: NamedNode) -> Self {
        Self { graph: Graph::new(), subject }
    }

    fn add<'a>(&mut self, p: NamedNodeRef<'a>, o: impl Into<TermRef<'a>>) {
        let triple = oslc_core::oxrdf::Triple::new(self.subject.clone(), p.into_owned(), o.into().into_owned());
        self.graph.insert(&triple);
    }

    fn add_to<'a>(&mut self, s: NamedOrBlankNodeRef<'a>, p: NamedNodeRef<'a>, o: impl Into<TermRef<'a>>) {
        self.graph.insert(TripleRef::new(s, p, o));
    }

    fn done(self) -> Resource {
        Resource::from_graph(self.subject, self.graph)
    }
}

/// The AutomationPlan of an action.
fn plan_resource(action: &Action, uris: &AutomationUris) -> Resource {
    let mut b = Builder::new(uris.plans.member(&action.reference));
    b.add(rdf::r#type, oslc_auto::AutomationPlan);
    b.add(dcterms::identifier, &string(&action.reference));
    b.add(dcterms::title, &string(&action.reference));
    if let Some(description) = &action.description {
        b.add(dcterms::description, &string(description));
    }
    b.add(st2::pack, &string(&action.pack));
    b.add(st2::runnerType, &string(&action.runner_type));
    b.add(st2::enabled, &Literal::from(action.enabled));
    b.add(oslc::serviceProvider, &uris.service_provider);
    for (name, spec) in &action.parameters {
        let node = BlankNode::default();
        b.add(oslc_auto::parameterDefinition, &node);
        b.add_to(node.as_ref().into(), rdf::r#type, oslc::Property);
        b.add_to(node.as_ref().into(), oslc::name, &string(name));
        b.add_to(
            node.as_ref().into(),
            oslc::propertyDefinition,
            &NamedNode::new_unchecked(format!("{}parameter/{name}", st2::NS)),
        );
        b.add_to(node.as_ref().into(), oslc::valueType, value_type(spec));
        let occurs = if spec.required && spec.default.is_none() { oslc::Exactly_one } else { oslc::Zero_or_one };
        b.add_to(node.as_ref().into(), oslc::occurs, occurs);
        if let Some(description) = &spec.description {
            b.add_to(node.as_ref().into(), dcterms::description, &string(description));
        }
        if let Some(default) = &spec.default {
            b.add_to(node.as_ref().into(), oslc::defaultValue, &json_literal(default));
        }
        for allowed in spec.allowed.iter().flatten() {
            b.add_to(node.as_ref().into(), oslc::allowedValue, &json_literal(allowed));
        }
        if spec.secret {
            b.add_to(node.as_ref().into(), st2::secret, &Literal::from(true));
        }
        if spec.immutable {
            b.add_to(node.as_ref().into(), oslc::readOnly, &Literal::from(true));
        }
    }
    b.done()
}

fn date_time(timestamp: &str) -> Option<Literal> {
    // st2 writes `2026-12-02T18:00:00.123456Z`, or with `+00:00`: both are xsd:dateTime.
    timestamp.parse::<oxsdatatypes::DateTime>().ok().map(|t| Literal::new_typed_literal(t.to_string(), xsd::dateTime))
}

/// What an execution shares as a request and as a result: identifier, title, times, state, plan, inputs.
fn execution_common(b: &mut Builder, execution: &Execution, uris: &AutomationUris) {
    let (state, _) = state_and_verdict(execution.status());
    b.add(dcterms::identifier, &string(&execution.id));
    b.add(dcterms::title, &string(&format!("{} execution {}", execution.action.reference, execution.id)));
    if let Some(created) = execution.start_timestamp.as_deref().and_then(date_time) {
        b.add(dcterms::created, &created);
    }
    let modified = execution.log.last().map(|l| l.timestamp.as_str()).or(execution.start_timestamp.as_deref());
    if let Some(modified) = modified.and_then(date_time) {
        b.add(dcterms::modified, &modified);
    }
    if let Some(user) = execution.context.as_ref().and_then(|c| c.get("user")).and_then(Value::as_str) {
        b.add(st2::user, &string(user));
    }
    b.add(oslc_auto::state, state);
    b.add(st2::status, &string(&execution.status));
    b.add(oslc::serviceProvider, &uris.service_provider);
    for (name, value) in &execution.parameters {
        let node = BlankNode::default();
        b.add(oslc_auto::inputParameter, &node);
        b.add_to(node.as_ref().into(), rdf::r#type, oslc_auto::ParameterInstance);
        b.add_to(node.as_ref().into(), oslc::name, &string(name));
        b.add_to(node.as_ref().into(), rdf::value, &json_literal(value));
    }
}

/// The AutomationRequest that started an execution.
fn request_resource(execution: &Execution, uris: &AutomationUris) -> Resource {
    let mut b = Builder::new(uris.requests.member(&execution.id));
    b.add(rdf::r#type, oslc_auto::AutomationRequest);
    b.add(oslc_auto::executesAutomationPlan, &uris.plans.member(&execution.action.reference));
    execution_common(&mut b, execution, uris);
    b.add(rdfs::seeAlso, &uris.results.member(&execution.id));
    b.done()
}

/// The AutomationResult of an execution.
#[must_use]
pub fn result_resource(execution: &Execution, uris: &AutomationUris) -> Resource {
    let mut b = Builder::new(uris.results.member(&execution.id));
    let (_, verdict) = state_and_verdict(execution.status());
    b.add(rdf::r#type, oslc_auto::AutomationResult);
    b.add(oslc_auto::reportsOnAutomationPlan, &uris.plans.member(&execution.action.reference));
    b.add(oslc_auto::producedByAutomationRequest, &uris.requests.member(&execution.id));
    execution_common(&mut b, execution, uris);
    b.add(oslc_auto::verdict, verdict);
    if let Some(end) = execution.end_timestamp.as_deref().and_then(date_time) {
        b.add(st2::endTimestamp, &end);
    }
    if let Some(web) = execution.web_url.as_deref().and_then(|u| NamedNode::new(u).ok()) {
        b.add(st2::webView, &web);
    }
    if let Some(result) = &execution.result {
        b.add(st2::result, &Literal::new_typed_literal(result.to_string(), rdf::JSON));
        // Each member of the result is an output parameter; the runner's streams are contributions too.
        if let Value::Object(members) = result {
            for (name, value) in members {
                let node = BlankNode::default();
                b.add(oslc_auto::outputParameter, &node);
                b.add_to(node.as_ref().into(), rdf::r#type, oslc_auto::ParameterInstance);
                b.add_to(node.as_ref().into(), oslc::name, &string(name));
                b.add_to(node.as_ref().into(), rdf::value, &json_literal(value));
                if let (true, Value::String(text)) = (matches!(name.as_str(), "stdout" | "stderr"), value) {
                    let contribution = BlankNode::default();
                    b.add(oslc_auto::contribution, &contribution);
                    b.add_to(contribution.as_ref().into(), dcterms::title, &string(name));
                    b.add_to(contribution.as_ref().into(), rdf::value, &string(text));
                    b.add_to(contribution.as_ref().into(), dcterms::r#type, &string("text/plain"));
                }
            }
        }
    }
    b.done()
}

/// The actions of StackStorm as AutomationPlans (read only: actions are registered from packs).
pub struct PlanProvider {
    store: Arc<dyn ExecutionStore>,
    uris: AutomationUris,
}

impl PlanProvider {
    /// The plans of `store`'s actions, served at `uris`.
    #[must_use]
    pub fn new(store: Arc<dyn ExecutionStore>, uris: AutomationUris) -> Self {
        Self { store, uris }
    }
}

fn read_only(what: &str, method: &str) -> Error {
    Error::MethodNotAllowed { method: method.to_owned(), resource: what.to_owned() }
}

#[async_trait]
impl ResourceProvider for PlanProvider {
    async fn list(&self, _container: &Container) -> Result<Vec<Resource>> {
        let actions = self.store.actions().await?;
        let mut plans: Vec<Resource> = actions.iter().map(|a| plan_resource(a, &self.uris)).collect();
        oslc_core::query::sort_in_natural_order(&mut plans);
        Ok(plans)
    }

    async fn get(&self, _container: &Container, id: &str) -> Result<Resource> {
        Ok(plan_resource(&self.store.action(id).await?, &self.uris))
    }

    async fn create(&self, container: &Container, _resource: Resource) -> Result<Resource> {
        Err(read_only(&format!("{} (actions are registered from packs)", container.iri().as_str()), "POST"))
    }

    async fn replace(
        &self,
        container: &Container,
        id: &str,
        _resource: Resource,
        _if_match: &IfMatch,
    ) -> Result<Resource> {
        Err(read_only(container.member(id).as_str(), "PUT"))
    }

    async fn delete(&self, container: &Container, id: &str, _if_match: Option<&IfMatch>) -> Result<()> {
        Err(read_only(container.member(id).as_str(), "DELETE"))
    }
}

/// Whether the executions' request or result view this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum View {
    Request,
    Result,
}

/// StackStorm's executions as AutomationRequests (creating one runs an action) or AutomationResults.
pub struct ExecutionProvider {
    store: Arc<dyn ExecutionStore>,
    uris: AutomationUris,
    view: View,
}

impl ExecutionProvider {
    /// Executions as the requests that started them; creating a request runs its plan.
    #[must_use]
    pub fn requests(store: Arc<dyn ExecutionStore>, uris: AutomationUris) -> Self {
        Self { store, uris, view: View::Request }
    }

    /// Executions as results.
    #[must_use]
    pub fn results(store: Arc<dyn ExecutionStore>, uris: AutomationUris) -> Self {
        Self { store, uris, view: View::Result }
    }

    fn resource(&self, execution: &Execution) -> Resource {
        match self.view {
            View::Request => request_resource(execution, &self.uris),
            View::Result => result_resource(execution, &self.uris),
        }
    }

    /// Runs an execution again: its action with its parameters. The result of the new execution.
    ///
    /// # Errors
    /// What StackStorm answers.
    pub async fn re_run(&self, id: &str) -> Result<Resource> {
        let execution = self.store.re_run(id).await?;
        tracing::info!(execution = %execution.id, of = id, action = %execution.action.reference, "execution re-run");
        Ok(result_resource(&execution, &self.uris))
    }

    /// The action ref and parameters an AutomationRequest asks for.
    async fn requested(&self, resource: &Resource) -> Result<(String, Map<String, Value>)> {
        let plan = match resource.object(oslc_auto::executesAutomationPlan) {
            Some(TermRef::NamedNode(plan)) => plan.into_owned(),
            _ => {
                return Err(Error::bad_request(
                    "an AutomationRequest needs oslc_auto:executesAutomationPlan, an IRI of a plan",
                ));
            }
        };
        let action_ref = plan
            .as_str()
            .strip_prefix(self.uris.plans.iri().as_str())
            .and_then(|rest| rest.strip_prefix('/'))
            .filter(|rest| !rest.is_empty() && !rest.contains(['/', '?', '#']))
            .ok_or_else(|| Error::bad_request(format!("{} is not a plan of this service provider", plan.as_str())))?;
        let action = match self.store.action(action_ref).await {
            Ok(action) => action,
            Err(crate::st2::St2Error::NotFound { .. }) => {
                return Err(Error::bad_request(format!("{} is not a plan of this service provider", plan.as_str())));
            }
            // StackStorm unavailable is not the client's mistake.
            Err(other) => return Err(other.into()),
        };
        let mut parameters = Map::new();
        let nodes: Vec<Term> = resource.objects(oslc_auto::inputParameter).map(TermRef::into_owned).collect();
        if nodes.len() > MAX_INPUT_PARAMETERS {
            return Err(Error::limit("input parameters", MAX_INPUT_PARAMETERS));
        }
        for node in nodes {
            let subject: NamedOrBlankNodeRef<'_> = match &node {
                Term::BlankNode(b) => b.as_ref().into(),
                Term::NamedNode(n) => n.as_ref().into(),
                _ => {
                    return Err(Error::bad_request(
                        "an oslc_auto:inputParameter is a node with oslc:name and rdf:value",
                    ));
                }
            };
            let graph = resource.graph();
            let name = match graph.object_for_subject_predicate(subject, oslc::name) {
                Some(TermRef::Literal(l)) => l.value().to_owned(),
                _ => return Err(Error::bad_request("an oslc_auto:inputParameter needs oslc:name")),
            };
            let value = match graph.object_for_subject_predicate(subject, rdf::value) {
                Some(TermRef::Literal(l)) => json_value(&l.into_owned(), action.parameters.get(&name), &name)?,
                _ => return Err(Error::bad_request(format!("input parameter {name} needs rdf:value, a literal"))),
            };
            if parameters.insert(name.clone(), value).is_some() {
                return Err(Error::bad_request(format!("input parameter {name} is given twice")));
            }
        }
        Ok((action.reference, parameters))
    }
}

#[async_trait]
impl ResourceProvider for ExecutionProvider {
    async fn list(&self, _container: &Container) -> Result<Vec<Resource>> {
        let executions = self.store.executions(LISTED_EXECUTIONS).await?;
        let mut resources: Vec<Resource> = executions.iter().map(|e| self.resource(e)).collect();
        oslc_core::query::sort_in_natural_order(&mut resources);
        Ok(resources)
    }

    async fn get(&self, _container: &Container, id: &str) -> Result<Resource> {
        Ok(self.resource(&self.store.execution(id).await?))
    }

    async fn create(&self, container: &Container, resource: Resource) -> Result<Resource> {
        if self.view == View::Result {
            return Err(read_only(
                &format!("{} (results are made by running a request)", container.iri().as_str()),
                "POST",
            ));
        }
        let (action, parameters) = self.requested(&resource).await?;
        let execution = self.store.execute(&action, parameters).await?;
        tracing::info!(execution = %execution.id, action = %action, "automation request: action run");
        Ok(self.resource(&execution))
    }

    /// Only `oslc_auto:desiredState oslc_auto:canceled` may be set: it cancels the execution.
    async fn replace(
        &self,
        _container: &Container,
        id: &str,
        resource: Resource,
        if_match: &IfMatch,
    ) -> Result<Resource> {
        let current = self.resource(&self.store.execution(id).await?);
        if_match.check(current.subject(), &current.etag())?;
        match resource.object(oslc_auto::desiredState) {
            Some(TermRef::NamedNode(state)) if state == oslc_auto::canceled => {}
            Some(other) => {
                return Err(Error::Conflict {
                    message: format!("oslc_auto:desiredState may only be oslc_auto:canceled, not {other}"),
                });
            }
            None => {
                return Err(Error::Conflict {
                    message: "an execution is changed only by setting oslc_auto:desiredState oslc_auto:canceled"
                        .to_owned(),
                });
            }
        }
        let canceled = self.store.cancel(id).await?;
        tracing::info!(execution = id, status = %canceled.status, "execution cancel requested");
        Ok(self.resource(&canceled))
    }

    async fn delete(&self, container: &Container, id: &str, _if_match: Option<&IfMatch>) -> Result<()> {
        Err(read_only(
            &format!(
                "{} (cancel an execution with oslc_auto:desiredState oslc_auto:canceled)",
                container.member(id).as_str()
            ),
            "DELETE",
        ))
    }
}
