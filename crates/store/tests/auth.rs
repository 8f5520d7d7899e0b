//! Users, roles, grants and tokens on a real database (SQLite, or
//! PostgreSQL with `MLTRACK_TEST_POSTGRES`), and searches narrowed to
//! what a user may read inside the query.

mod common;

use common::open;
use store::auth;
use store::{ExperimentQuery, RegistryQuery};
use tracking::permissions::{Capability, Permission, Visible, EXPERIMENT, REGISTERED_MODEL};
use tracking::ErrorCode;

#[tokio::test]
async fn users_roles_and_grants_resolve_to_permissions() {
    let (_dir, store) = open().await;
    let alice = store.insert_user("alice", "hash-a", false).await.unwrap();
    let e = store.insert_user("alice", "hash-b", false).await.unwrap_err();
    assert_eq!(e.error_code, ErrorCode::ResourceAlreadyExists);
    assert_eq!(store.user_by_name("alice").await.unwrap().unwrap().password_hash, "hash-a");

    // Her own grants go to her own role, made on first use.
    auth::grant(store.as_ref(), &alice, EXPERIMENT, "7", Permission::Edit).await.unwrap();
    auth::grant(store.as_ref(), &alice, EXPERIMENT, "7", Permission::Manage).await.unwrap();
    auth::grant(store.as_ref(), &alice, EXPERIMENT, "8", Permission::Deny).await.unwrap();
    let roles = store.user_roles(alice.id).await.unwrap();
    assert_eq!(roles.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), [format!("__user_{}__", alice.id)]);

    // A team role adds to them.
    let team = store.insert_role("default", "team", Some("the team")).await.unwrap();
    assert_eq!(
        store.insert_role("default", "team", None).await.unwrap_err().error_code,
        ErrorCode::ResourceAlreadyExists
    );
    store.insert_role_permission(team.id, REGISTERED_MODEL, "*", "EDIT").await.unwrap();
    store.assign_role(alice.id, team.id).await.unwrap();
    assert_eq!(store.assign_role(alice.id, team.id).await.unwrap_err().error_code, ErrorCode::ResourceAlreadyExists);

    let r = auth::resolver(store.as_ref(), &alice, Permission::Read).await.unwrap();
    assert_eq!(r.on(EXPERIMENT, "7"), Permission::Manage);
    assert_eq!(r.on(EXPERIMENT, "8"), Permission::Deny);
    assert_eq!(r.on(EXPERIMENT, "9"), Permission::Read);
    assert_eq!(r.on(REGISTERED_MODEL, "bob's model"), Permission::Edit);
    assert_eq!(r.readable(EXPERIMENT), Visible::AllBut(vec!["8".into()]));

    // Renaming a model moves its grants; deleting the role takes its grants.
    let own = &roles[0];
    store.put_role_permission(own.id, REGISTERED_MODEL, "old name", "MANAGE").await.unwrap();
    store.rename_grants_on(REGISTERED_MODEL, "old name", "new name").await.unwrap();
    let r = auth::resolver(store.as_ref(), &alice, Permission::NoPermissions).await.unwrap();
    assert!(r.on(REGISTERED_MODEL, "new name").allows(Capability::Delete));
    store.delete_role(team.id).await.unwrap();
    let r = auth::resolver(store.as_ref(), &alice, Permission::NoPermissions).await.unwrap();
    assert_eq!(r.on(REGISTERED_MODEL, "other"), Permission::NoPermissions);
    assert!(store.role_permissions(team.id).await.unwrap().is_empty());

    // Deleting the user takes their role, grants and tokens with them.
    store.insert_token(alice.id, "ci", "token-hash", "token", None).await.unwrap();
    assert!(store.token_by_hash("token-hash", store::now_millis()).await.unwrap().is_some());
    store.delete_user(alice.id).await.unwrap();
    assert!(store.user_by_name("alice").await.unwrap().is_none());
    assert!(store.role(own.id).await.unwrap().is_none());
    assert!(store.token_by_hash("token-hash", store::now_millis()).await.unwrap().is_none());
    assert!(store.user_grants(alice.id, "default").await.unwrap().is_empty());
}

#[tokio::test]
async fn tokens_expire_and_are_revoked() {
    let (_dir, store) = open().await;
    let u = store.insert_user("bob", "h", false).await.unwrap();
    let now = store::now_millis();
    let live = store.insert_token(u.id, "live", "h1", "token", Some(now + 60_000)).await.unwrap();
    store.insert_token(u.id, "old", "h2", "token", Some(now - 1)).await.unwrap();
    assert_eq!(store.token_by_hash("h1", now).await.unwrap().unwrap().1.username, "bob");
    assert!(store.token_by_hash("h2", now).await.unwrap().is_none());
    assert!(store.revoke_token(u.id, live.id).await.unwrap());
    assert!(!store.revoke_token(u.id, live.id).await.unwrap());
    assert!(store.token_by_hash("h1", now).await.unwrap().is_none());
    // A new password ends the sessions.
    store.insert_token(u.id, "web", "s1", "session", None).await.unwrap();
    store.set_user_password(u.id, "h-new").await.unwrap();
    assert!(store.token_by_hash("s1", now).await.unwrap().is_none());
}

#[tokio::test]
async fn searches_show_only_what_the_user_may_read_and_page_right() {
    let (_dir, store) = open().await;
    let mut ids = Vec::new();
    for i in 0..6 {
        ids.push(store.create_experiment(&format!("e{i}"), None, &[]).await.unwrap());
    }
    for name in ["m1", "m2", "m3"] {
        store.create_registered_model(name, vec![], None).await.unwrap();
    }
    let hidden = vec![ids[1].clone(), ids[4].clone()];
    let mut seen = Vec::new();
    let mut token = None;
    loop {
        let q = ExperimentQuery {
            visible: Some(Visible::AllBut(hidden.clone())),
            filter: "name LIKE 'e%'".into(),
            max_results: 2,
            page_token: token,
            ..Default::default()
        };
        let page = store.search_experiments(&q).await.unwrap();
        assert!(page.items.len() == 2 || page.next_page_token.is_none());
        seen.extend(page.items.into_iter().map(|e| e.experiment_id));
        token = page.next_page_token;
        if token.is_none() {
            break;
        }
    }
    seen.sort();
    let mut expected: Vec<String> = ids.iter().filter(|i| !hidden.contains(i)).cloned().collect();
    expected.sort();
    assert_eq!(seen, expected);

    let q =
        ExperimentQuery { visible: Some(Visible::Only(vec![ids[2].clone()])), max_results: 100, ..Default::default() };
    let only: Vec<String> =
        store.search_experiments(&q).await.unwrap().items.into_iter().map(|e| e.experiment_id).collect();
    assert_eq!(only, [ids[2].clone()]);

    let q = RegistryQuery { visible: Some(Visible::Only(vec!["m2".into()])), ..Default::default() };
    let models: Vec<String> =
        store.search_registered_models(&q).await.unwrap().items.into_iter().map(|m| m.name).collect();
    assert_eq!(models, ["m2"]);
}
