//! The reactor (feature `reactor`): events → conditions → OSLC Actions, for the tools that consume events.
//!
//! A [`ReactorRule`] says *when* (change kinds, qualifier types, resource types, and an `oslc.where` expression over
//! the changed resource's state) and *then* what: create a resource (POST to a creation factory), or run an OSLC
//! Action — advertised on the changed resource, or on each resource an OSLC query finds — by following its
//! `http:Request` binding. Rules are given in code or in a TOML file ([`Reactor::from_toml`]). Creation factories
//! and query bases are given as URLs, or found through a service provider catalog by resource type, as OSLC
//! consumers are meant to find them.
//!
//! Rules are checked when the reactor is made: a `where` expression that does not parse, an unknown placeholder or
//! a body that is not Turtle is an error naming the rule, not a message retried forever.
//!
//! All HTTP goes through [`oslc_core::client::Client`]: negotiated syntaxes, budgets on what servers answer,
//! queries followed to their last page, credentials per URL prefix.
//!
//! The reactor is an [`EventHandler`]: fed by a Kafka consumer, it succeeds only when every matching rule ran, so the
//! consumer commits the event's offset only then; a failed reaction is retried (a rule that already ran for an event
//! is not run again), and an event id already handled runs nothing. What it remembers is bounded: the last 100,000
//! event ids handled, and which rules ran for events still in progress.
//!
//! ```
//! use oslc_events::reactor::Reactor;
//!
//! let reactor = Reactor::from_toml(oslc_core::client::Client::new()?, r#"
//! [[rule]]
//! name = "review disabled rules"
//! qualifiers = ["https://w3id.org/st2-oslc/ns#RuleDisabled"]
//! then.create = { url = "http://tracker.example/serviceProviders/1/changeRequests", body = '<> <http://purl.org/dc/terms/title> "review {title}" .' }
//! "#)?;
//! assert_eq!(reactor.rules().len(), 1);
//! Ok::<_, Box<dyn std::error::Error>>(())
//! ```

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use oslc_core::Resource;
use oslc_core::actions::Action;
use oslc_core::client::{Client, Credential};
use oslc_core::query::{Evaluation, Query, evaluate};
use oslc_core::rdf::{self, Prefixes, RdfFormat};
use oslc_core::vocab::{dcterms, rdf as rdf_ns};
use oxrdf::{NamedNode, TermRef};

use crate::backoff::Backoff;
use crate::event::{ChangeKind, Event};
use crate::sink::{EventHandler, SeenIds};
use crate::{Error, Result};

mod rules;

pub use rules::{Condition, Kind, Reaction, ReactorRule, Target};
use rules::{RuleFile, check_placeholders, invalid_rule};

/// A rule with its `where` condition parsed once.
#[derive(Debug)]
struct Compiled {
    rule: ReactorRule,
    condition: Option<Query>,
}

/// At most this many (event, rule) pairs are remembered for events whose reactions are still in progress.
const MAX_IN_PROGRESS: usize = 10_000;

/// Runs rules on events.
pub struct Reactor {
    rules: Vec<Compiled>,
    client: Client,
    prefixes: BTreeMap<String, String>,
    seen: Mutex<SeenIds>,
    done: Mutex<HashSet<(String, usize)>>,
    targets: tokio::sync::Mutex<HashMap<usize, NamedNode>>,
    attempts: usize,
}

impl std::fmt::Debug for Reactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reactor")
            .field("rules", &self.rules.len())
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

fn remote(uri: &str, message: impl std::fmt::Display) -> Error {
    Error::Remote { uri: uri.to_owned(), message: message.to_string() }
}

impl Reactor {
    /// A reactor with `rules`, sending its requests through `client`.
    ///
    /// # Errors
    /// [`Error::InvalidEvent`] naming the first rule that is wrong: a `where` expression that does not parse, an
    /// unknown placeholder, a body that is not Turtle, a target that is neither a URL nor a catalog and type.
    pub fn new(client: Client, rules: Vec<ReactorRule>) -> Result<Self> {
        Self::with_prefixes(client, rules, BTreeMap::new())
    }

