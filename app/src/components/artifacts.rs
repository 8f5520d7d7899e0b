//! The artifact browser on the run page: a lazily expanded file tree and a
//! preview of the chosen file (text, logs, JSON, YAML, CSV/TSV as a table,
//! Markdown, images, MLflow `MLmodel`), truncated for large files.

use super::status::ServerError;
use crate::app_error::AppError;
use crate::components::markdown::markdown;
use crate::components::mlmodel::MlModel;
use crate::format::{encode, encode_path, format_size};
use crate::server_fns::{list_run_artifacts, preview_artifact, Preview, PREVIEW_BYTES};
use leptos::prelude::*;
use leptos_router::components::A;
use tracking::FileInfo;

/// How a file is previewed, from its name.
pub fn kind_of(name: &str) -> &'static str {
    if name == "MLmodel" {
        return "mlmodel";
    }
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "png" | "jpg" | "jpeg" | "gif" | "svg" | "webp" => "image",
        "json" => "json",
        "yaml" | "yml" => "yaml",
        "csv" => "csv",
        "tsv" => "tsv",
        "md" | "markdown" => "markdown",
        _ => "text",
    }
}

/// Where a run's file downloads from (as an attachment).
pub fn download_url(run_id: &str, path: &str) -> String {
    format!("/get-artifact?run_uuid={}&path={}", encode(run_id), encode(path))
}

/// The listing of a run's artifact root and the preview of the selected
/// file. Created by the page component, outside any suspense, so that the
/// server and the browser create them once and in the same order.
pub type RootListing = Resource<Result<Vec<FileInfo>, AppError>>;
pub type PreviewData = Resource<Result<Option<Preview>, AppError>>;

pub fn artifact_resources(
    run_id: impl Fn() -> String + Send + Sync + Copy + 'static,
    active: impl Fn() -> bool + Send + Sync + Copy + 'static,
    selected: Signal<Option<String>>,
) -> (RootListing, PreviewData) {
    let root = Resource::new(
        move || (run_id(), active()),
        |(id, active)| async move {
            if active {
                list_run_artifacts(id, String::new()).await
            } else {
                Ok(Vec::new())
            }
        },
    );
    let preview = Resource::new(
        move || (run_id(), selected.get()),
        |(id, path)| async move {
            match path {
                Some(p) if !p.is_empty() => preview_artifact(id, p).await.map(Some),
                _ => Ok(None),
            }
        },
    );
    (root, preview)
}

#[component]
pub fn ArtifactBrowser(
    run_id: String,
    experiment_id: String,
    selected: Signal<Option<String>>,
    root: RootListing,
    preview: PreviewData,
) -> impl IntoView {
    let base = format!("/experiments/{experiment_id}/runs/{run_id}/artifacts");
    let rid = run_id.clone();
    view! {
        <div class="artifacts" id="artifacts">
            <div class="tree">
                <Transition fallback=|| view! { <p class="loading">"Loading files…"</p> }>
                    {
                        let base = base.clone();
                        let rid = rid.clone();
                        move || {
                            let base = base.clone();
                            let rid = rid.clone();
                            Suspend::new(async move {
                                match root.await {
                                    Ok(files) if files.is_empty() => {
                                        view! { <p class="empty">"This run has no artifacts."</p> }.into_any()
                                    }
                                    Ok(files) => view! { <Tree files run_id=rid base selected /> }.into_any(),
                                    Err(e) => view! { <ServerError error=e /> }.into_any(),
                                }
                            })
                        }
                    }
                </Transition>
            </div>
            <div class="preview">
                <Transition fallback=|| view! { <p class="loading">"Loading preview…"</p> }>
                    {
                        let rid = run_id.clone();
                        move || {
                            let rid = rid.clone();
                            Suspend::new(async move {
                                match preview.await {
                                    Ok(Some(p)) => view! { <PreviewPane preview=p run_id=rid /> }.into_any(),
                                    Ok(None) => {
                                        view! { <p class="empty">"Select a file to preview it."</p> }.into_any()
                                    }
                                    Err(e) => view! { <ServerError error=e /> }.into_any(),
                                }
                            })
                        }
                    }
                </Transition>
            </div>
        </div>
    }
    .into_any()
}

/// Folders before files, each by name (as file browsers list them).
pub fn folders_first(mut files: Vec<FileInfo>) -> Vec<FileInfo> {
    files.sort_by(|a, b| b.is_dir.cmp(&a.is_dir).then_with(|| a.path.cmp(&b.path)));
    files
}

#[component]
fn Tree(files: Vec<FileInfo>, run_id: String, base: String, selected: Signal<Option<String>>) -> impl IntoView {
    view! {
        <ul class="tree-list">
            {folders_first(files)
                .into_iter()
                .map(|f| view! { <TreeNode file=f run_id=run_id.clone() base=base.clone() selected /> })
                .collect_view()}
        </ul>
    }
}

