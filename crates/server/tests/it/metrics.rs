//! Metrics are served on their own listener, apart from the application.

use concordat_server::{AppState, ServerConfig};
use concordat_store::testing::TestStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_served_on_their_own_listener_and_not_by_the_application() {
    let t = TestStore::sqlite().await;
    let app_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let metrics_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let (app_addr, metrics_addr) = (
        app_listener.local_addr().expect("addr"),
        metrics_listener.local_addr().expect("addr"),
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(concordat_server::serve(
        AppState::new(
            t.store.clone(),
            ServerConfig::default(),
            crate::helpers::rules(),
        ),
        app_listener,
        Some(metrics_listener),
        async move {
            let _ = stopped.await;
        },
    ));
    concordat_server::install_tls_provider();
    let client = reqwest::Client::new();
    let health = client
        .get(format!("http://{app_addr}/healthz"))
        .send()
        .await
        .expect("answers");
    assert_eq!(health.status(), 200);
    let on_app = client
        .get(format!("http://{app_addr}/metrics"))
        .send()
        .await
        .expect("answers");
    assert_eq!(
        on_app.status(),
        404,
        "the application must not serve metrics"
    );
    let metrics = client
        .get(format!("http://{metrics_addr}/metrics"))
        .send()
        .await
        .expect("answers")
        .text()
        .await
        .expect("body");
    assert!(
        metrics.contains(
            "concordat_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"}"
        ),
        "{metrics}"
    );
    let _ = stop.send(());
    server.await.expect("joined").expect("clean shutdown");
    t.cleanup().await;
}
