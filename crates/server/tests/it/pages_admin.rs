//! The account and administration pages, driven as a browser without JavaScript would:
//! forms posted with the session's CSRF token, answers read as HTML.

use crate::helpers::{PASSWORD, Response, TestApp, Who};
use crate::stories;
use reqwest::StatusCode;
use std::time::Duration;

fn location(response: &Response) -> String {
    response
        .headers
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("a redirect, got {}: {}", response.status, response.text))
        .to_owned()
}

/// The text of the element with `id` (up to its closing `<`).
fn text_of(html: &str, id: &str) -> String {
    let start = html
        .find(&format!("id=\"{id}\">"))
        .unwrap_or_else(|| panic!("an element #{id} in {html}"))
        + id.len()
        + 6;
    html[start..]
        .split('<')
        .next()
        .expect("text")
        .trim()
        .to_owned()
}

/// The id of user `username`, as the national agency's administrator reads it.
async fn user_id(app: &TestApp, username: &str) -> String {
    let admin = app.sign_in("nca.admin", PASSWORD).await;
    let users = app.get("/api/v1/users", &admin).await;
    users
        .json
        .as_array()
        .expect("a list")
        .iter()
        .find(|u| u["username"] == username)
        .unwrap_or_else(|| panic!("{username} in {}", users.text))["id"]
        .as_str()
        .expect("id")
        .to_owned()
}

async fn an_organisation_admin_lists_creates_and_disables_users(app: &TestApp) {
    let admin = app.sign_in("mps.admin", PASSWORD).await;
    let home = app.get("/", &admin).await;
    assert!(
        home.text.contains("href=\"/admin\""),
        "the Administration link"
    );
    let admin_home = app.get("/admin", &admin).await;
    assert_eq!(admin_home.status, StatusCode::OK, "{}", admin_home.text);
    assert!(admin_home.text.contains("href=\"/admin/users\""));

    let list = app.get("/admin/users", &admin).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    assert!(
        list.text.contains("mps.tasking"),
        "their own organisation's users"
    );
    assert!(
        !list.text.contains("wmp.tasking"),
        "no other organisation's"
    );

    // A form with errors shows them, linked from the summary, and keeps what was typed.
    let form = app.get("/admin/users/new", &admin).await;
    assert_eq!(form.status, StatusCode::OK);
    let wrong = app
        .post_form(
            "/admin/users/new",
            &admin,
            &[
                ("username", "x"),
                ("display_name", "DC Ada Lovelace"),
                ("organisation", "mps"),
                ("clearance", "sc"),
                ("dg_authority", "none"),
            ],
        )
        .await;
    assert_eq!(
        wrong.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        wrong.text
    );
    assert!(wrong.text.contains("There is a problem"));
    assert!(wrong.text.contains("href=\"#username\""));
    assert!(wrong.text.contains("href=\"#roles\""));
    assert!(
        wrong.text.contains("value=\"DC Ada Lovelace\""),
        "kept as typed"
    );
    // Another organisation's account is not theirs to make.
    let elsewhere = app
        .post_form(
            "/admin/users/new",
            &admin,
            &[
                ("username", "a.lovelace"),
                ("display_name", "DC Ada Lovelace"),
                ("organisation", "west-midlands"),
                ("roles", "tasking-officer"),
                ("clearance", "sc"),
                ("dg_authority", "none"),
            ],
        )
        .await;
    assert_eq!(elsewhere.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(elsewhere.text.contains("href=\"#organisation\""));

    let made = app
        .post_form(
            "/admin/users/new",
            &admin,
            &[
                ("username", "a.lovelace"),
                ("display_name", "DC Ada Lovelace"),
                ("organisation", "mps"),
                ("roles", "tasking-officer"),
                ("roles", "analyst"),
                ("clearance", "sc"),
                ("dg_authority", "none"),
            ],
        )
        .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.text);
    let password = text_of(&made.text, "one-time-password");
    assert!(password.len() >= 12, "a one-time password: {password}");
    let list = app.get("/admin/users", &admin).await;
    assert!(list.text.contains("a.lovelace"));
    // The one-time password works once, and must be changed.
    let newcomer = app.sign_in("a.lovelace", &password).await;
    let first = app.get("/", &newcomer).await;
    assert_eq!(location(&first), "/account/password");

    // Disabling: the account's page, then its state through the API.
    let id = user_id(app, "a.lovelace").await;
    let page = app.get(&format!("/admin/users/{id}"), &admin).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("Disable account"));
    let disabled = app
        .post_form(&format!("/admin/users/{id}/disable"), &admin, &[])
        .await;
    assert_eq!(disabled.status, StatusCode::SEE_OTHER, "{}", disabled.text);
    let api = app.get(&format!("/api/v1/users/{id}"), &admin).await;
    assert_eq!(api.json["status"], "disabled");
    let page = app.get(&format!("/admin/users/{id}"), &admin).await;
    assert!(page.text.contains("Enable account"));
    assert!(app.get("/api/v1/me", &newcomer).await.status == StatusCode::UNAUTHORIZED);
    let enabled = app
        .post_form(&format!("/admin/users/{id}/enable"), &admin, &[])
        .await;
    assert_eq!(enabled.status, StatusCode::SEE_OTHER);

    // Another organisation's user and settings do not exist for them.
    let theirs = user_id(app, "wmp.tasking").await;
    let other = app.get(&format!("/admin/users/{theirs}"), &admin).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    let other = app
        .post_form(&format!("/admin/users/{theirs}/disable"), &admin, &[])
        .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    let api = app.get(&format!("/api/v1/users/{theirs}"), &admin).await;
    assert_eq!(api.status, StatusCode::NOT_FOUND, "as the API answers");
    let orgs = app.get("/admin/organisations", &admin).await;
    assert!(orgs.text.contains("/admin/organisations/mps\""));
    assert!(!orgs.text.contains("/admin/organisations/west-midlands\""));
    assert_eq!(
        app.get("/admin/organisations/west-midlands", &admin)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/admin/organisations/west-midlands/webhooks/new", &admin)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let own = app.get("/admin/organisations/mps", &admin).await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.text);
    assert!(own.text.contains("Sign-in policy"));
    // An administrator cannot disable themselves.
    let me = user_id(app, "mps.admin").await;
    let myself = app
        .post_form(&format!("/admin/users/{me}/disable"), &admin, &[])
        .await;
    assert_eq!(myself.status, StatusCode::CONFLICT);
}