    fn with_prefixes(client: Client, rules: Vec<ReactorRule>, prefixes: BTreeMap<String, String>) -> Result<Self> {
        let mut known = oslc_core::vocab::standard_prefixes();
        for (prefix, iri) in &prefixes {
            known.insert(prefix.clone(), iri.clone());
        }
        let compiled = rules.into_iter().map(|rule| Self::compile(rule, &known)).collect::<Result<Vec<_>>>()?;
        Ok(Self {
            rules: compiled,
            client,
            prefixes,
            seen: Mutex::new(SeenIds::new(100_000)),
            done: Mutex::default(),
            targets: tokio::sync::Mutex::default(),
            attempts: 3,
        })
    }

    fn compile(rule: ReactorRule, prefixes: &Prefixes) -> Result<Compiled> {
        let name = rule.name.clone();
        let parse_where = |clause: &str| {
            Query::from_params([("oslc.where", clause)], prefixes)
                .map_err(|e| invalid_rule(&name, format!("where {clause:?}: {e}")))
        };
        let condition = rule.when.where_clause.as_deref().map(parse_where).transpose()?;
        // Every text is tried with example values, so a mistake shows now and not on the first matching event.
        let example = Event::new(ChangeKind::Modification, NamedNode::new_unchecked("http://example.org/changed"))
            .with_id_from("example");
        if let Some(target) = rule.then.target() {
            match (&target.url, &target.catalog, &target.resource_type) {
                (Some(url), None, None) => {
                    check_placeholders(&name, "the URL", url)?;
                    NamedNode::new(Self::fill(url, &example, None))
                        .map_err(|e| invalid_rule(&name, format!("URL {url:?}: {e}")))?;
                }
                (None, Some(catalog), Some(ty)) => {
                    for (field, iri) in [("catalog", catalog), ("resource_type", ty)] {
                        NamedNode::new(iri.as_str())
                            .map_err(|e| invalid_rule(&name, format!("{field} {iri:?}: {e}")))?;
                    }
                }
                _ => {
                    return Err(invalid_rule(
                        &name,
                        "give either the URL (url or query_base) or both catalog and resource_type",
                    ));
                }
            }
        }
        match &rule.then {
            Reaction::Create { body, .. } => {
                let filled = Self::fill(body, &example, None);
                rdf::parse(filled.as_bytes(), RdfFormat::Turtle, "http://example.org/new")
                    .map_err(|e| invalid_rule(&name, format!("the body is not Turtle: {e}")))?;
            }
            Reaction::ActOn { where_clause, action, .. } => {
                check_placeholders(&name, "where", where_clause)?;
                parse_where(&Self::fill(where_clause, &example, None))?;
                if action.trim().is_empty() {
                    return Err(invalid_rule(&name, "no action is named"));
                }
            }
            Reaction::ActOnChanged { action } => {
                if action.trim().is_empty() {
                    return Err(invalid_rule(&name, "no action is named"));
                }
            }
        }
        Ok(Compiled { rule, condition })
    }