#[component]
fn TreeNode(file: FileInfo, run_id: String, base: String, selected: Signal<Option<String>>) -> impl IntoView {
    let name = file.path.rsplit('/').next().unwrap_or(&file.path).to_string();
    if !file.is_dir {
        let path = file.path.clone();
        let href = format!("{base}/{}", encode_path(&file.path));
        let is_selected = move || selected.get().as_deref() == Some(path.as_str());
        return view! {
            <li class="file" class:selected=is_selected>
                <A href=href attr:data-path=file.path.clone()>{name}</A>
                <span class="muted size">{file.file_size.map(format_size).unwrap_or_default()}</span>
            </li>
        }
        .into_any();
    }
    // Folders load their contents when first opened.
    let dir = file.path.clone();
    let inside = selected.get_untracked().is_some_and(|s| s.starts_with(&format!("{dir}/")));
    // Rendered closed on the server; a folder holding the selected file
    // opens once the page is interactive (a nested suspense would not
    // hydrate).
    let (open, set_open) = signal(false);
    Effect::new(move |_| {
        if inside {
            set_open.set(true);
        }
    });
    // Folder contents load in the browser when the folder is opened.
    let children = LocalResource::new({
        let run_id = run_id.clone();
        move || {
            let (run_id, dir) = (run_id.clone(), open.get().then(|| dir.clone()));
            async move {
                match dir {
                    Some(d) => list_run_artifacts(run_id, d).await,
                    None => Ok(Vec::new()),
                }
            }
        }
    });
    let where_to = StoredValue::new((run_id, base));
    view! {
        <li class="dir">
            <button class="link folder" data-path=file.path.clone() on:click=move |_| set_open.update(|o| *o = !*o)>
                {move || if open.get() { "▾ " } else { "▸ " }}
                {name}
            </button>
            <Show when=move || open.get()>
                <Transition fallback=|| view! { <p class="loading">"…"</p> }>
                    {move || {
                        let (run_id, base) = where_to.get_value();
                        Suspend::new(async move {
                            match children.await {
                                Ok(files) => view! { <Tree files run_id base selected /> }.into_any(),
                                Err(e) => view! { <ServerError error=e /> }.into_any(),
                            }
                        })
                    }}
                </Transition>
            </Show>
        </li>
    }
    .into_any()
}

#[component]
fn PreviewPane(preview: Preview, run_id: String) -> impl IntoView {
    let url = download_url(&run_id, &preview.path);
    let head = view! {
        <div class="preview-head">
            <span class="mono">{preview.path.clone()}</span>
            <span class="muted">{format_size(preview.size as i64)}</span>
            <a href=url.clone() download="">"Download"</a>
        </div>
    };
    let truncated = preview.truncated.then(|| {
        view! {
            <p class="muted" id="preview-truncated">
                {format!("Showing the first {} of {}.", format_size(PREVIEW_BYTES as i64), format_size(preview.size as i64))}
            </p>
        }
    });
    let text = preview.text.clone().unwrap_or_default();
    let body = match preview.kind.as_str() {
        "image" => view! { <img class="artifact-image" src=url alt=preview.path.clone() /> }.into_any(),
        "binary" => view! { <p class="empty">"No preview for binary files."</p> }.into_any(),
        "csv" | "tsv" => table_view(&text, if preview.kind == "csv" { ',' } else { '\t' }, preview.truncated),
        "json" => view! { <pre class="code" data-kind="json">{pretty_json(&text)}</pre> }.into_any(),
        "markdown" => view! { <div class="markdown">{markdown(&text)}</div> }.into_any(),
        "mlmodel" => view! { <MlModel text=text.clone() /> }.into_any(),
        kind => view! { <pre class="code" data-kind=kind.to_string()>{text}</pre> }.into_any(),
    };
    view! {
        <div class="preview-body" data-kind=preview.kind.clone()>
            {head}
            {truncated}
            {body}
        </div>
    }
    .into_any()
}

/// Re-indents JSON without a JSON library: enough for reading.
fn pretty_json(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    let mut depth = 0usize;
    let mut in_str = false;
    let mut escaped = false;
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.push_str(&"  ".repeat(depth));
    };
    for c in text.chars() {
        if in_str {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_str = true;
                out.push(c);
            }
            '{' | '[' => {
                depth += 1;
                out.push(c);
                newline(&mut out, depth);
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    out
}

/// Splits one CSV line, honouring double quotes.
fn split_row(line: &str, sep: char) -> Vec<String> {
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cell.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            c if c == sep && !quoted => cells.push(std::mem::take(&mut cell)),
            c => cell.push(c),
        }
    }
    cells.push(cell);
    cells
}

const TABLE_ROWS: usize = 200;