async fn a_non_administrator_is_refused_administration(app: &TestApp) {
    let officer = app.sign_in("wmp.tasking", PASSWORD).await;
    let home = app.get("/", &officer).await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(
        !home.text.contains("href=\"/admin\""),
        "no Administration link"
    );
    let someone = user_id(app, "mps.tasking").await;
    for path in [
        "/admin".to_owned(),
        "/admin/users".to_owned(),
        "/admin/users/new".to_owned(),
        format!("/admin/users/{someone}"),
        "/admin/organisations".to_owned(),
        "/admin/organisations/west-midlands".to_owned(),
        "/admin/audit".to_owned(),
        "/admin/audit/who-saw".to_owned(),
    ] {
        let page = app.get(&path, &officer).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}: {}", page.text);
    }
    let posted = app
        .post_form(
            "/admin/users/new",
            &officer,
            &[("username", "sneaky"), ("roles", "administrator")],
        )
        .await;
    assert_eq!(posted.status, StatusCode::FORBIDDEN);
    // Their own account is theirs to see.
    let account = app.get("/account", &officer).await;
    assert_eq!(account.status, StatusCode::OK);
    assert!(account.text.contains("wmp.tasking"));
    assert!(account.text.contains("West Midlands Police"));
    assert!(account.text.contains("SC"));
}

async fn a_user_creates_a_token_sees_its_secret_once_and_revokes_it(app: &TestApp) {
    let officer = app.sign_in("wmp.tasking", PASSWORD).await;
    let page = app.get("/account/tokens", &officer).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("You have no tokens"));

    let blank = app
        .post_form(
            "/account/tokens",
            &officer,
            &[("name", ""), ("expires", "30")],
        )
        .await;
    assert_eq!(blank.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(blank.text.contains("href=\"#name\""));

    let made = app
        .post_form(
            "/account/tokens",
            &officer,
            &[("name", "Force intelligence system"), ("expires", "90")],
        )
        .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.text);
    let secret = text_of(&made.text, "token-secret");
    assert!(secret.starts_with("cct_"), "{secret}");
    let bearer = Who::Bearer(secret.clone());
    let me = app.get("/api/v1/me", &bearer).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json["user"]["username"], "wmp.tasking");

    // Shown once: the list never shows it again.
    let page = app.get("/account/tokens", &officer).await;
    assert!(page.text.contains("Force intelligence system"));
    assert!(!page.text.contains(&secret));
    assert!(page.text.contains("data-confirm"));

    let tokens = app.get("/api/v1/tokens", &officer).await;
    let id = tokens.json[0]["id"].as_str().expect("id").to_owned();
    // Nobody else's to revoke.
    let other = app.sign_in("gmp.case", PASSWORD).await;
    let refused = app
        .post_form(&format!("/account/tokens/{id}/revoke"), &other, &[])
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get("/api/v1/me", &bearer).await.status, StatusCode::OK);

    let revoked = app
        .post_form(&format!("/account/tokens/{id}/revoke"), &officer, &[])
        .await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&revoked), "/account/tokens");
    assert_eq!(
        app.get("/api/v1/me", &bearer).await.status,
        StatusCode::UNAUTHORIZED
    );
    let page = app.get("/account/tokens", &officer).await;
    assert!(page.text.contains("revoked"));
}

