//! Markdown as descriptions and notes are written: a small subset,
//! rendered as elements (text is never interpreted as HTML).

use leptos::prelude::*;

/// A piece of a Markdown line: plain text, `**bold**`, `*italic*`,
/// `` `code` `` or `[a link](https://…)`.
#[derive(Debug, Clone, PartialEq)]
pub enum Span {
    Text(String),
    Bold(String),
    Italic(String),
    Code(String),
    Link { text: String, href: String },
}

/// The spans of one line. A link goes only to `http(s)://` or a path of
/// this server (`/…`): never `javascript:` or another scheme.
pub fn spans(line: &str) -> Vec<Span> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut rest = line;
    let closed = |s: &str, open: &str, close: &str| -> Option<(String, usize)> {
        let body = s.strip_prefix(open)?;
        let end = body.find(close)?;
        (end > 0).then(|| (body[..end].to_string(), open.len() + end + close.len()))
    };
    while let Some(c) = rest.chars().next() {
        let found = match c {
            '*' if rest.starts_with("**") => closed(rest, "**", "**").map(|(t, n)| (Span::Bold(t), n)),
            // Emphasis hugs its text: `2 * 3 * 4` stays as it is (and `_`,
            // common inside names like `val_loss`, is not emphasis).
            '*' => closed(rest, "*", "*")
                .filter(|(t, _)| !t.starts_with(' ') && !t.ends_with(' '))
                .map(|(t, n)| (Span::Italic(t), n)),
            '`' => closed(rest, "`", "`").map(|(t, n)| (Span::Code(t), n)),
            '[' => closed(rest, "[", "](").and_then(|(label, n)| {
                let (href, m) = closed(&rest[n - 1..], "(", ")")?;
                let safe = href.starts_with("https://") || href.starts_with("http://") || href.starts_with('/');
                safe.then(|| (Span::Link { text: label, href }, n - 1 + m))
            }),
            _ => None,
        };
        match found {
            Some((span, used)) => {
                if !text.is_empty() {
                    out.push(Span::Text(std::mem::take(&mut text)));
                }
                out.push(span);
                rest = &rest[used..];
            }
            None => {
                text.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    if !text.is_empty() {
        out.push(Span::Text(text));
    }
    out
}

fn inline(line: &str) -> AnyView {
    spans(line)
        .into_iter()
        .map(|s| match s {
            Span::Text(t) => t.into_any(),
            Span::Bold(t) => view! { <strong>{t}</strong> }.into_any(),
            Span::Italic(t) => view! { <em>{t}</em> }.into_any(),
            Span::Code(t) => view! { <code>{t}</code> }.into_any(),
            Span::Link { text, href } => view! { <a href=href rel="noopener noreferrer">{text}</a> }.into_any(),
        })
        .collect_view()
        .into_any()
}

/// A small Markdown subset (headings, lists, code blocks, paragraphs, and
/// in them bold, italic, code and links), rendered as elements: text is
/// never interpreted as HTML.
pub fn markdown(text: &str) -> impl IntoView {
    let mut blocks: Vec<AnyView> = Vec::new();
    let mut para: Vec<String> = Vec::new();
    let mut list: Vec<String> = Vec::new();
    let mut code: Option<Vec<String>> = None;
    let flush = |para: &mut Vec<String>, list: &mut Vec<String>, blocks: &mut Vec<AnyView>| {
        if !para.is_empty() {
            blocks.push(view! { <p>{inline(&para.join(" "))}</p> }.into_any());
            para.clear();
        }
        if !list.is_empty() {
            let items = std::mem::take(list).into_iter().map(|i| view! { <li>{inline(&i)}</li> }).collect_view();
            blocks.push(view! { <ul>{items}</ul> }.into_any());
        }
    };
    for line in text.lines() {
        if let Some(lines) = code.as_mut() {
            if line.trim_start().starts_with("```") {
                let body = std::mem::take(lines).join("\n");
                blocks.push(view! { <pre class="code">{body}</pre> }.into_any());
                code = None;
            } else {
                lines.push(line.to_string());
            }
            continue;
        }
        let trimmed = line.trim();
        if trimmed.starts_with("```") {
            flush(&mut para, &mut list, &mut blocks);
            code = Some(Vec::new());
        } else if let Some(h) = trimmed.strip_prefix('#') {
            flush(&mut para, &mut list, &mut blocks);
            let level = 1 + h.chars().take_while(|c| *c == '#').count();
            let title = inline(h.trim_start_matches('#').trim());
            blocks.push(match level {
                1 => view! { <h3>{title}</h3> }.into_any(),
                2 => view! { <h4>{title}</h4> }.into_any(),
                _ => view! { <h5>{title}</h5> }.into_any(),
            });
        } else if let Some(item) = trimmed.strip_prefix("- ").or_else(|| trimmed.strip_prefix("* ")) {
            if !para.is_empty() {
                flush(&mut para, &mut Vec::new(), &mut blocks);
            }
            list.push(item.to_string());
        } else if trimmed.is_empty() {
            flush(&mut para, &mut list, &mut blocks);
        } else {
            para.push(trimmed.to_string());
        }
    }
    if let Some(lines) = code {
        blocks.push(view! { <pre class="code">{lines.join("\n")}</pre> }.into_any());
    }
    flush(&mut para, &mut list, &mut blocks);
    blocks.collect_view()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_lines_keep_bold_code_and_safe_links_only() {
        let t = |s: &str| Span::Text(s.into());
        assert_eq!(
            spans("We dropped **adamw**: see `lr` in [the run](/experiments/1) or *later*."),
            vec![
                t("We dropped "),
                Span::Bold("adamw".into()),
                t(": see "),
                Span::Code("lr".into()),
                t(" in "),
                Span::Link { text: "the run".into(), href: "/experiments/1".into() },
                t(" or "),
                Span::Italic("later".into()),
                t("."),
            ]
        );
        assert_eq!(spans("[x](javascript:alert(1))"), vec![t("[x](javascript:alert(1))")]);
        assert_eq!(spans("2 * 3 * 4 and a_b"), vec![t("2 * 3 * 4 and a_b")]);
        assert_eq!(spans("unclosed **bold"), vec![t("unclosed **bold")]);
    }
}
