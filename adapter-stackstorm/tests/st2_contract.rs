//! The StackStorm client against the fake st2 server, row by row of CONTRACT.md §1 (errors §1.7, listing §1.3–1.4,
//! PUT semantics §1.6, secrets), over HTTP on loopback.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;

use adapter_stackstorm::st2::{MASKED, Rule, RuleStore, SimulatedSt2, St2Auth, St2Client, St2Error};
use serde_json::json;
use support::*;

fn timer_rule(pack: &str, name: &str) -> Rule {
    let mut rule = Rule::new(pack, name, "core.st2.IntervalTimer", "core.local");
    rule.trigger.parameters = json!({"unit": "seconds", "delta": 5}).as_object().unwrap().clone();
    rule.action.parameters = json!({"cmd": "date"}).as_object().unwrap().clone();
    rule
}

async fn setup() -> (St2Client, String) {
    let store = Arc::new(SimulatedSt2::in_memory().with_secret("pagerduty.create_incident", "api_key"));
    let addr = spawn_fake(store).await;
    let url = format!("http://{addr}");
    (St2Client::new(&url, St2Auth::ApiKey(API_KEY.into())).unwrap(), url)
}

#[tokio::test]
async fn create_get_list_replace_delete() {
    let (client, _) = setup().await;
    let created = client.create(&timer_rule("examples", "timer")).await.unwrap();
    let id = created.id.clone().unwrap();
    assert_eq!(id.len(), 24);
    assert_eq!(created.reference.as_deref(), Some("examples.timer"));
    assert_eq!(created.uid.as_deref(), Some("rule:examples:timer"));
    assert!(
        created.trigger.reference.as_deref().unwrap().starts_with("core."),
        "parameterized trigger gets core.<uuid>"
    );
    assert_eq!(created.context.as_ref().unwrap()["user"], "st2admin");
    assert_eq!(created.metadata_file.as_deref(), Some(""));
    assert!(!created.enabled, "the API's default is disabled");

    assert_eq!(client.get(&id, false).await.unwrap(), created);
    assert_eq!(client.get("examples.timer", false).await.unwrap().id, Some(id.clone()), "by ref too");

    // PUT replaces the whole rule: enabled and pack not sent take their defaults.
    let mut body = created.clone();
    body.enabled = true;
    let updated = client.replace(&id, &body).await.unwrap();
    assert!(updated.enabled);
    assert_eq!(updated.trigger.reference, created.trigger.reference, "same trigger type and parameters, same Trigger");
    let raw: Rule = serde_json::from_value(json!({"name": "timer", "trigger": {"type": "core.st2.IntervalTimer", "parameters": {"unit": "seconds", "delta": 5}}, "action": {"ref": "core.local"}})).unwrap();
    let replaced = client.replace(&id, &raw).await.unwrap();
    assert!(!replaced.enabled);
    assert_eq!(replaced.pack, "default", "no pack moves the rule to pack default");
    assert_eq!(replaced.id.as_deref(), Some(id.as_str()), "same _id");

    // Enable the CLI's way: GET with secrets, flip, PUT.
    let enabled = client.set_enabled(&id, true).await.unwrap();
    assert!(enabled.enabled);

    client.delete(&id).await.unwrap();
    assert!(matches!(client.get(&id, false).await, Err(St2Error::NotFound { .. })));
}