fn raise_form(title: &str) -> Vec<(&str, &str)> {
    vec![
        ("title", title),
        ("kind", "assistance"),
        ("receiver", "nca"),
        ("threat_areas", "firearms"),
        ("international", "no"),
        ("sophistication", "standard"),
        ("urgency", "urgent"),
        ("case", "A robbery group has discharged firearms twice."),
        ("marking", "official"),
    ]
}

async fn audit_search_finds_a_read_and_who_saw_lists_the_reader(app: &TestApp) {
    let officer = app.sign_in("wmp.tasking", PASSWORD).await;
    let raised = app
        .post_form("/requests/new", &officer, &raise_form("Read and audited"))
        .await;
    assert_eq!(raised.status, StatusCode::SEE_OTHER, "{}", raised.text);
    let address = location(&raised);
    let id = address.trim_start_matches("/requests/").to_owned();
    assert_eq!(app.get(&address, &officer).await.status, StatusCode::OK);

    let admin = app.sign_in("nca.admin", PASSWORD).await;
    let by_who = app.get("/admin/audit?who=wmp.tasking", &admin).await;
    assert_eq!(by_who.status, StatusCode::OK, "{}", by_who.text);
    assert!(by_who.text.contains("record.read"), "{}", by_who.text);
    assert!(by_who.text.contains(&id));
    let by_record = app
        .get(
            &format!("/admin/audit?record_kind=request&record_id={id}"),
            &admin,
        )
        .await;
    assert!(by_record.text.contains("record.read"));
    let unknown = app.get("/admin/audit?who=nobody.here", &admin).await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unknown.text.contains("href=\"#who\""));

    let saw = app
        .get(
            &format!("/admin/audit/who-saw?kind=request&id={id}"),
            &admin,
        )
        .await;
    assert_eq!(saw.status, StatusCode::OK, "{}", saw.text);
    let readers = &saw.text[saw.text.find("Read by").expect("readers")..];
    assert!(readers.contains("<li>wmp.tasking</li>"), "{readers}");

    let verified = app.post_form("/admin/audit/verify", &admin, &[]).await;
    assert_eq!(verified.status, StatusCode::OK, "{}", verified.text);
    assert!(verified.text.contains("The audit chain is intact"));

    // An organisation's administrator may verify the chain but not read its entries.
    let force_admin = app.sign_in("mps.admin", PASSWORD).await;
    let audit = app.get("/admin/audit?who=wmp.tasking", &force_admin).await;
    assert_eq!(audit.status, StatusCode::OK);
    assert!(!audit.text.contains("record.read"));
    assert!(audit.text.contains("Verify the audit chain"));
    let saw = app
        .get(
            &format!("/admin/audit/who-saw?kind=request&id={id}"),
            &force_admin,
        )
        .await;
    assert_eq!(saw.status, StatusCode::FORBIDDEN);
}