fn table_view(text: &str, sep: char, truncated: bool) -> AnyView {
    let mut lines: Vec<&str> = text.lines().collect();
    if truncated {
        lines.pop(); // the last line may be cut
    }
    let Some((head, rows)) = lines.split_first() else {
        return view! { <p class="empty">"Empty file."</p> }.into_any();
    };
    let shown = rows.len().min(TABLE_ROWS);
    let head = split_row(head, sep);
    let rows: Vec<Vec<String>> = rows[..shown].iter().map(|r| split_row(r, sep)).collect();
    let note = (rows.len() < lines.len() - 1 || truncated).then(|| format!("Showing the first {shown} rows."));
    view! {
        {note.map(|n| view! { <p class="muted">{n}</p> })}
        <CsvTable head rows />
    }
    .into_any()
}

/// The rows in the order a column sorts them: numbers as numbers, words
/// alphabetically, empty cells last.
pub fn sorted_rows(rows: &[Vec<String>], column: usize, descending: bool) -> Vec<Vec<String>> {
    let mut out = rows.to_vec();
    let cell = |r: &Vec<String>| r.get(column).map(|c| c.trim().to_string()).unwrap_or_default();
    out.sort_by(|a, b| {
        let (x, y) = (cell(a), cell(b));
        match (x.is_empty(), y.is_empty()) {
            (true, true) => return std::cmp::Ordering::Equal,
            (true, false) => return std::cmp::Ordering::Greater,
            (false, true) => return std::cmp::Ordering::Less,
            _ => {}
        }
        let order = match (x.parse::<f64>(), y.parse::<f64>()) {
            (Ok(p), Ok(q)) => p.total_cmp(&q),
            _ => crate::aggregate::compare_labels(&x, &y),
        };
        if descending {
            order.reverse()
        } else {
            order
        }
    });
    out
}

/// A previewed table; a click on a column's header sorts by it (again:
/// the other way).
#[component]
fn CsvTable(head: Vec<String>, rows: Vec<Vec<String>>) -> impl IntoView {
    let sort = RwSignal::new(None::<(usize, bool)>);
    let heads = head
        .into_iter()
        .enumerate()
        .map(|(i, h)| {
            let arrow = move || match sort.get() {
                Some((c, false)) if c == i => " ↑",
                Some((c, true)) if c == i => " ↓",
                _ => "",
            };
            let click = move |_| {
                sort.update(|s| {
                    *s = match *s {
                        Some((c, false)) if c == i => Some((i, true)),
                        _ => Some((i, false)),
                    }
                })
            };
            view! { <th class="sortable" on:click=click>{h}{arrow}</th> }
        })
        .collect_view();
    let body = move || {
        let shown = match sort.get() {
            Some((c, desc)) => sorted_rows(&rows, c, desc),
            None => rows.clone(),
        };
        shown
            .into_iter()
            .map(|r| view! { <tr>{r.into_iter().map(|c| view! { <td>{c}</td> }).collect_view()}</tr> })
            .collect_view()
    };
    view! {
        <div class="table-scroll">
            <table class="grid" id="csv-preview">
                <thead><tr>{heads}</tr></thead>
                <tbody>{body}</tbody>
            </table>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_sort_by_a_column_and_trees_list_folders_first() {
        let rows: Vec<Vec<String>> = [["b", "10"], ["a", "9"], ["c", ""], ["run-10", "2"], ["run-2", "1.5"]]
            .iter()
            .map(|r| r.iter().map(|c| c.to_string()).collect())
            .collect();
        let col = |rows: Vec<Vec<String>>, i: usize| rows.into_iter().map(|r| r[i].clone()).collect::<Vec<_>>();
        assert_eq!(col(sorted_rows(&rows, 1, false), 1), ["1.5", "2", "9", "10", ""]);
        assert_eq!(col(sorted_rows(&rows, 1, true), 1), ["10", "9", "2", "1.5", ""]);
        assert_eq!(col(sorted_rows(&rows, 0, false), 0), ["a", "b", "c", "run-10", "run-2"]);
        let file = |path: &str, is_dir: bool| FileInfo { path: path.into(), is_dir, file_size: None };
        let listed = folders_first(vec![file("a.txt", false), file("z", true), file("b", true)]);
        assert_eq!(listed.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(), ["b", "z", "a.txt"]);
    }

    #[test]
    fn previews_read_their_formats() {
        assert_eq!(kind_of("MLmodel"), "mlmodel");
        assert_eq!(kind_of("plots/loss.PNG"), "image");
        assert_eq!(kind_of("train.log"), "text");
        assert_eq!(split_row(r#"a,"b, c","say ""hi""""#, ','), vec!["a", "b, c", r#"say "hi""#]);
        assert_eq!(pretty_json(r#"{"a":[1,2],"b":"x,y"}"#), "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": \"x,y\"\n}");
    }
}
