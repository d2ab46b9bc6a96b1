//! OSLC Actions on rules: the enable and disable bindings each rule advertises, and `POST /actions`, which takes
//! the original adapter's action bodies (`CreateRuleAction`, `UpdateRuleAction`, `DeleteRuleAction`, plus
//! `EnableRuleAction` and `DisableRuleAction`) in RDF/XML or Turtle.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use oslc_core::oxrdf::{Graph, Literal, NamedNode, NamedOrBlankNodeRef, TermRef, TripleRef};
use oslc_core::rdf::{self, Prefixes};
use oslc_core::server::{ErrorResponse, RdfBody, RdfBodyConfig};
use oslc_core::vocab::{dcterms, rdf as rdf_ns};
use oslc_core::{Error, Result};

use super::mapping::{find, local_name, rule_from_graph};
use super::provider::RuleProvider;
use super::vocab as st2;

/// What the action routes share.
#[derive(Clone)]
pub(crate) struct Actions {
    pub(crate) provider: Arc<RuleProvider>,
    pub(crate) prefixes: Prefixes,
    pub(crate) base: String,
    pub(crate) body_limit: usize,
}

/// `POST /actions` (the rules' own enable, disable and delete actions are declared through the server kit).
pub(crate) fn routes(actions: Actions) -> Router {
    // Bodies are read by the kit's extractor: syntax, size and parse budgets, the same answers as its own routes.
    let bodies = RdfBodyConfig::new(&actions.base).with_body_limit(actions.body_limit);
    Router::new().route("/actions", post(action_body)).with_state(actions).layer(axum::Extension(bodies))
}

/// What an action did to which rule.
struct Outcome {
    outcome: &'static str,
    rule_id: String,
    rule: Option<crate::st2::Rule>,
}

