//! MLflow's search rules, once for every backend: a search request (runs,
//! experiments, logged models, registered models, model versions) becomes a
//! typed search, its filter parsed into clauses, its order into keys, its
//! page token into an offset and its page size checked, or MLflow's error
//! before any backend sees it. Backends compile a typed search into their
//! query language (`sql::compile`).

use crate::registry::RegistryQuery;
use crate::{decode_offset, ExperimentQuery, LoggedModelQuery, RunQuery};
use tracking::filter::{self, Clause, Entity, Op, Operand, OrderBy};
use tracking::permissions::Visible;
use tracking::registry::{
    SEARCH_MODEL_VERSIONS_DEFAULT, SEARCH_MODEL_VERSIONS_MAX, SEARCH_REGISTERED_MODELS_DEFAULT,
    SEARCH_REGISTERED_MODELS_MAX,
};
use tracking::validation::{validate_max_results, MAX_RESULTS_PER_PAGE};
use tracking::{Error, LoggedModelStatus, Result, ViewType};

/// The parts every search has.
#[derive(Debug, Clone, PartialEq)]
pub struct Search {
    pub clauses: Vec<Clause>,
    pub order: Vec<OrderKey>,
    /// Where the page starts.
    pub offset: i64,
    /// The page size.
    pub limit: i64,
}

/// One `order_by` key; a logged model's metric may be taken on one dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderKey {
    pub by: OrderBy,
    pub dataset: Option<Dataset>,
    /// A param ordered by the number its text spells (`RunQuery::numeric_params`).
    pub numeric: bool,
}

/// A dataset named in a logged-model search, with its digest if given.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    pub name: String,
    pub digest: Option<String>,
}

