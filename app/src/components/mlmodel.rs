//! A model's `MLmodel` file as people read it: flavors, the top-level
//! fields, and its signature as a table of names and types.

use leptos::prelude::*;

/// The parts of an `MLmodel` file people look for, read from its YAML
/// without a YAML library: top-level keys and the flavors' names.
#[derive(Debug, Default, PartialEq)]
pub struct MlModelSummary {
    pub flavors: Vec<String>,
    pub fields: Vec<(String, String)>,
    pub signature_inputs: Option<String>,
    pub signature_outputs: Option<String>,
}

pub fn summarize_mlmodel(text: &str) -> MlModelSummary {
    let mut s = MlModelSummary::default();
    let mut section = String::new();
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        let trimmed = line.trim();
        let Some((key, value)) = trimmed.split_once(':') else { continue };
        let value = value.trim().trim_matches('\'').to_string();
        if indent == 0 {
            section = key.to_string();
            if !value.is_empty() {
                s.fields.push((key.to_string(), value));
            }
        } else if indent == 2 && section == "flavors" {
            s.flavors.push(key.to_string());
        } else if indent == 2 && section == "signature" {
            match key {
                "inputs" => s.signature_inputs = Some(value),
                "outputs" => s.signature_outputs = Some(value),
                _ => {}
            }
        }
    }
    s
}

/// One column of a model signature: its name (tensors may have none) and
/// type (`double`, `string`, `tensor float64 (-1, 3)`).
#[derive(Debug, Clone, PartialEq)]
pub struct SignatureColumn {
    pub name: String,
    pub kind: String,
    pub required: bool,
}

/// One column of a signature as MLflow writes it (typed: the browser's
/// bundle carries no untyped JSON reader).
#[derive(serde::Deserialize)]
struct ColumnSpec {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    name: String,
    required: Option<bool>,
    #[serde(rename = "tensor-spec")]
    tensor: Option<TensorSpec>,
}

#[derive(serde::Deserialize)]
struct TensorSpec {
    #[serde(default)]
    dtype: String,
    #[serde(default)]
    shape: Vec<i64>,
}

/// A signature's inputs or outputs as MLmodel keeps them (a JSON list), or
/// `None` when the text is not such a list.
pub fn signature_columns(json: &str) -> Option<Vec<SignatureColumn>> {
    let list: Vec<ColumnSpec> = serde_json::from_str(json).ok()?;
    Some(
        list.into_iter()
            .map(|c| SignatureColumn {
                kind: match c.tensor {
                    Some(t) => format!(
                        "tensor {} ({})",
                        t.dtype,
                        t.shape.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")
                    ),
                    None => c.kind,
                },
                name: c.name,
                required: c.required.unwrap_or(true),
            })
            .collect(),
    )
}

/// A signature's side as a Name / Type table (or its text, if unreadable).
fn signature_table(label: &'static str, id: &'static str, json: Option<String>) -> impl IntoView {
    json.map(|json| {
        let body = match signature_columns(&json) {
            Some(cols) => view! {
                <table class="grid signature" id=id>
                    <thead><tr><th>"Name"</th><th>"Type"</th></tr></thead>
                    <tbody>
                        {cols.into_iter().map(|c| view! {
                            <tr>
                                <td class="mono">{if c.name.is_empty() { "(unnamed)".to_string() } else { c.name }}</td>
                                <td class="mono">{c.kind}{(!c.required).then_some(" (optional)")}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            }
            .into_any(),
            None => view! { <p class="mono wrap">{json}</p> }.into_any(),
        };
        view! { <h3>{label}</h3> {body} }
    })
}

#[component]
pub fn MlModel(text: String) -> impl IntoView {
    let s = summarize_mlmodel(&text);
    view! {
        <div class="mlmodel" id="mlmodel">
            <table class="kv"><tbody>
                <tr>
                    <th>"Flavors"</th>
                    <td>{s.flavors.join(", ")}</td>
                </tr>
                {s
                    .fields
                    .into_iter()
                    .map(|(k, v)| {
                        view! {
                            <tr>
                                <th>{k}</th>
                                <td class="mono wrap">{v}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody></table>
            {signature_table("Signature inputs", "signature-inputs", s.signature_inputs)}
            {signature_table("Signature outputs", "signature-outputs", s.signature_outputs)}
            <details>
                <summary>"MLmodel file"</summary>
                <pre class="code">{text}</pre>
            </details>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_mlmodel_file_is_summarized() {
        let s = summarize_mlmodel(
            "artifact_path: model\nflavors:\n  python_function:\n    env: x\n  sklearn:\n    pickled_model: model.pkl\n\
             mlflow_version: 3.17.2\nsignature:\n  inputs: '[{\"type\": \"double\"}]'\n  outputs: '[{\"type\": \"long\"}]'\n",
        );
        assert_eq!(s.flavors, vec!["python_function", "sklearn"]);
        assert!(s.fields.contains(&("mlflow_version".into(), "3.17.2".into())));
        assert_eq!(s.signature_inputs.as_deref(), Some("[{\"type\": \"double\"}]"));
        let cols = signature_columns(
            r#"[{"type": "double", "name": "x", "required": true}, {"type": "string", "name": "y", "required": false},
                {"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 3]}}]"#,
        )
        .unwrap();
        let seen: Vec<(&str, &str, bool)> =
            cols.iter().map(|c| (c.name.as_str(), c.kind.as_str(), c.required)).collect();
        assert_eq!(seen, [("x", "double", true), ("y", "string", false), ("", "tensor float64 (-1, 3)", true)]);
        assert_eq!(signature_columns("not json"), None);
    }
}