fn answer(actions: &Actions, headers: &HeaderMap, outcomes: Result<Vec<Outcome>>) -> Response {
    let result = outcomes.and_then(|outcomes| {
        let format = rdf::negotiate(headers.get("accept").and_then(|v| v.to_str().ok()))?;
        let mut graph = Graph::new();
        let mut location = None;
        for outcome in &outcomes {
            let result = NamedNode::new_unchecked(format!("{}/actions/results/{}", actions.base, uuid::Uuid::new_v4()));
            let rule_iri = actions.provider.member(&outcome.rule_id);
            graph.insert(TripleRef::new(&result, rdf_ns::r#type, st2::ActionResult));
            graph.insert(TripleRef::new(&result, st2::outcome, &Literal::new_simple_literal(outcome.outcome)));
            graph.insert(TripleRef::new(&result, st2::rule, &rule_iri));
            let title = format!(
                "rule {} {}",
                outcome.rule.as_ref().map_or(outcome.rule_id.clone(), |r| r.reference()),
                outcome.outcome
            );
            graph.insert(TripleRef::new(&result, dcterms::title, &Literal::new_simple_literal(title)));
            if let Some(rule) = &outcome.rule {
                graph.extend(actions.provider.resource(rule)?.triples());
            }
            if outcome.outcome == "created" {
                location = Some(rule_iri);
            }
        }
        let body = rdf::serialize(&graph, format, &actions.prefixes)?;
        let status = if location.is_some() { StatusCode::CREATED } else { StatusCode::OK };
        let mut response =
            (status, [("content-type", format.media_type()), ("oslc-core-version", "3.0")], body).into_response();
        if let Some(location) = location.and_then(|l| l.as_str().parse().ok()) {
            response.headers_mut().insert("location", location);
        }
        Ok(response)
    });
    result.unwrap_or_else(|e| ErrorResponse::new(e, headers).into_response())
}

async fn set_enabled(actions: &Actions, id: &str, enabled: bool) -> Result<Outcome> {
    let rule = actions.provider.set_enabled(id, enabled).await?;
    Ok(Outcome { outcome: if enabled { "enabled" } else { "disabled" }, rule_id: id.to_owned(), rule: Some(rule) })
}

async fn action_body(State(actions): State<Actions>, headers: HeaderMap, body: RdfBody) -> Response {
    let outcomes = run_actions(&actions, body.graph).await;
    answer(&actions, &headers, outcomes)
}

/// The kinds of action a body may name, by the local name of its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Create,
    Update,
    Enable,
    Disable,
    Delete,
}

fn kind_of(type_iri: &str) -> Option<Kind> {
    match local_name(type_iri) {
        "CreateRuleAction" => Some(Kind::Create),
        "UpdateRuleAction" => Some(Kind::Update),
        "EnableRuleAction" => Some(Kind::Enable),
        "DisableRuleAction" => Some(Kind::Disable),
        "DeleteRuleAction" => Some(Kind::Delete),
        _ => None,
    }
}

/// The most actions one `/actions` body may hold.
pub(crate) const MAX_ACTIONS: usize = 100;

/// What an action of a body will do, checked before any runs.
enum Step {
    Create(crate::st2::Rule),
    Replace(String, crate::st2::Rule),
    SetEnabled(String, Option<bool>),
    Delete(String),
}

async fn run_actions(actions: &Actions, graph: Graph) -> Result<Vec<Outcome>> {
    let requested: Vec<(NamedOrBlankNodeRef<'_>, Kind)> = graph
        .triples_for_predicate(rdf_ns::r#type)
        .filter_map(|t| match t.object {
            TermRef::NamedNode(ty) => kind_of(ty.as_str()).map(|k| (t.subject, k)),
            _ => None,
        })
        .collect();
    if requested.is_empty() {
        return Err(Error::InvalidResource {
            message: "the body names no rule action: type a node CreateRuleAction, UpdateRuleAction, EnableRuleAction, DisableRuleAction or DeleteRuleAction".to_owned(),
        });
    }
    if requested.len() > MAX_ACTIONS {
        return Err(Error::limit("rule actions in one body", MAX_ACTIONS));
    }
    // Every action is checked before any runs (its values, that its rule exists, that a new rule's ref is free and
    // named once), so a body with one bad action changes nothing.
    let store = actions.provider.store();
    let mut plan = Vec::new();
    let mut new_refs = std::collections::HashSet::new();
    for (node, kind) in &requested {
        let rule_id = find(&graph, *node, &["ruleId", "identifier"]).and_then(|t| match t {
            TermRef::Literal(l) if !l.value().trim().is_empty() => Some(l.value().trim().to_owned()),
            _ => None,
        });
        let status = match find(&graph, *node, &["enabled", "ruleStatus"]) {
            Some(TermRef::Literal(l)) => Some(match l.value().trim() {
                "true" | "1" => true,
                "false" | "0" => false,
                other => {
                    return Err(Error::InvalidResource {
                        message: format!("{kind:?}: st2:enabled must be true or false, not {other:?}"),
                    });
                }
            }),
            Some(_) => {
                return Err(Error::InvalidResource { message: format!("{kind:?}: st2:enabled must be a literal") });
            }
            None => None,
        };
        let step = match kind {
            Kind::Create => {
                let rule = rule_from_graph(&graph, *node)?;
                let reference = rule.reference();
                if !new_refs.insert(reference.clone()) {
                    return Err(Error::Conflict { message: format!("the body creates rule {reference} twice") });
                }
                match store.get(&reference, false).await {
                    Ok(_) => return Err(Error::Conflict { message: format!("rule {reference} already exists") }),
                    Err(crate::st2::St2Error::NotFound { .. }) => {}
                    Err(error) => return Err(error.into()),
                }
                Step::Create(rule)
            }
            _ => {
                let Some(rule_id) = rule_id else {
                    return Err(Error::InvalidResource {
                        message: format!("{kind:?} needs the rule's id: st2:ruleId"),
                    });
                };
                let id = resolve(actions, &rule_id).await?;
                match kind {
                    Kind::Update if has_rule_properties(&graph, *node) => {
                        Step::Replace(id, rule_from_graph(&graph, *node)?)
                    }
                    Kind::Update => Step::SetEnabled(id, status),
                    Kind::Enable => Step::SetEnabled(id, Some(true)),
                    Kind::Disable => Step::SetEnabled(id, Some(false)),
                    _ => Step::Delete(id),
                }
            }
        };
        plan.push(step);
    }
    let mut outcomes = Vec::new();
    for step in plan {
        let outcome = match step {
            Step::Create(rule) => {
                let created = store.create(&rule).await?;
                let id = created.id.clone().unwrap_or_default();
                Outcome { outcome: "created", rule_id: id, rule: Some(created) }
            }
            Step::Replace(id, rule) => {
                let updated = actions.provider.replace_rule(&id, rule, None).await?;
                Outcome { outcome: "updated", rule_id: id, rule: Some(updated) }
            }
            Step::SetEnabled(id, Some(enabled)) => set_enabled(actions, &id, enabled).await?,
            Step::SetEnabled(id, None) => {
                // The original's UpdateRuleAction without a status switches the rule over.
                let current = store.get(&id, false).await?;
                set_enabled(actions, &id, !current.enabled).await?
            }
            Step::Delete(id) => {
                let _write = actions.provider.lock(&id).await;
                store.delete(&id).await?;
                tracing::info!(rule_id = %id, outcome = "deleted", "rule action");
                Outcome { outcome: "deleted", rule_id: id, rule: None }
            }
        };
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

fn has_rule_properties(graph: &Graph, node: NamedOrBlankNodeRef<'_>) -> bool {
    find(graph, node, &["triggerType"]).is_some() && find(graph, node, &["actionRef"]).is_some()
}

/// The id of the rule an action names by id or ref.
async fn resolve(actions: &Actions, rule_id: &str) -> Result<String> {
    let rule = actions.provider.store().get(rule_id, false).await?;
    rule.id.ok_or_else(|| Error::Unavailable { service: "StackStorm".into(), message: "rule without id".into() })
}
