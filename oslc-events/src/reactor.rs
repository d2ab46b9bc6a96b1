//! The reactor (feature `reactor`): events → conditions → OSLC Actions, for the tools that consume events.
//!
//! A [`ReactorRule`] says *when* (change kinds, qualifier types, resource types, and an `oslc.where` expression over
//! the changed resource's state) and *then* what: create a resource (POST to a creation factory), or run an OSLC
//! Action — advertised on the changed resource, or on each resource an OSLC query finds — by following its
//! `http:Request` binding. Rules are given in code or in a TOML file ([`Reactor::from_toml`]).
//!
//! The reactor is an [`EventHandler`]: fed by a Kafka consumer, it succeeds only when every matching rule ran, so the
//! consumer commits the event's offset only then; a failed reaction is retried (a rule that already ran for an event
//! is not run again), and an event id already handled runs nothing.

use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use oslc_core::Resource;
use oslc_core::query::{Evaluation, Query, evaluate};
use oslc_core::rdf::{self, RdfFormat};
use oslc_core::vocab::{dcterms, rdf as rdf_ns, rdfs};
use oxrdf::{Graph, NamedNode, NamedOrBlankNodeRef, TermRef};
use serde::Deserialize;

use crate::event::{ChangeKind, Event};
use crate::sink::{EventHandler, SeenIds};
use crate::{Error, Result};

/// When a rule applies.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// Change kinds (`creation`, `modification`, `deletion`); any when empty.
    #[serde(default)]
    pub kinds: Vec<Kind>,
    /// Qualifier types, any of which the event must have; any event when empty.
    #[serde(default)]
    pub qualifiers: Vec<String>,
    /// Types (`rdf:type`), any of which the changed resource's state must have; any when empty.
    #[serde(default)]
    pub resource_types: Vec<String>,
    /// An `oslc.where` expression the changed resource's state must satisfy (OSLC prefixes known).
    #[serde(default, rename = "where")]
    pub where_clause: Option<String>,
}

/// A change kind, as written in rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// `trs:Creation`
    Creation,
    /// `trs:Modification`
    Modification,
    /// `trs:Deletion`
    Deletion,
}

impl From<Kind> for ChangeKind {
    fn from(kind: Kind) -> Self {
        match kind {
            Kind::Creation => Self::Creation,
            Kind::Modification => Self::Modification,
            Kind::Deletion => Self::Deletion,
        }
    }
}

/// What a rule does. Text may use the placeholders `{changed}` (the changed resource's IRI), `{title}` (its
/// `dcterms:title`, escaped for a Turtle string), `{event}` (the event's id) and `{order}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Reaction {
    /// POSTs `body` (Turtle) to `url`, such as a creation factory.
    Create {
        /// Where to POST.
        url: String,
        /// The Turtle body.
        body: String,
    },
    /// Runs the OSLC Action whose title starts with `action` on each resource that the OSLC query `where` (with
    /// `query_base`) finds.
    ActOn {
        /// The query capability's base.
        query_base: String,
        /// The `oslc.where` expression.
        #[serde(rename = "where")]
        where_clause: String,
        /// The start of the action's `dcterms:title`, such as `Close`.
        action: String,
    },
    /// Runs the OSLC Action whose title starts with `action` that the changed resource advertises.
    ActOnChanged {
        /// The start of the action's `dcterms:title`, such as `Enable`.
        action: String,
    },
}

/// One rule of a reactor.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReactorRule {
    /// A name for logs.
    pub name: String,
    /// When it applies.
    #[serde(default, flatten)]
    pub when: Condition,
    /// What it does.
    pub then: Reaction,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(default)]
    bearer: BTreeMap<String, String>,
    #[serde(rename = "rule", default)]
    rules: Vec<ReactorRule>,
}

/// Runs rules on events.
pub struct Reactor {
    rules: Vec<ReactorRule>,
    http: reqwest::Client,
    bearer: BTreeMap<String, String>,
    seen: Mutex<SeenIds>,
    done: Mutex<HashSet<(String, usize)>>,
    attempts: usize,
}

