//! Logged models and the registry on a real database (SQLite, or PostgreSQL
//! with `MLTRACK_TEST_POSTGRES`).

mod common;

use store::{LoggedModelQuery, NewLoggedModel, NewModelVersion, RegistryQuery};
use tracking::{ErrorCode, KeyValue, LoggedModelStatus, ModelMetric};

use common::open;

#[tokio::test]
async fn logged_models_live_under_their_experiment() {
    let (_dir, store) = open().await;
    let exp = store.create_experiment("m", None, &[]).await.unwrap();
    let model = store
        .create_logged_model(NewLoggedModel {
            experiment_id: exp.clone(),
            name: Some("clf".into()),
            params: vec![KeyValue::new("depth", "3")],
            ..Default::default()
        })
        .await
        .unwrap();
    let id = &model.info.model_id;
    assert_eq!(model.info.artifact_uri, format!("mlflow-artifacts:/{exp}/models/{id}/artifacts"));
    assert_eq!(model.info.status, LoggedModelStatus::LoggedModelPending);
    store
        .log_model_metrics(vec![
            ModelMetric {
                key: "acc".into(),
                value: 0.5,
                timestamp: 1,
                step: 0,
                model_id: id.clone(),
                run_id: None,
                dataset_name: None,
                dataset_digest: None,
            },
            ModelMetric {
                key: "acc".into(),
                value: f64::NAN,
                timestamp: 2,
                step: 1,
                model_id: id.clone(),
                run_id: None,
                dataset_name: Some("eval".into()),
                dataset_digest: None,
            },
        ])
        .await
        .unwrap();
    let got = store.get_logged_model(id, false).await.unwrap();
    assert_eq!(got.data.metrics.len(), 2);
    assert!(got.data.metrics[1].value.is_nan());

    let search = |filter: &str| LoggedModelQuery {
        experiment_ids: vec![exp.clone()],
        filter: filter.into(),
        ..Default::default()
    };
    assert_eq!(store.search_logged_models(&search("params.depth = '3'")).await.unwrap().items.len(), 1);
    // The latest value is NaN, which compares with nothing.
    assert!(store.search_logged_models(&search("metrics.acc > 0.1")).await.unwrap().items.is_empty());
    let bad = store.search_logged_models(&search("name ~ 'x'")).await.unwrap_err();
    assert_eq!(bad.error_code, ErrorCode::InvalidParameterValue);
    store.delete_logged_model(id).await.unwrap();
    assert_eq!(store.get_logged_model(id, false).await.unwrap_err().error_code, ErrorCode::ResourceDoesNotExist);
    assert!(store.search_logged_models(&search("")).await.unwrap().items.is_empty());
}

#[tokio::test]
async fn registry_renames_cascade_and_numbers_are_never_reused() {
    let (_dir, store) = open().await;
    store.create_registered_model("churn", vec![KeyValue::new("team", "growth")], None).await.unwrap();
    let new = |source: &str| NewModelVersion { name: "churn".into(), source: source.into(), ..Default::default() };
    for i in 1..=3 {
        let v = store.create_model_version(new(&format!("s3://b/m{i}"))).await.unwrap();
        assert_eq!(v.version, i.to_string());
    }
    store.set_registered_model_alias("churn", "champion", 2).await.unwrap();
    store.set_model_version_tag("churn", 2, "ok", "yes").await.unwrap();
    store.delete_model_version("churn", 3).await.unwrap();
    assert_eq!(store.create_model_version(new("s3://b/m4")).await.unwrap().version, "4");

    let renamed = store.rename_registered_model("churn", "retention").await.unwrap();
    assert_eq!(renamed.aliases[0].alias, "champion");
    assert_eq!(renamed.tags, vec![KeyValue::new("team", "growth")]);
    let v2 = store.get_model_version_by_alias("retention", "champion").await.unwrap();
    assert_eq!((v2.version.as_str(), v2.tags.len()), ("2", 1));
    assert_eq!(store.get_registered_model("churn").await.unwrap_err().error_code, ErrorCode::ResourceDoesNotExist);

    let versions = store
        .search_model_versions(&RegistryQuery { filter: "name = 'retention'".into(), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(versions.items.iter().map(|v| v.version.as_str()).collect::<Vec<_>>(), ["4", "2", "1"]);
    store.delete_registered_model("retention").await.unwrap();
    let none = store.search_model_versions(&RegistryQuery::default()).await.unwrap();
    assert!(none.items.is_empty());
}