async fn a_webhook_is_made_and_its_page_shows_its_deliveries(app: &TestApp) {
    // An address where nothing listens: the delivery is attempted and not delivered.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address")
    };
    let url = format!("http://{closed}/hook");
    let admin = app.sign_in("nca.admin", PASSWORD).await;
    let form = app
        .get("/admin/organisations/nca/webhooks/new", &admin)
        .await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.text);
    let wrong = app
        .post_form(
            "/admin/organisations/nca/webhooks/new",
            &admin,
            &[("url", "not an address")],
        )
        .await;
    assert_eq!(
        wrong.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        wrong.text
    );
    assert!(wrong.text.contains("href=\"#url\"") && wrong.text.contains("href=\"#kinds\""));
    assert!(wrong.text.contains("value=\"not an address\""));

    let made = app
        .post_form(
            "/admin/organisations/nca/webhooks/new",
            &admin,
            &[("url", &url), ("kinds", "request-received")],
        )
        .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.text);
    assert!(text_of(&made.text, "webhook-secret").starts_with("whsec_"));
    let hooks = app.get("/api/v1/organisations/nca/webhooks", &admin).await;
    let id = hooks.json[0]["id"].as_str().expect("id").to_owned();
    let address = format!("/admin/organisations/nca/webhooks/{id}");

    let officer = app.sign_in("wmp.tasking", PASSWORD).await;
    let raised = app
        .post_form("/requests/new", &officer, &raise_form("Told to a machine"))
        .await;
    let request = location(&raised);
    let submitted = app
        .post_form(&format!("{request}/submit"), &officer, &[])
        .await;
    assert_eq!(submitted.status, StatusCode::SEE_OTHER);

    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let page = loop {
        let page = app.get(&address, &admin).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        if page.text.contains("Request received") || tokio::time::Instant::now() >= deadline {
            break page;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(page.text.contains("Request received"), "{}", page.text);
    assert!(page.text.contains(request.trim_start_matches("/requests/")));
    assert!(
        !page.text.contains("whsec_"),
        "the secret is shown only once"
    );
    let organisation = app.get("/admin/organisations/nca", &admin).await;
    assert!(organisation.text.contains(&url));
    assert!(organisation.text.contains("delivered,"));

    // Another organisation's administrator finds nothing there.
    let force_admin = app.sign_in("mps.admin", PASSWORD).await;
    assert_eq!(
        app.get(&address, &force_admin).await.status,
        StatusCode::NOT_FOUND
    );

    let removed = app
        .post_form(&format!("{address}/remove"), &admin, &[])
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    let page = app.get(&address, &admin).await;
    assert!(page.text.contains("removed"));
}

/// A user sets up two-factor sign-in on their account page (the secret shown as text,
/// confirmed with a code) and turns it off; when their organisation requires it, the
/// account page is where they are let in to set it up.
async fn a_user_sets_up_two_factor_sign_in_on_their_account_page(app: &TestApp) {
    use concordat_domain::totp::TotpSecret;
    let officer = app.sign_in("mps.tasking", PASSWORD).await;
    let started = app.post_form("/account/totp", &officer, &[]).await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.text);
    let secret = TotpSecret::parse_base32(&text_of(&started.text, "totp-secret")).expect("base32");
    assert!(text_of(&started.text, "totp-uri").starts_with("otpauth://totp/"));
    let wrong = app
        .post_form("/account/totp/confirm", &officer, &[("code", "12345")])
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.text.contains("href=\"#code\""));
    let code = crate::helpers::totp_code(&secret, 0).await;
    let confirmed = app
        .post_form("/account/totp/confirm", &officer, &[("code", &code)])
        .await;
    assert_eq!(
        confirmed.status,
        StatusCode::SEE_OTHER,
        "{}",
        confirmed.text
    );
    let me = app.get("/api/v1/me", &officer).await;
    assert_eq!(me.json["user"]["totp_enabled"], true);
    let account = app.get("/account", &officer).await;
    assert!(account.text.contains("Turn off two-factor sign-in"));
    let code = crate::helpers::totp_code(&secret, 1).await;
    let off = app
        .post_form("/account/totp/off", &officer, &[("code", &code)])
        .await;
    assert_eq!(off.status, StatusCode::SEE_OTHER, "{}", off.text);
    let me = app.get("/api/v1/me", &officer).await;
    assert_eq!(me.json["user"]["totp_enabled"], false);

    // The organisation comes to require it: the user may open only their home and
    // account pages until they have set it up.
    let admin = app.sign_in("mps.admin", PASSWORD).await;
    let set = app
        .post_form(
            "/admin/organisations/mps/sign-in-policy",
            &admin,
            &[("require_totp", "yes")],
        )
        .await;
    assert_eq!(set.status, StatusCode::SEE_OTHER, "{}", set.text);
    let home = app.get("/", &officer).await;
    assert!(home.text.contains("href=\"/account#two-factor\""));
    assert_eq!(location(&app.get("/requests", &officer).await), "/");
    let account = app.get("/account", &officer).await;
    assert_eq!(account.status, StatusCode::OK);
    assert!(account.text.contains("Set up two-factor sign-in"));
    let started = app.post_form("/account/totp", &officer, &[]).await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.text);
}

stories!(
    a_user_sets_up_two_factor_sign_in_on_their_account_page,
    an_organisation_admin_lists_creates_and_disables_users,
    a_non_administrator_is_refused_administration,
    a_user_creates_a_token_sees_its_secret_once_and_revokes_it,
    audit_search_finds_a_read_and_who_saw_lists_the_reader,
    a_webhook_is_made_and_its_page_shows_its_deliveries,
);