    /// Rules from TOML: `[[rule]]` tables with `name`, the condition keys (`kinds`, `qualifiers`,
    /// `resource_types`, `where`) and a `then` table (`create = { url | catalog + resource_type [+ domain], body }`,
    /// `act_on = { query_base | catalog + resource_type [+ domain], where, action }` or
    /// `act_on_changed = { action }`); an optional `[prefixes]` table adds prefixes for `where` expressions (sent
    /// as `oslc.prefix` with queries), and an optional `[bearer]` table maps URL prefixes to tokens.
    ///
    /// ```
    /// let client = oslc_core::client::Client::new()?;
    /// let reactor = oslc_events::reactor::Reactor::from_toml(client, r#"
    /// [prefixes]
    /// st2 = "https://w3id.org/st2-oslc/ns#"
    ///
    /// [[rule]]
    /// name = "review disabled rules"
    /// qualifiers = ["https://w3id.org/st2-oslc/ns#RuleDisabled"]
    /// where = "st2:pack=\"core\""
    /// then.create = { url = "http://tracker/serviceProviders/1/changeRequests", body = '<> <http://purl.org/dc/terms/title> "review {title}" .' }
    /// "#)?;
    /// assert_eq!(reactor.rules().len(), 1);
    ///
    /// // Mistakes show when the rules are read, naming the rule.
    /// let typo = oslc_events::reactor::Reactor::from_toml(oslc_core::client::Client::new()?, r#"
    /// [[rule]]
    /// name = "typo"
    /// where = "dcterms:title=="
    /// then.act_on_changed = { action = "Close" }
    /// "#);
    /// assert!(typo.unwrap_err().to_string().contains("\"typo\""));
    /// Ok::<_, Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidEvent`] naming what is wrong in the file.
    pub fn from_toml(client: Client, text: &str) -> Result<Self> {
        let file: RuleFile = toml::from_str(text).map_err(|e| Error::invalid(format!("reactor rules: {e}")))?;
        let mut client = client;
        for (prefix, token) in file.bearer {
            client = client.with_credential(prefix, Credential::bearer(token));
        }
        Self::with_prefixes(client, file.rules, file.prefixes)
    }

    /// Sends `Authorization: Bearer <token>` to URLs starting with `prefix`.
    #[must_use]
    pub fn with_bearer(self, prefix: impl Into<String>, token: impl Into<String>) -> Self {
        self.with_credential(prefix, Credential::bearer(token))
    }

    /// Sends `credential` to URLs starting with `prefix`.
    #[must_use]
    pub fn with_credential(mut self, prefix: impl Into<String>, credential: Credential) -> Self {
        self.client = self.client.with_credential(prefix, credential);
        self
    }

    /// How many times a failing reaction is tried for one delivery of an event (default 3).
    #[must_use]
    pub fn with_attempts(mut self, attempts: usize) -> Self {
        self.attempts = attempts.max(1);
        self
    }

    /// The rules.
    #[must_use]
    pub fn rules(&self) -> Vec<&ReactorRule> {
        self.rules.iter().map(|c| &c.rule).collect()
    }

    /// The client the reactor sends its requests with.
    #[must_use]
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Whether `compiled`'s condition holds for `event` (whose state is `state`).
    fn applies(compiled: &Compiled, event: &Event, state: Option<&Resource>) -> Result<bool> {
        let condition = &compiled.rule.when;
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
        if let Some(query) = &compiled.condition {
            let Some(state) = state else { return Ok(false) };
            let page = evaluate(query, vec![state.clone()], Evaluation::Filter, None)?;
            return Ok(page.total_count == 1);
        }
        Ok(true)
    }

    fn fill(template: &str, event: &Event, state: Option<&Resource>) -> String {
        let title = state.and_then(|s| s.string(dcterms::title)).unwrap_or_default();
        let escaped = title.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n").replace('\r', "\\r");
        template
            .replace("{changed}", event.changed.as_str())
            .replace("{title}", &escaped)
            .replace("{event}", event.id.as_str())
            .replace("{order}", &event.order_number().to_string())
    }

    /// The URL of rule `index`'s target for `event`: filled in, or found through the catalog (once, then kept).
    async fn resolve(&self, index: usize, event: &Event, state: Option<&Resource>) -> Result<String> {
        let Some(target) = self.rules[index].rule.then.target() else {
            return Ok(event.changed.as_str().to_owned());
        };
        if let Some(url) = &target.url {
            return Ok(Self::fill(url, event, state));
        }
        let mut targets = self.targets.lock().await;
        if let Some(found) = targets.get(&index) {
            return Ok(found.as_str().to_owned());
        }
        let (Some(catalog), Some(ty)) = (&target.catalog, &target.resource_type) else {
            return Err(invalid_rule(&self.rules[index].rule.name, "no target"));
        };
        let ty = NamedNode::new(ty.as_str()).map_err(|e| invalid_rule(&self.rules[index].rule.name, e))?;
        let domain = target.domain.as_deref();
        let found = match &self.rules[index].rule.then {
            Reaction::Create { .. } => self.client.creation_factory(catalog, domain, ty.as_ref()).await?,
            _ => self.client.query_capability(catalog, domain, ty.as_ref()).await?,
        };
        tracing::info!(rule = %self.rules[index].rule.name, url = %found, "found through the catalog");
        targets.insert(index, found.clone());
        Ok(found.as_str().to_owned())
    }