#[tokio::test]
async fn listing_orders_by_pack_and_name_and_counts_all() {
    let (client, url) = setup().await;
    for (pack, name) in [("b", "z"), ("a", "y"), ("b", "a"), ("a", "x")] {
        client.create(&timer_rule(pack, name)).await.unwrap();
    }
    let page = client.list(Some(2)).await.unwrap();
    assert_eq!(page.total, 4, "X-Total-Count ignores the limit");
    let refs: Vec<String> = page.rules.iter().map(|rule| rule.reference()).collect();
    assert_eq!(refs, ["a.x", "a.y"]);
    let all = client.list(None).await.unwrap();
    assert_eq!(all.rules.iter().map(|rule| rule.reference()).collect::<Vec<_>>(), ["a.x", "a.y", "b.a", "b.z"]);

    let http = reqwest::Client::new();
    let get = |q: &str| http.get(format!("{url}/api/v1/rules?{q}")).header("St2-Api-Key", API_KEY).send();
    let limited = get("limit=1").await.unwrap();
    assert_eq!(limited.headers()["x-limit"], "1");
    assert_eq!(limited.headers()["x-total-count"], "4");
    let unlimited = get("limit=-1").await.unwrap();
    assert!(unlimited.headers().get("x-limit").is_none());
    for (q, message) in [
        ("limit=0", "Limit, \"0\" specified, must be a positive number or -1 for full result set."),
        ("limit=-22", "Limit, \"-22\" specified, must be a positive number."),
        ("enabled=maybe", "Invalid bool representation \"maybe\" provided."),
    ] {
        let response = get(q).await.unwrap();
        assert_eq!(response.status(), 400, "{q}");
        assert_eq!(response.json::<serde_json::Value>().await.unwrap()["faultstring"], message);
    }
    let pack_b: Vec<serde_json::Value> = get("pack=b").await.unwrap().json().await.unwrap();
    assert_eq!(pack_b.len(), 2);
    // st2api's own paths answer too, with a trailing slash as st2client sends it.
    let v1 = http.get(format!("{url}/v1/rules/")).header("X-Auth-Token", TOKEN).send().await.unwrap();
    assert_eq!(v1.status(), 200);
}

#[tokio::test]
async fn every_error_row_of_the_contract() {
    let (client, url) = setup().await;
    let existing = client.create(&timer_rule("examples", "dup")).await.unwrap();

    // 404 for an unknown ref, a bad id and a non-ObjectId, on GET, PUT and DELETE.
    for missing in ["examples.nope", "58e43d58c4da5f35c286a81f", "1"] {
        let expected = format!("Resource with a reference or id \"{missing}\" not found");
        assert_eq!(client.get(missing, false).await, Err(St2Error::NotFound { faultstring: expected.clone() }));
        assert_eq!(
            client.replace(missing, &timer_rule("x", "y")).await.unwrap_err(),
            St2Error::NotFound { faultstring: expected.clone() }
        );
        assert_eq!(client.delete(missing).await, Err(St2Error::NotFound { faultstring: expected }));
    }

    // 400: missing required property, unknown key, bad operator, unknown parameterless trigger.
    let http = reqwest::Client::new();
    let post = |body: serde_json::Value| {
        http.post(format!("{url}/api/v1/rules")).header("St2-Api-Key", API_KEY).json(&body).send()
    };
    for (body, message) in [
        (json!({"name": "rule"}), "'trigger' is a required property"),
        (
            json!({"name": "r", "x": 1, "trigger": {"type": "t"}, "action": {"ref": "a"}}),
            "Additional properties are not allowed ('x' was unexpected)",
        ),
    ] {
        let response = post(body).await.unwrap();
        assert_eq!(response.status(), 400);
        assert_eq!(response.json::<serde_json::Value>().await.unwrap()["faultstring"], message);
    }
    let mut bad = timer_rule("examples", "bad_operator");
    bad.criteria = json!({"trigger.x": {"type": "foo", "pattern": 1}}).as_object().unwrap().clone();
    match client.create(&bad).await {
        Err(St2Error::Invalid { faultstring }) => assert!(
            faultstring.starts_with("For field: trigger.x, operator foo not in list of allowed operators"),
            "{faultstring}"
        ),
        other => panic!("{other:?}"),
    }
    let unknown_trigger = Rule::new("examples", "unknown", "nowhere.trigger", "core.local");
    match client.create(&unknown_trigger).await {
        Err(St2Error::Invalid { faultstring }) => {
            assert!(faultstring.contains("does not exist in system"), "{faultstring}")
        }
        other => panic!("{other:?}"),
    }

    // 400 for PUT by ref (st2#6305).
    match client.replace("examples.dup", &timer_rule("examples", "dup")).await {
        Err(St2Error::Invalid { faultstring }) => {
            assert_eq!(faultstring, "ValidationError (RuleDB:pack.name) (Invalid ObjectID: ['id'])")
        }
        other => panic!("{other:?}"),
    }

    // 409 with the existing rule's id.
    match client.create(&timer_rule("examples", "dup")).await {
        Err(St2Error::Conflict { faultstring, conflict_id }) => {
            assert!(
                faultstring.contains("E11000 duplicate key error collection: st2.rule_d_b index: uid_1"),
                "{faultstring}"
            );
            assert_eq!(conflict_id, existing.id);
        }
        other => panic!("{other:?}"),
    }

    // 401 without credentials, and with a token st2 does not know.
    let anonymous = St2Client::new(&url, St2Auth::None).unwrap();
    assert_eq!(
        anonymous.list(None).await.unwrap_err(),
        St2Error::Unauthorized { faultstring: "Unauthorized - One of Token or API key required.".into() }
    );
    let stale = St2Client::new(&url, St2Auth::Token("expired".into())).unwrap();
    assert_eq!(
        stale.get("examples.dup", false).await.unwrap_err(),
        St2Error::Unauthorized { faultstring: "Unauthorized".into() }
    );
    let token = St2Client::new(&format!("{url}/v1"), St2Auth::Token(TOKEN.into())).unwrap();
    assert_eq!(token.get("examples.dup", false).await.unwrap().id, existing.id, "a valid token on st2api's /v1 path");

    // Every error maps to an oslc_core::Error with st2's message.
    let oslc: oslc_core::Error = St2Error::Invalid { faultstring: "'trigger' is a required property".into() }.into();
    assert_eq!(oslc.status(), 400);
    assert!(oslc.to_string().contains("'trigger' is a required property"));
    let oslc: oslc_core::Error = St2Error::Unauthorized { faultstring: "Unauthorized".into() }.into();
    assert_eq!(oslc.status(), 502, "st2 refusing the adapter is a gateway problem, not the client's");
}

