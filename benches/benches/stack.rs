//! Where a request's CPU goes inside the process, without the kernel's share: the catalog answered by `st2-oslc`'s
//! whole router (request budgets, metrics, CORS, auth, `OSLC-Core-Version`, the handler), side by side with a bare
//! axum route answering the same bytes. (`serve` answers repeat requests for such documents from its
//! `DocumentCache` before this stack; other requests go through it.)
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use clap::Parser as _;
use criterion::{Criterion, criterion_group, criterion_main};
use http_body_util::BodyExt as _;
use tower::ServiceExt as _;

const CATALOG: &str = "/serviceProviders/catalog";

fn get(path: &str) -> Request {
    Request::get(path).header("accept", "text/turtle").body(Body::empty()).unwrap()
}

async fn answer(router: &axum::Router, path: &str) -> Bytes {
    let response = router.clone().oneshot(get(path)).await.unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.into_body().collect().await.unwrap().to_bytes()
}

fn stack(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    // The server kit's router with the layers added one by one, to see what each costs; with `own_cors`, as an
    // adapter that takes the kit's defaults has it (the kit's own CORS), otherwise without CORS; without
    // `route_layer`, with the kit's own layer left for the application to apply.
    let built = |own_cors: bool, route_layer: bool| {
        let mut builder = oslc_core::server::Server::builder("http://localhost:8080").unwrap();
        if !own_cors {
            builder = builder.with_cors(None);
        }
        if !route_layer {
            builder = builder.without_route_layer();
        }
        builder
            .with_service_provider(oslc_core::server::ServiceProviderConfig::new("1", "Bench").with_collection(
                oslc_core::server::Collection::new("changeRequests", Arc::new(oslc_core::InMemoryProvider::new())),
            ))
            .build::<()>()
            .unwrap()
    };
    let kit_with = |own_cors: bool| built(own_cors, true).router;
    let kit = || kit_with(false);
    let auth = || {
        oslc_core::server::auth::Auth::new(
            oslc_core::server::auth::NoCredentials,
            oslc_core::server::auth::Policy::protect_writes(),
        )
    };
    let metrics = oslc_core::server::Metrics::new();
    let stacks = [
        ("kit", kit()),
        ("kit with its default CORS", kit_with(true)),
        ("kit+auth", auth().layer(kit())),
        ("kit+auth+cors", auth().layer(kit()).layer(oslc_core::server::OslcCorsLayer::default())),
        (
            "kit+auth+cors+metrics",
            metrics.layer(auth().layer(kit()).layer(oslc_core::server::OslcCorsLayer::default())),
        ),
        (
            "kit+(metrics,cors,auth) as one layer",
            kit().layer(
                tower::ServiceBuilder::new()
                    .layer(metrics.clone())
                    .layer(oslc_core::server::OslcCorsLayer::default())
                    .layer(auth()),
            ),
        ),
        ("kit+(metrics,cors,auth,the kit's layer) as one layer", {
            let built = built(false, false);
            let layer = built.layer.clone();
            axum::Router::from(built).layer(
                tower::ServiceBuilder::new()
                    .layer(metrics.clone())
                    .layer(oslc_core::server::OslcCorsLayer::default())
                    .layer(auth())
                    .layer(layer),
            )
        }),
        (
            "kit+auth+cors+metrics+budgets",
            oslc_core::server::with_request_limits(
                metrics.layer(auth().layer(kit()).layer(oslc_core::server::OslcCorsLayer::default())),
                oslc_core::server::ServeConfig::default(),
            ),
        ),
    ];
    // `STACK_REPEAT=<n> STACK_ONLY=<name>` (one of the kit's stacks): answer n requests on it and stop, to count
    // the instructions they take with `valgrind --tool=callgrind` (steadier than time on a shared machine; the
    // adapter is not started, so no background task adds to the count).
    if let (Ok(repeat), Ok(only)) = (std::env::var("STACK_REPEAT"), std::env::var("STACK_ONLY")) {
        let repeat: usize = repeat.parse().unwrap();
        let chosen = stacks.iter().find(|(name, _)| *name == only).map(|(_, router)| router.clone()).unwrap();
        runtime.block_on(async {
            for _ in 0..repeat {
                answer(&chosen, CATALOG).await;
            }
        });
        std::process::exit(0);
    }
    let config = adapter_stackstorm::Config::parse_from(["st2-oslc", "--demo", "--api-token", "bench-token"]);
    let adapter =
        runtime.block_on(adapter_stackstorm::Adapter::start(&config, "127.0.0.1:8080".parse().unwrap())).unwrap();
    let served = oslc_core::server::with_request_limits(adapter.router(), oslc_core::server::ServeConfig::default());
    let catalog = runtime.block_on(answer(&served, CATALOG));
    let bare = axum::Router::new().route(
        CATALOG,
        axum::routing::get(move || {
            let catalog = catalog.clone();
            async move { ([(http::header::CONTENT_TYPE, "text/turtle")], catalog) }
        }),
    );
    let mut group = c.benchmark_group("stack");
    group.bench_function("catalog, bare axum route", |b| b.to_async(&runtime).iter(|| answer(&bare, CATALOG)));
    group.bench_function("catalog, st2-oslc as served", |b| b.to_async(&runtime).iter(|| answer(&served, CATALOG)));
    let router = adapter.router();
    group.bench_function("catalog, st2-oslc without request budgets", |b| {
        b.to_async(&runtime).iter(|| answer(&router, CATALOG))
    });
    for (name, router) in stacks {
        group.bench_function(format!("catalog, {name}"), |b| b.to_async(&runtime).iter(|| answer(&router, CATALOG)));
    }
    group.finish();
}

criterion_group!(benches, stack);
criterion_main!(benches);