    async fn react(&self, index: usize, event: &Event, state: Option<&Resource>) -> Result<()> {
        match &self.rules[index].rule.then {
            Reaction::Create { body, .. } => {
                let url = self.resolve(index, event, state).await?;
                let created = self.client.create(&url, Self::fill(body, event, state)).await?;
                tracing::info!(factory = %url, %created, "resource created");
                Ok(())
            }
            Reaction::ActOnChanged { action } => {
                let fetched = self.client.get(event.changed.as_str()).await?;
                self.run_action(&fetched.resource, action).await
            }
            Reaction::ActOn { where_clause, action, .. } => {
                let base = self.resolve(index, event, state).await?;
                let clause = Self::fill(where_clause, event, state);
                let prefixes: String =
                    self.prefixes.iter().map(|(p, iri)| format!("{p}=<{iri}>")).collect::<Vec<_>>().join(",");
                let mut params = vec![("oslc.where", clause.as_str())];
                if !prefixes.is_empty() {
                    params.push(("oslc.prefix", prefixes.as_str()));
                }
                for member in self.client.query_with(&base, &params).await? {
                    let fetched = self.client.get(member.as_str()).await?;
                    self.run_action(&fetched.resource, action).await?;
                }
                Ok(())
            }
        }
    }

    /// Runs the action on `resource` named `name` (its IRI's fragment, such as `close`) or whose title starts with
    /// `name`.
    async fn run_action(&self, resource: &Resource, name: &str) -> Result<()> {
        let actions = Action::read_all(resource.graph(), resource.subject());
        let action = actions
            .iter()
            .find(|a| a.name().eq_ignore_ascii_case(name))
            .or_else(|| actions.iter().find(|a| a.title.starts_with(name)))
            .ok_or_else(|| remote(resource.subject().as_str(), format!("no action {name} is available")))?;
        self.client.run_action(action).await?;
        tracing::info!(action = name, resource = %resource.subject(), "OSLC Action run");
        Ok(())
    }