impl std::fmt::Debug for Reactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reactor")
            .field("rules", &self.rules.len())
            .field("bearer", &self.bearer.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

fn remote(uri: &str, message: impl std::fmt::Display) -> Error {
    Error::Remote { uri: uri.to_owned(), message: message.to_string() }
}

impl Reactor {
    /// A reactor with `rules`.
    #[must_use]
    pub fn new(http: reqwest::Client, rules: Vec<ReactorRule>) -> Self {
        Self {
            rules,
            http,
            bearer: BTreeMap::new(),
            seen: Mutex::new(SeenIds::new(100_000)),
            done: Mutex::default(),
            attempts: 3,
        }
    }

    /// Rules from TOML: `[[rule]]` tables with `name`, the condition keys (`kinds`, `qualifiers`,
    /// `resource_types`, `where`) and a `then` table (`create = { url, body }`, `act_on = { query_base, where,
    /// action }` or `act_on_changed = { action }`); an optional `[bearer]` table maps URL prefixes to tokens.
    ///
    /// ```
    /// # let _ = rustls::crypto::ring::default_provider().install_default();
    /// let reactor = oslc_events::reactor::Reactor::from_toml(reqwest::Client::new(), r#"
    /// [[rule]]
    /// name = "review disabled rules"
    /// qualifiers = ["https://w3id.org/st2-oslc/ns#RuleDisabled"]
    /// then.create = { url = "http://tracker/serviceProviders/1/changeRequests", body = '<> <http://purl.org/dc/terms/title> "review {title}" .' }
    /// "#)?;
    /// assert_eq!(reactor.rules().len(), 1);
    /// Ok::<_, Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidEvent`] naming what is wrong in the file.
    pub fn from_toml(http: reqwest::Client, text: &str) -> Result<Self> {
        let file: RuleFile = toml::from_str(text).map_err(|e| Error::invalid(format!("reactor rules: {e}")))?;
        let mut reactor = Self::new(http, file.rules);
        reactor.bearer = file.bearer;
        Ok(reactor)
    }

    /// Sends `Authorization: Bearer <token>` to URLs starting with `prefix`.
    #[must_use]
    pub fn with_bearer(mut self, prefix: impl Into<String>, token: impl Into<String>) -> Self {
        self.bearer.insert(prefix.into(), token.into());
        self
    }

    /// The rules.
    #[must_use]
    pub fn rules(&self) -> &[ReactorRule] {
        &self.rules
    }

    fn request(&self, method: reqwest::Method, url: &str) -> reqwest::RequestBuilder {
        let request = self.http.request(method, url);
        match self.bearer.iter().rev().find(|(prefix, _)| url.starts_with(prefix.as_str())) {
            Some((_, token)) => request.bearer_auth(token),
            None => request,
        }
    }

    async fn get_graph(&self, url: &str) -> Result<Graph> {
        let response = self
            .request(reqwest::Method::GET, url)
            .header("accept", "text/turtle")
            .send()
            .await
            .map_err(|e| remote(url, e))?;
        if !response.status().is_success() {
            return Err(remote(url, format!("HTTP {}", response.status())));
        }
        let body = response.bytes().await.map_err(|e| remote(url, e))?;
        Ok(rdf::parse(&body, RdfFormat::Turtle, url)?)
    }

    /// Whether `rule`'s condition holds for `event` (whose state is `state`).
    fn applies(condition: &Condition, event: &Event, state: Option<&Resource>) -> Result<bool> {
        if !condition.kinds.is_empty() && !condition.kinds.iter().any(|k| ChangeKind::from(*k) == event.kind) {
            return Ok(false);
        }
        if !condition.qualifiers.is_empty()
            && !condition.qualifiers.iter().any(|q| event.qualifiers.iter().any(|e| e.as_str() == q))
        {
            return Ok(false);
        }
        if !condition.resource_types.is_empty() {
            let Some(state) = state else { return Ok(false) };
            if !condition
                .resource_types
                .iter()
                .any(|t| state.objects(rdf_ns::r#type).any(|o| matches!(o, TermRef::NamedNode(n) if n.as_str() == t)))
            {
                return Ok(false);
            }
        }
        if let Some(clause) = &condition.where_clause {
            let Some(state) = state else { return Ok(false) };
            let query = Query::from_params([("oslc.where", clause.as_str())], &oslc_core::vocab::standard_prefixes())?;
            let page = evaluate(&query, vec![state.clone()], Evaluation::Filter, None)?;
            return Ok(page.total_count == 1);
        }
        Ok(true)
    }

    fn fill(template: &str, event: &Event, state: Option<&Resource>) -> String {
        let title = state.and_then(|s| s.string(dcterms::title)).unwrap_or_default();
        let escaped = title.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
        template
            .replace("{changed}", event.changed.as_str())
            .replace("{title}", &escaped)
            .replace("{event}", event.id.as_str())
            .replace("{order}", &event.order.to_string())
    }

    async fn react(&self, reaction: &Reaction, event: &Event, state: Option<&Resource>) -> Result<()> {
        match reaction {
            Reaction::Create { url, body } => {
                let url = Self::fill(url, event, state);
                let response = self
                    .request(reqwest::Method::POST, &url)
                    .header("content-type", "text/turtle")
                    .header("accept", "text/turtle")
                    .body(Self::fill(body, event, state))
                    .send()
                    .await
                    .map_err(|e| remote(&url, e))?;
                if !response.status().is_success() {
                    return Err(remote(&url, format!("HTTP {}", response.status())));
                }
                Ok(())
            }
            Reaction::ActOnChanged { action } => {
                let graph = self.get_graph(event.changed.as_str()).await?;
                self.run_action(&graph, event.changed.as_ref().into(), action).await
            }
            Reaction::ActOn { query_base, where_clause, action } => {
                let base = Self::fill(query_base, event, state);
                let clause = Self::fill(where_clause, event, state);
                let url = format!(
                    "{base}?{}",
                    form_urlencoded::Serializer::new(String::new()).append_pair("oslc.where", &clause).finish()
                );
                let results = self.get_graph(&url).await?;
                let base_node = NamedNode::new(&base).map_err(|e| remote(&base, e))?;
                let members: Vec<NamedNode> = results
                    .objects_for_subject_predicate(&base_node, rdfs::member)
                    .filter_map(|m| match m {
                        TermRef::NamedNode(n) => Some(n.into_owned()),
                        _ => None,
                    })
                    .collect();
                for member in members {
                    let graph = self.get_graph(member.as_str()).await?;
                    self.run_action(&graph, member.as_ref().into(), action).await?;
                }
                Ok(())
            }
        }
    }

    /// Follows the `http:Request` binding of the action on `resource` named `name` (its IRI's fragment, such as
    /// `close`) or whose title starts with `name`.
    async fn run_action(&self, graph: &Graph, resource: NamedOrBlankNodeRef<'_>, name: &str) -> Result<()> {
        let NamedOrBlankNodeRef::NamedNode(resource) = resource else {
            return Err(remote(&resource.to_string(), "a blank node offers no actions"));
        };
        let actions = oslc_core::actions::Action::read_all(graph, resource);
        let action = actions
            .iter()
            .find(|a| a.name().eq_ignore_ascii_case(name))
            .or_else(|| actions.iter().find(|a| a.title.starts_with(name)))
            .ok_or_else(|| remote(resource.as_str(), format!("no action {name} is available")))?;
        let binding =
            action.binding().ok_or_else(|| remote(resource.as_str(), "the action has no http:Request binding"))?;
        let uri = binding.uri.as_str();
        let method = reqwest::Method::from_bytes(binding.method.as_bytes()).map_err(|e| remote(uri, e))?;
        let mut request = self.request(method, uri).header("accept", "text/turtle");
        for (field, value) in &binding.headers {
            request = request.header(field.as_str(), value.as_str());
        }
        if let Some(body) = &binding.body {
            if !binding.headers.iter().any(|(f, _)| f.eq_ignore_ascii_case("content-type")) {
                request = request.header("content-type", "text/turtle");
            }
            request = request.body(body.clone());
        }
        let response = request.send().await.map_err(|e| remote(uri, e))?;
        if !response.status().is_success() {
            return Err(remote(uri, format!("HTTP {}", response.status())));
        }
        tracing::info!(action = name, target = %uri, "OSLC Action run");
        Ok(())
    }
}

impl Reactor {
    /// Follows a remote TRS instead of Kafka: polls `source` every `interval` until `shutdown` completes, and
    /// handles each change (with the changed resource's current state read from it, as TRS events carry none). A
    /// rebase handles nothing: the Base lists resources, not changes. A change whose reactions fail is tried again
    /// at the next poll, before any later one.
    ///
    /// # Errors
    /// None: failures are logged and retried.
    pub async fn follow_trs(
        &self,
        mut source: crate::trs_client::TrsSource,
        interval: Duration,
        shutdown: impl std::future::Future<Output = ()> + Send,
    ) -> Result<()> {
        tokio::pin!(shutdown);
        let mut pending: std::collections::VecDeque<Event> = std::collections::VecDeque::new();
        loop {
            match source.poll().await {
                Ok(crate::trs_client::TrsUpdate::Changes(changes)) => pending.extend(changes),
                Ok(crate::trs_client::TrsUpdate::Rebase { members, changes, .. }) => {
                    tracing::info!(members = members.len(), "following the TRS from its Base");
                    pending.extend(changes);
                }
                Err(error) => tracing::warn!(%error, "reading the TRS failed; will retry"),
            }
            while let Some(mut event) = pending.front().cloned() {
                if event.kind != ChangeKind::Deletion && event.state.is_none() {
                    match self.get_graph(event.changed.as_str()).await {
                        Ok(graph) => event.state = Some(graph),
                        Err(error) => {
                            tracing::warn!(%error, changed = %event.changed, "could not read the changed resource")
                        }
                    }
                }
                if let Err(error) = self.handle(&event).await {
                    tracing::warn!(%error, event_id = %event.id, "reactions failed; will retry");
                    break;
                }
                pending.pop_front();
            }
            tokio::select! {
                () = &mut shutdown => return Ok(()),
                () = tokio::time::sleep(interval) => {},
            }
        }
    }
}

#[async_trait]
impl EventHandler for Reactor {
    async fn handle(&self, event: &Event) -> Result<()> {
        let id = event.id.as_str().to_owned();
        if self.seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner).contains(&id) {
            return Ok(());
        }
        let state = event.state.clone().map(|graph| Resource::from_graph(event.changed.clone(), graph));
        tracing::debug!(event_id = %id, kind = ?event.kind, qualifiers = ?event.qualifiers, changed = %event.changed, "event received");
        for (index, rule) in self.rules.iter().enumerate() {
            if self.done.lock().unwrap_or_else(std::sync::PoisonError::into_inner).contains(&(id.clone(), index)) {
                continue;
            }
            if !Self::applies(&rule.when, event, state.as_ref())? {
                continue;
            }
            let mut attempt = 0;
            loop {
                attempt += 1;
                match self.react(&rule.then, event, state.as_ref()).await {
                    Ok(()) => break,
                    Err(error) if attempt < self.attempts => {
                        tracing::warn!(%error, rule = %rule.name, event_id = %id, attempt, "reaction failed; retrying");
                        tokio::time::sleep(Duration::from_millis(200 * attempt as u64)).await;
                    }
                    Err(error) => return Err(error),
                }
            }
            tracing::info!(rule = %rule.name, event_id = %id, changed = %event.changed, "reacted");
            self.done.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert((id.clone(), index));
        }
        self.seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(&id);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_files_are_read_whole() {
        // The workspace builds reqwest without a TLS provider of its own (the adapter installs ring).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let reactor = Reactor::from_toml(
            reqwest::Client::new(),
            r#"
[[rule]]
name = "r"
kinds = ["modification"]
qualifiers = ["urn:q:Disabled"]
then.act_on_changed = { action = "Enable" }
"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let rule = &reactor.rules()[0];
        assert_eq!(rule.when.qualifiers, ["urn:q:Disabled"]);
        assert_eq!(rule.when.kinds, [Kind::Modification]);
        let event = Event::new(ChangeKind::Modification, NamedNode::new_unchecked("urn:r:1"))
            .with_qualifier(NamedNode::new_unchecked("urn:q:Disabled"));
        assert!(Reactor::applies(&rule.when, &event, None).unwrap_or(false));
        let other = Event::new(ChangeKind::Modification, NamedNode::new_unchecked("urn:r:1"));
        assert!(!Reactor::applies(&rule.when, &other, None).unwrap_or(true));
        assert!(
            Reactor::from_toml(
                reqwest::Client::new(),
                "[[rule]]\nname = 'x'\nunknown = 1\nthen.act_on_changed = { action = 'A' }"
            )
            .is_err()
        );
    }
}