impl OrderKey {
    fn plain(by: OrderBy) -> Self {
        OrderKey { by, dataset: None, numeric: false }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct RunSearch {
    pub experiment_ids: Vec<i64>,
    pub view_type: ViewType,
    pub search: Search,
}

/// `search-runs`: MLflow ignores experiment ids that are not numbers (no
/// experiment has them), so they find nothing rather than fail.
pub fn runs(query: &RunQuery) -> Result<RunSearch> {
    validate_max_results(query.max_results, MAX_RESULTS_PER_PAGE)?;
    let search = Search {
        clauses: filter::parse_run_filter(&query.filter)?,
        order: filter::parse_run_order_by(&query.order_by)?
            .into_iter()
            .map(|by| OrderKey { numeric: query.numeric_params && by.entity == Entity::Param, ..OrderKey::plain(by) })
            .collect(),
        offset: decode_offset(query.page_token.as_deref())?,
        limit: query.max_results,
    };
    let experiment_ids = query.experiment_ids.iter().filter_map(|e| experiment_id(e).ok()).collect();
    Ok(RunSearch { experiment_ids, view_type: query.view_type, search })
}

#[derive(Debug, Clone, PartialEq)]
pub struct ExperimentSearch {
    pub view_type: ViewType,
    pub visible: Option<Visible>,
    pub search: Search,
}

pub fn experiments(query: &ExperimentQuery) -> Result<ExperimentSearch> {
    validate_max_results(query.max_results, MAX_RESULTS_PER_PAGE)?;
    let search = Search {
        clauses: filter::parse_experiment_filter(&query.filter)?,
        order: filter::parse_experiment_order_by(&query.order_by)?.into_iter().map(OrderKey::plain).collect(),
        offset: decode_offset(query.page_token.as_deref())?,
        limit: query.max_results,
    };
    Ok(ExperimentSearch { view_type: query.view_type, visible: query.visible.clone(), search })
}

/// MLflow's default page size for `search_logged_models`, and its largest.
const LOGGED_MODELS_DEFAULT: i64 = 100;
const LOGGED_MODELS_MAX: i64 = 1000;

#[derive(Debug, Clone, PartialEq)]
pub struct LoggedModelSearch {
    /// Empty: every experiment.
    pub experiment_ids: Vec<i64>,
    /// Only models with metrics on one of these (empty: no such limit).
    pub datasets: Vec<Dataset>,
    pub search: Search,
}

pub fn logged_models(query: &LoggedModelQuery) -> Result<LoggedModelSearch> {
    let experiment_ids = query.experiment_ids.iter().map(|e| experiment_id(e)).collect::<Result<Vec<i64>>>()?;
    let limit = match query.max_results {
        0 => LOGGED_MODELS_DEFAULT,
        n if !(1..=LOGGED_MODELS_MAX).contains(&n) => {
            return Err(Error::invalid(format!(
                "Invalid value {n} for parameter 'max_results' supplied. It must be between 1 and {LOGGED_MODELS_MAX}."
            )))
        }
        n => n,
    };
    let clauses = filter::parse_logged_model_filter(&query.filter)?
        .into_iter()
        .map(logged_model_clause)
        .collect::<Result<Vec<_>>>()?;
    if query.order_by.len() > filter::MAX_ORDER_BY_KEYS {
        return Err(Error::invalid(format!(
            "Invalid order_by: at most {} keys, got {}.",
            filter::MAX_ORDER_BY_KEYS,
            query.order_by.len()
        )));
    }
    let mut order = Vec::with_capacity(query.order_by.len());
    for o in &query.order_by {
        let mut by = filter::parse_logged_model_order_key(&o.field_name)?;
        if !matches!(by.entity, Entity::Attribute | Entity::Metric) {
            return Err(Error::invalid(format!(
                "Invalid order_by field '{}': order by an attribute or a metric",
                o.field_name
            )));
        }
        by.ascending = o.ascending;
        let dataset = o.dataset_name.clone().map(|name| Dataset { name, digest: o.dataset_digest.clone() });
        order.push(OrderKey { by, dataset, numeric: false });
    }
    let mut datasets = Vec::with_capacity(query.datasets.len());
    for (name, digest) in &query.datasets {
        if name.is_empty() {
            return Err(Error::invalid("`dataset_name` in the `datasets` clause must be specified."));
        }
        datasets.push(Dataset { name: name.clone(), digest: digest.clone() });
    }
    let search = Search { clauses, order, offset: decode_offset(query.page_token.as_deref())?, limit };
    Ok(LoggedModelSearch { experiment_ids, datasets, search })
}

/// A logged model's `status` is compared by name (`READY` or
/// `LOGGED_MODEL_READY`) and stored as its number; datasets are not a
/// logged model's to filter on.
fn logged_model_clause(mut clause: Clause) -> Result<Clause> {
    match clause.entity {
        Entity::Attribute if clause.key == "status" => {
            if matches!(clause.op, Op::Like | Op::ILike) {
                return Err(Error::invalid("Invalid comparator for 'status': use = , != , IN or NOT IN"));
            }
            let number = |text: &str| {
                let upper = text.to_ascii_uppercase();
                LoggedModelStatus::parse(&upper)
                    .or_else(|| LoggedModelStatus::parse(&format!("LOGGED_MODEL_{upper}")))
                    .map(|s| s.as_int())
                    .ok_or_else(|| Error::invalid(format!("Invalid logged model status '{text}'")))
            };
            clause.value = match &clause.value {
                Operand::Text(t) => Operand::Number(number(t)? as f64),
                Operand::List(items) => {
                    Operand::List(items.iter().map(|t| number(t).map(|n| n.to_string())).collect::<Result<_>>()?)
                }
                other => other.clone(),
            };
            Ok(clause)
        }
        Entity::Dataset => Err(Error::invalid("datasets cannot be filtered on in search_logged_models")),
        _ => Ok(clause),
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct RegistrySearch {
    pub visible: Option<Visible>,
    pub search: Search,
}

pub fn registered_models(query: &RegistryQuery) -> Result<RegistrySearch> {
    let limit = registry_page_size(query.max_results, SEARCH_REGISTERED_MODELS_DEFAULT, SEARCH_REGISTERED_MODELS_MAX)?;
    let search = Search {
        clauses: filter::parse_registered_model_filter(&query.filter)?,
        order: filter::parse_registered_model_order_by(&query.order_by)?.into_iter().map(OrderKey::plain).collect(),
        offset: decode_offset(query.page_token.as_deref())?,
        limit,
    };
    Ok(RegistrySearch { visible: query.visible.clone(), search })
}

pub fn model_versions(query: &RegistryQuery) -> Result<RegistrySearch> {
    let limit = registry_page_size(query.max_results, SEARCH_MODEL_VERSIONS_DEFAULT, SEARCH_MODEL_VERSIONS_MAX)?;
    let search = Search {
        clauses: filter::parse_model_version_filter(&query.filter)?,
        order: filter::parse_model_version_order_by(&query.order_by)?.into_iter().map(OrderKey::plain).collect(),
        offset: decode_offset(query.page_token.as_deref())?,
        limit,
    };
    Ok(RegistrySearch { visible: query.visible.clone(), search })
}

fn registry_page_size(max_results: Option<i64>, default: i64, max: i64) -> Result<i64> {
    match max_results {
        None | Some(0) => Ok(default),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(n) => {
            Err(Error::invalid(format!("Invalid value for max_results. It must be at most {max}, but got value {n}")))
        }
    }
}

/// An experiment id as MLflow's stores take it: a number.
/// Only the decimal spelling of the number is taken: `01`, `+1` or ` 1`
/// would be experiment 1 to the database but another id to a permission
/// check that compares text, so they are refused everywhere alike.
pub fn experiment_id(experiment_id: &str) -> Result<i64> {
    experiment_id.parse::<i64>().ok().filter(|n| n.to_string() == experiment_id).ok_or_else(|| {
        Error::invalid(format!("Invalid experiment ID '{experiment_id}'. Experiment ID must be a valid integer."))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LoggedModelOrder;

    #[test]
    fn run_search_is_parsed_once_with_mlflows_rules() {
        let query = RunQuery {
            experiment_ids: vec!["1".into(), "x".into()],
            filter: "metrics.loss < 0.5 and params.lr = '0.1'".into(),
            max_results: 10,
            order_by: vec!["metrics.loss ASC".into()],
            page_token: Some(crate::encode_offset(20)),
            ..RunQuery::default()
        };
        let parsed = runs(&query).unwrap();
        assert_eq!(parsed.experiment_ids, vec![1]);
        assert_eq!(parsed.search.clauses.len(), 2);
        assert_eq!(parsed.search.order[0].by.key, "loss");
        assert!(parsed.search.order[0].by.ascending);
        assert_eq!((parsed.search.offset, parsed.search.limit), (20, 10));

        let too_many = RunQuery { max_results: 50_001, ..query.clone() };
        assert!(runs(&too_many).unwrap_err().message.contains("at most 50000"));
        let bad_token = RunQuery { page_token: Some("???".into()), ..query };
        assert!(runs(&bad_token).unwrap_err().message.contains("page token"));
    }

    #[test]
    fn logged_model_status_is_compared_by_its_number() {
        let query = LoggedModelQuery {
            filter: "status = 'READY' AND status IN ('PENDING', 'LOGGED_MODEL_UPLOAD_FAILED')".into(),
            ..LoggedModelQuery::default()
        };
        let parsed = logged_models(&query).unwrap();
        assert_eq!(parsed.search.limit, LOGGED_MODELS_DEFAULT);
        assert_eq!(
            parsed.search.clauses[0].value,
            Operand::Number(LoggedModelStatus::LoggedModelReady.as_int() as f64)
        );
        assert_eq!(
            parsed.search.clauses[1].value,
            Operand::List(vec![
                LoggedModelStatus::LoggedModelPending.as_int().to_string(),
                LoggedModelStatus::LoggedModelUploadFailed.as_int().to_string()
            ])
        );
        let like = LoggedModelQuery { filter: "status LIKE 'R%'".into(), ..LoggedModelQuery::default() };
        assert!(logged_models(&like).unwrap_err().message.contains("Invalid comparator"));
        let unknown = LoggedModelQuery { filter: "status = 'DONE'".into(), ..LoggedModelQuery::default() };
        assert!(logged_models(&unknown).unwrap_err().message.contains("'DONE'"));
    }

    #[test]
    fn logged_model_order_and_datasets_are_checked() {
        let by_param = LoggedModelQuery {
            order_by: vec![LoggedModelOrder { field_name: "params.lr".into(), ..LoggedModelOrder::default() }],
            ..LoggedModelQuery::default()
        };
        assert!(logged_models(&by_param).unwrap_err().message.contains("order by an attribute or a metric"));
        let no_name = LoggedModelQuery { datasets: vec![(String::new(), None)], ..LoggedModelQuery::default() };
        assert!(logged_models(&no_name).unwrap_err().message.contains("dataset_name"));
        let bad_id = LoggedModelQuery { experiment_ids: vec!["one".into()], ..LoggedModelQuery::default() };
        assert!(logged_models(&bad_id).unwrap_err().message.contains("must be a valid integer"));
    }

    #[test]
    fn registry_page_sizes_follow_mlflow() {
        let query = RegistryQuery::default();
        assert_eq!(registered_models(&query).unwrap().search.limit, SEARCH_REGISTERED_MODELS_DEFAULT);
        assert_eq!(model_versions(&query).unwrap().search.limit, SEARCH_MODEL_VERSIONS_DEFAULT);
        let big = RegistryQuery { max_results: Some(SEARCH_REGISTERED_MODELS_MAX + 1), ..RegistryQuery::default() };
        assert!(registered_models(&big).unwrap_err().message.contains("must be at most"));
    }
}