    fn forget(&self, id: &str) {
        self.done.lock().unwrap_or_else(std::sync::PoisonError::into_inner).retain(|(event, _)| event != id);
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
        for (index, compiled) in self.rules.iter().enumerate() {
            let rule = &compiled.rule;
            if self.done.lock().unwrap_or_else(std::sync::PoisonError::into_inner).contains(&(id.clone(), index)) {
                continue;
            }
            if !Self::applies(compiled, event, state.as_ref())? {
                continue;
            }
            let mut attempt = 0;
            let mut backoff = Backoff::starting_at(Duration::from_millis(200)).with_max(Duration::from_secs(2));
            loop {
                attempt += 1;
                match self.react(index, event, state.as_ref()).await {
                    Ok(()) => break,
                    Err(error) if attempt < self.attempts => {
                        tracing::warn!(%error, rule = %rule.name, event_id = %id, attempt, "reaction failed; retrying");
                        tokio::time::sleep(backoff.next_wait()).await;
                    }
                    Err(error) => return Err(error),
                }
            }
            tracing::info!(rule = %rule.name, event_id = %id, changed = %event.changed, "reacted");
            let mut done = self.done.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            // Events that failed and were never delivered again leave entries behind; they are few, and bounded.
            if done.len() >= MAX_IN_PROGRESS {
                done.clear();
            }
            done.insert((id.clone(), index));
        }
        self.forget(&id);
        self.seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(&id);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reactor(text: &str) -> Result<Reactor> {
        Reactor::from_toml(Client::new()?, text)
    }

    #[test]
    fn rules_files_are_read_whole() {
        let read = reactor(
            r#"
[[rule]]
name = "r"
kinds = ["modification"]
qualifiers = ["urn:q:Disabled"]
then.act_on_changed = { action = "Enable" }
"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let rule = &read.rules[0];
        assert_eq!(rule.rule.when.qualifiers, ["urn:q:Disabled"]);
        assert_eq!(rule.rule.when.kinds, [Kind::Modification]);
        let event = Event::new(ChangeKind::Modification, NamedNode::new_unchecked("urn:r:1"))
            .with_qualifier(NamedNode::new_unchecked("urn:q:Disabled"));
        assert!(Reactor::applies(rule, &event, None).unwrap_or(false));
        let other = Event::new(ChangeKind::Modification, NamedNode::new_unchecked("urn:r:1"));
        assert!(!Reactor::applies(rule, &other, None).unwrap_or(true));
        assert!(reactor("[[rule]]\nname = 'x'\nunknown = 1\nthen.act_on_changed = { action = 'A' }").is_err());
    }

    #[test]
    fn mistakes_are_found_when_the_rules_are_read() {
        let cases = [
            ("where = 'dcterms:title=='\nthen.act_on_changed = { action = 'A' }", "where"),
            ("where = 'nope:title=\"x\"'\nthen.act_on_changed = { action = 'A' }", "nope"),
            (
                "then.act_on = { query_base = 'http://t/q', where = 'dcterms:references=<{chnged}>', action = 'Close' }",
                "{chnged}",
            ),
            (
                "then.act_on = { query_base = 'http://t/q', where = 'dcterms:references=<{changed}> and', action = 'Close' }",
                "where",
            ),
            ("then.act_on = { where = 'dcterms:title=\"x\"', action = 'Close' }", "catalog and resource_type"),
            (
                "then.act_on = { query_base = 'http://t/q', catalog = 'http://t/c', where = 'dcterms:title=\"x\"', action = 'Close' }",
                "either",
            ),
            ("then.create = { url = 'http://t/{tracker}/crs', body = '<> a <urn:x> .' }", "{tracker}"),
            ("then.create = { url = 'http://t/crs', body = '<> a <urn:x>' }", "not Turtle"),
            ("then.create = { catalog = 'http://t/catalog', body = '<> a <urn:x> .' }", "catalog and resource_type"),
            ("then.act_on_changed = { action = ' ' }", "no action"),
        ];
        for (then, expected) in cases {
            let text = format!("[[rule]]\nname = 'bad one'\n{then}\n");
            let Err(error) = reactor(&text) else { panic!("accepted: {then}") };
            let error = error.to_string();
            assert!(error.contains("\"bad one\"") && error.contains(expected), "{then}: {error}");
        }
        let fine = "[prefixes]\nnope = 'urn:nope:'\n[[rule]]\nname = 'ok'\nwhere = 'nope:title=\"x\"'\n\
                    then.act_on = { catalog = 'http://t/c', resource_type = 'http://open-services.net/ns/cm#ChangeRequest', \
                    where = 'dcterms:references=<{changed}>', action = 'close' }\n";
        assert!(reactor(fine).is_ok(), "{:?}", reactor(fine).err());
    }

    #[test]
    fn titles_are_escaped_for_turtle() {
        let changed = NamedNode::new_unchecked("http://t/r/1");
        let mut state = Resource::new(changed.clone());
        state.set(dcterms::title, &oxrdf::Literal::from("a \"quoted\"\\ title\nwith lines"));
        let event = Event::new(ChangeKind::Modification, changed);
        let body = Reactor::fill("<> <http://purl.org/dc/terms/title> \"review {title}\" .", &event, Some(&state));
        let graph = rdf::parse(body.as_bytes(), RdfFormat::Turtle, "http://t/new").unwrap_or_else(|e| panic!("{e}"));
        let title = graph.triples_for_predicate(dcterms::title).next().map(|t| t.object.to_string());
        assert_eq!(title.as_deref(), Some("\"review a \\\"quoted\\\"\\\\ title\\nwith lines\""));
    }
}
