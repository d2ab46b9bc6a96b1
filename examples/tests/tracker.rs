//! Runs the `tracker` example as a process and talks OSLC to it over loopback.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use testkit::process::Running;

const TOKEN: &str = "tracker-test-token";

/// Starts the example on a free port and waits for its `listening on` line.
fn start() -> (Running, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tracker"));
    command.args(["--listen", "127.0.0.1:0", "--api-token", TOKEN]);
    let (running, addr) = testkit::process::start_listening(command);
    (running, format!("http://{addr}"))
}

#[tokio::test]
async fn the_toy_tracker_serves_oslc() {
    let (_tracker, base) = start();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::new();
    let crs = format!("{base}/serviceProviders/1/changeRequests");

    let catalog = client.get(format!("{base}/serviceProviders/catalog")).send().await.unwrap();
    assert_eq!(catalog.status(), 200);
    assert!(catalog.text().await.unwrap().contains(&crs), "the catalog leads to the collection");

    // Writes need the token: without it, 401 and nothing is created.
    let anonymous = client
        .post(&crs)
        .header("content-type", "text/turtle")
        .body("<> <http://purl.org/dc/terms/title> \"Anonymous\" .")
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    assert!(anonymous.headers().get_all("www-authenticate").iter().any(|v| v.to_str().unwrap().starts_with("Basic")));

    let created = client
        .post(&crs)
        .basic_auth("someone", Some(TOKEN))
        .header("content-type", "text/turtle")
        .body("<> <http://purl.org/dc/terms/title> \"Review rule core.notify\" .")
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(location, format!("{crs}/1"));
    let etag = created.headers()["etag"].to_str().unwrap().to_owned();

    // Missing title: the tool refuses, nothing is created.
    let refused = client
        .post(&crs)
        .bearer_auth(TOKEN)
        .header("content-type", "text/turtle")
        .body("<> a <http://open-services.net/ns/cm#ChangeRequest> .")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);

    // Close it with a conditional PUT.
    let closed = "<> <http://purl.org/dc/terms/title> \"Review rule core.notify\" ; \
                  <http://open-services.net/ns/cm#closed> true .";
    let put = client
        .put(&location)
        .bearer_auth(TOKEN)
        .header("content-type", "text/turtle")
        .header("if-match", &etag)
        .body(closed)
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    let now = client.get(&location).header("accept", "application/n-triples").send().await.unwrap();
    let text = now.text().await.unwrap();
    assert!(
        text.contains("<http://open-services.net/ns/cm#closed> \"true\"^^<http://www.w3.org/2001/XMLSchema#boolean>"),
        "{text}"
    );
    let stale = client
        .put(&location)
        .bearer_auth(TOKEN)
        .header("content-type", "text/turtle")
        .header("if-match", &etag)
        .body(closed)
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 412);

    let list = client.get(&crs).send().await.unwrap().text().await.unwrap();
    assert_eq!(list.matches("ldp:contains").count(), 1, "one member: {list}");

    // Its own changes, served as a TRS through the library: the creation, then the PUT that closed it (the refused
    // and the stale writes changed nothing, so they are no events).
    let trs = client.get(format!("{base}/trs")).header("accept", "application/n-triples").send().await.unwrap();
    assert_eq!(trs.status(), 200);
    let trs = trs.text().await.unwrap();
    let changed = format!("<http://open-services.net/ns/core/trs#changed> <{location}>");
    assert_eq!(trs.matches(&changed).count(), 2, "{trs}");
    for kind in ["Creation", "Modification"] {
        let typed =
            format!("<http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://open-services.net/ns/core/trs#{kind}>");
        assert_eq!(trs.matches(&typed).count(), 1, "one {kind}: {trs}");
    }
    let base_page = client.get(format!("{base}/trs/base")).header("accept", "application/n-triples").send().await;
    assert!(base_page.unwrap().text().await.unwrap().contains(&format!("<{location}>")), "the Base lists it");
    assert_eq!(client.get(format!("{base}/readyz")).send().await.unwrap().status(), 200);
    let metrics = client.get(format!("{base}/metrics")).send().await.unwrap().text().await.unwrap();
    let catalog = r#"http_requests_total{method="GET",route="/serviceProviders/catalog",status="200"} 1"#;
    assert!(metrics.contains(catalog), "{metrics}");
    let refused = r#"http_requests_total{method="POST",route="/serviceProviders/1/changeRequests",status="401"} 1"#;
    assert!(metrics.contains(refused), "refused requests are counted too: {metrics}");
}