#[tokio::test]
async fn unreachable_st2_is_unavailable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let client = St2Client::new(&format!("http://{addr}"), St2Auth::ApiKey("key".into())).unwrap();
    match client.list(None).await {
        Err(St2Error::Unavailable { message }) => assert!(message.contains("connect"), "{message}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn secrets_are_masked_unless_asked_and_never_in_debug() {
    let (client, _) = setup().await;
    let mut page = Rule::new("ops", "page", "core.st2.webhook", "pagerduty.create_incident");
    page.trigger.parameters = json!({"url": "alerts"}).as_object().unwrap().clone();
    page.action.parameters = json!({"api_key": "pd-SECRET", "title": "x"}).as_object().unwrap().clone();
    let created = client.create(&page).await.unwrap();
    assert_eq!(created.action.parameters["api_key"], MASKED);
    let id = created.id.unwrap();
    assert_eq!(client.get(&id, false).await.unwrap().action.parameters["api_key"], MASKED);
    assert_eq!(client.get(&id, true).await.unwrap().action.parameters["api_key"], "pd-SECRET");
    // Enabling keeps the secret (the CLI's GET is done with show_secrets, st2#6125).
    client.set_enabled(&id, true).await.unwrap();
    assert_eq!(client.get(&id, true).await.unwrap().action.parameters["api_key"], "pd-SECRET");
    let listed = client.list(None).await.unwrap();
    let in_list = listed.rules.iter().find(|rule| rule.id.as_deref() == Some(id.as_str())).unwrap();
    assert_eq!(in_list.action.parameters["api_key"], MASKED);
    let debug = format!("{:?}", St2Client::new("http://st2", St2Auth::ApiKey("key-SECRET".into())).unwrap());
    assert!(!debug.contains("SECRET"), "{debug}");
}

#[tokio::test]
async fn lists_share_the_stored_rules_and_mask_copies() {
    let st2 = SimulatedSt2::in_memory().with_secret("pagerduty.create_incident", "api_key");
    let webhook = |name: &str, action: &str| {
        let mut rule = Rule::new("ops", name, "core.st2.webhook", action);
        rule.trigger.parameters = json!({"url": name}).as_object().unwrap().clone();
        rule
    };
    let mut page = webhook("page", "pagerduty.create_incident");
    page.action.parameters = json!({"api_key": "pd-SECRET", "title": "x"}).as_object().unwrap().clone();
    st2.create(&page).await.unwrap();
    st2.create(&webhook("plain", "core.local")).await.unwrap();
    let (first, second) = (st2.list(None).await.unwrap(), st2.list(None).await.unwrap());
    assert_eq!(first.total, 2);
    // Ordered by pack, then name: the rule with a secret comes first.
    assert_eq!(first.rules[0].action.parameters["api_key"], MASKED);
    assert!(!Arc::ptr_eq(&first.rules[0], &second.rules[0]), "a masked rule is a copy");
    assert!(Arc::ptr_eq(&first.rules[1], &second.rules[1]), "a rule without secrets is not copied");
    let id = first.rules[0].id.clone().unwrap();
    assert_eq!(st2.get(&id, true).await.unwrap().action.parameters["api_key"], "pd-SECRET");
}

/// Actions and executions through the REST client, against the fake st2's simulation: `core.noop` succeeds at once,
/// `core.pause` is cancelled, bad parameters are st2's 400, secrets come back masked, a re-run is a new execution.
#[tokio::test]
async fn actions_and_executions() {
    use adapter_stackstorm::st2::{ExecutionStore, Status};
    use std::time::Duration;
    let (client, _) = setup().await;
    let actions = client.actions().await.unwrap();
    let refs: Vec<&str> = actions.iter().map(|a| a.reference.as_str()).collect();
    assert!(refs.contains(&"core.noop") && refs.contains(&"core.pause"), "{refs:?}");
    let local = client.action("core.local").await.unwrap();
    assert!(local.parameters["cmd"].required);
    assert!(matches!(client.action("core.nothing").await, Err(St2Error::NotFound { .. })));

    let noop = client.execute("core.noop", serde_json::Map::new()).await.unwrap();
    assert_eq!(noop.action.reference, "core.noop");
    assert!(noop.web_url.as_deref().is_some_and(|u| u.contains(&noop.id)));
    let done = client.wait_until_done(&noop.id, Duration::from_secs(10)).await.unwrap();
    assert_eq!(done.status(), Status::Succeeded);

    let pause = client.execute("core.pause", json!({"max_pause": 60}).as_object().unwrap().clone()).await.unwrap();
    let canceled = client.cancel(&pause.id).await.unwrap();
    assert!(matches!(canceled.status(), Status::Canceling | Status::Canceled), "{}", canceled.status);
    let canceled = client.wait_until_done(&pause.id, Duration::from_secs(10)).await.unwrap();
    assert_eq!(canceled.status(), Status::Canceled);
    assert!(matches!(client.cancel(&pause.id).await, Err(St2Error::Invalid { .. })), "done is done");

    let missing = client.execute("core.local", serde_json::Map::new()).await;
    assert!(matches!(missing, Err(St2Error::Invalid { ref faultstring }) if faultstring.contains("'cmd'")));
    let secret = json!({"api_key": "pd-1", "title": "down"}).as_object().unwrap().clone();
    let paged = client.execute("pagerduty.create_incident", secret).await.unwrap();
    assert_eq!(paged.parameters["api_key"], MASKED);
    let again = client.re_run(&paged.id).await.unwrap();
    assert_ne!(again.id, paged.id);
    let latest = client.executions(2).await.unwrap();
    assert_eq!(latest.len(), 2);
    assert_eq!(latest[0].id, again.id, "newest first");
}
