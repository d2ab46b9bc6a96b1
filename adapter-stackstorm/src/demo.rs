//! The embedded demo: a simulated StackStorm, in memory, seeded with rules like those of st2's example packs.
//!
//! ```
//! use adapter_stackstorm::st2::RuleStore;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let st2 = adapter_stackstorm::demo::demo_store().await?;
//! let rules = st2.list(None).await?.rules;
//! assert_eq!(rules.len(), adapter_stackstorm::demo::sample_rules().len());
//! # Ok(()) }
//! ```

use serde_json::json;

use crate::st2::{MemoryBackend, Rule, RuleStore, SimulatedSt2, St2Error, Tag};

fn object(value: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    match value {
        serde_json::Value::Object(map) => map,
        _ => serde_json::Map::new(),
    }
}

/// The sample rules.
#[must_use]
pub fn sample_rules() -> Vec<Rule> {
    let mut timer = Rule::new("examples", "sample_rule_with_timer", "core.st2.IntervalTimer", "core.local");
    timer.description = Some("Sample rule using an Interval Timer.".into());
    timer.trigger.parameters = object(json!({"unit": "seconds", "delta": 5}));
    timer.action.parameters = object(json!({"cmd": "echo \"{{trigger.executed_at}}\""}));

    let mut webhook = Rule::new("examples", "sample_rule_with_webhook", "core.st2.webhook", "core.local");
    webhook.description = Some("Sample rule dumping webhook payload to a file.".into());
    webhook.enabled = true;
    webhook.trigger.parameters = object(json!({"url": "sample"}));
    webhook.criteria = object(json!({"trigger.body.name": {"pattern": "st2", "type": "equals"}}));
    webhook.action.parameters = object(json!({"cmd": "echo \"{{trigger.body}}\" >> ~/st2.webhook_sample.out ; sync"}));

    let mut notify = Rule::new("chatops", "notify", "core.st2.generic.notifytrigger", "chatops.post_message");
    notify.description = Some("Notification rule to send results of action executions to stream for chatops".into());
    notify.enabled = true;
    notify.criteria = object(json!({"trigger.route": {"pattern": "hubot", "type": "equals"}}));
    notify.action.parameters =
        object(json!({"channel": "{{trigger.data.source_channel}}", "message": "{{trigger.message}}"}));

    let mut page = Rule::new("ops", "page_on_critical_alert", "core.st2.webhook", "pagerduty.create_incident");
    page.description = Some("Open a PagerDuty incident when monitoring posts a critical alert.".into());
    page.enabled = true;
    page.trigger.parameters = object(json!({"url": "alerts"}));
    page.criteria = object(json!({"trigger.body.severity": {"pattern": "critical", "type": "iequals"}}));
    page.action.parameters =
        object(json!({"api_key": "pd-demo-0123456789", "title": "{{trigger.body.summary}}", "service": "web"}));
    page.tags = vec![Tag { name: "team".into(), value: "sre".into() }];

    let mut nightly = Rule::new("ops", "nightly_cleanup", "core.st2.CronTimer", "core.remote");
    nightly.description = Some("Clean temporary files on the web hosts every night.".into());
    nightly.trigger.parameters = object(json!({"hour": 3, "minute": 0, "timezone": "UTC"}));
    nightly.action.parameters = object(json!({"hosts": "web1,web2", "cmd": "find /tmp -mtime +7 -delete"}));

    vec![timer, webhook, notify, page, nightly]
}

/// A simulated StackStorm in memory with the sample rules (`pagerduty.create_incident`'s `api_key` is secret).
///
/// # Errors
/// What creating a sample rule returns (never, for these rules).
pub async fn demo_store() -> Result<SimulatedSt2<MemoryBackend>, St2Error> {
    let store = SimulatedSt2::in_memory().with_secret("pagerduty.create_incident", "api_key");
    for rule in sample_rules() {
        store.create(&rule).await?;
    }
    Ok(store)
}
