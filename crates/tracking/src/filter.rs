//! MLflow's search grammar (`mlflow/utils/search_utils.py`) as a small
//! hand-written parser: `filter_string` for runs and experiments, and
//! `order_by` clauses.
//!
//! A filter is comparisons joined by `AND`; keys are `<entity>.<key>` with
//! the key bare, backticked or double-quoted. Errors say what was expected and
//! the character position where parsing stopped.

use crate::error::{Error, Result};

/// What a key refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    Attribute,
    Metric,
    Param,
    Tag,
    Dataset,
}

impl Entity {
    pub fn as_str(self) -> &'static str {
        match self {
            Entity::Attribute => "attribute",
            Entity::Metric => "metric",
            Entity::Param => "parameter",
            Entity::Tag => "tag",
            Entity::Dataset => "dataset",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Like,
    ILike,
    In,
    NotIn,
    IsNull,
    IsNotNull,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Like => "LIKE",
            Op::ILike => "ILIKE",
            Op::In => "IN",
            Op::NotIn => "NOT IN",
            Op::IsNull => "IS NULL",
            Op::IsNotNull => "IS NOT NULL",
        }
    }
    fn is_numeric(self) -> bool {
        matches!(self, Op::Eq | Op::Ne | Op::Lt | Op::Le | Op::Gt | Op::Ge)
    }
}

/// The right-hand side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    None,
    Text(String),
    Number(f64),
    List(Vec<String>),
}

/// One `<entity>.<key> <op> <value>` comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct Clause {
    pub entity: Entity,
    pub key: String,
    pub op: Op,
    pub value: Operand,
}

/// One parsed `order_by` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderBy {
    pub entity: Entity,
    pub key: String,
    pub ascending: bool,
}

/// Run attributes that can be searched and ordered on (after alias translation).
pub const RUN_ATTRIBUTES: &[&str] =
    &["artifact_uri", "end_time", "run_id", "run_name", "start_time", "status", "user_id"];
const RUN_NUMERIC_ATTRIBUTES: &[&str] = &["start_time", "end_time"];
pub const EXPERIMENT_ATTRIBUTES: &[&str] = &["name", "creation_time", "last_update_time"];
pub const EXPERIMENT_ORDER_ATTRIBUTES: &[&str] = &["name", "experiment_id", "creation_time", "last_update_time"];
const EXPERIMENT_NUMERIC_ATTRIBUTES: &[&str] = &["creation_time", "last_update_time"];
const DATASET_ATTRIBUTES: &[&str] = &["name", "digest", "context"];
pub const LOGGED_MODEL_ATTRIBUTES: &[&str] =
    &["name", "model_id", "model_type", "status", "source_run_id", "creation_timestamp", "last_updated_timestamp"];
pub const REGISTERED_MODEL_ATTRIBUTES: &[&str] = &["name"];
pub const REGISTERED_MODEL_ORDER_ATTRIBUTES: &[&str] = &["name", "creation_timestamp", "last_updated_timestamp"];
pub const MODEL_VERSION_ATTRIBUTES: &[&str] = &["name", "version_number", "run_id", "source_path", "model_id"];
pub const MODEL_VERSION_ORDER_ATTRIBUTES: &[&str] =
    &["name", "version_number", "creation_timestamp", "last_updated_timestamp"];
const MODEL_VERSION_NUMERIC_ATTRIBUTES: &[&str] = &["version_number", "creation_timestamp", "last_updated_timestamp"];
const LOGGED_MODEL_NUMERIC_ATTRIBUTES: &[&str] = &["creation_timestamp", "last_updated_timestamp"];

/// MLflow's spelled-out aliases for run attributes.
fn translate_run_alias(key: &str) -> &str {
    match key {
        "created" | "Created" => "start_time",
        "run name" | "Run name" | "Run Name" => "run_name",
        k => k,
    }
}

// ---------------------------------------------------------------- tokens

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// A dotted name; each segment keeps how it was quoted.
    Ident(Vec<Segment>),
    Str(String),
    Num(f64, String),
    Cmp(Op),
    Word(String),
    LParen,
    RParen,
    Comma,
}

#[derive(Debug, Clone, PartialEq)]
struct Segment {
    text: String,
    quoted: bool,
}

const KEYWORDS: &[&str] = &["AND", "OR", "NOT", "LIKE", "ILIKE", "IN", "IS", "NULL", "ASC", "DESC"];

struct Lexer<'a> {
    src: &'a str,
    chars: Vec<(usize, char)>,
    i: usize,
}

fn err_at(src: &str, pos: usize, what: impl std::fmt::Display) -> Error {
    Error::invalid(format!("Invalid filter '{src}': {what} (at character {})", pos + 1))
}

impl<'a> Lexer<'a> {
    fn new(src: &'a str) -> Self {
        Lexer { src, chars: src.char_indices().collect(), i: 0 }
    }

    fn peek(&self, off: usize) -> Option<char> {
        self.chars.get(self.i + off).map(|&(_, c)| c)
    }

    fn pos(&self) -> usize {
        self.chars.get(self.i).map(|&(p, _)| p).unwrap_or(self.src.len())
    }

    fn quoted(&mut self, quote: char) -> Result<String> {
        let start = self.pos();
        self.i += 1;
        let mut out = String::new();
        loop {
            match self.peek(0) {
                None => return Err(err_at(self.src, start, format!("unterminated {quote} quote"))),
                Some('\\') if quote == '\'' && self.peek(1) == Some('\'') => {
                    out.push_str("\\'");
                    self.i += 2;
                }
                Some(c) if c == quote => {
                    if quote == '\'' && self.peek(1) == Some('\'') {
                        out.push_str("''");
                        self.i += 2;
                    } else {
                        self.i += 1;
                        return Ok(out);
                    }
                }
                Some(c) => {
                    out.push(c);
                    self.i += 1;
                }
            }
        }
    }

    fn bare(&mut self) -> String {
        let mut out = String::new();
        while let Some(c) = self.peek(0) {
            if c.is_alphanumeric() || c == '_' {
                out.push(c);
                self.i += 1;
            } else {
                break;
            }
        }
        out
    }

    fn segment(&mut self) -> Result<Option<Segment>> {
        Ok(match self.peek(0) {
            Some('`') => Some(Segment { text: self.quoted('`')?, quoted: true }),
            Some('"') => Some(Segment { text: self.quoted('"')?, quoted: true }),
            Some(c) if c.is_alphanumeric() || c == '_' => Some(Segment { text: self.bare(), quoted: false }),
            _ => None,
        })
    }

    fn number(&mut self) -> Result<Tok> {
        let start = self.i;
        if matches!(self.peek(0), Some('-' | '+')) {
            self.i += 1;
        }
        while matches!(self.peek(0), Some(c) if c.is_ascii_digit() || c == '.') {
            self.i += 1;
        }
        if matches!(self.peek(0), Some('e' | 'E'))
            && matches!(self.peek(1), Some(c) if c.is_ascii_digit() || c == '-' || c == '+')
        {
            self.i += 2;
            while matches!(self.peek(0), Some(c) if c.is_ascii_digit()) {
                self.i += 1;
            }
        }
        let text: String = self.chars[start..self.i].iter().map(|&(_, c)| c).collect();
        let pos = self.chars[start].0;
        match text.parse::<f64>() {
            Ok(v) if !matches!(self.peek(0), Some(c) if c.is_alphabetic() || c == '_') => Ok(Tok::Num(v, text)),
            _ => Err(err_at(self.src, pos, format!("malformed number '{text}'"))),
        }
    }

    /// The whole input as (position, token) pairs.
    fn tokens(mut self) -> Result<Vec<(usize, Tok)>> {
        let mut out = Vec::new();
        loop {
            while matches!(self.peek(0), Some(c) if c.is_whitespace()) {
                self.i += 1;
            }
            let pos = self.pos();
            let Some(c) = self.peek(0) else { return Ok(out) };
            let next = self.peek(1);
            let tok = match c {
                '\'' => Tok::Str(self.quoted('\'')?),
                '(' => {
                    self.i += 1;
                    Tok::LParen
                }
                ')' => {
                    self.i += 1;
                    Tok::RParen
                }
                ',' => {
                    self.i += 1;
                    Tok::Comma
                }
                '=' => {
                    self.i += if next == Some('=') { 2 } else { 1 };
                    Tok::Cmp(Op::Eq)
                }
                '!' if next == Some('=') => {
                    self.i += 2;
                    Tok::Cmp(Op::Ne)
                }
                '<' if next == Some('>') => {
                    self.i += 2;
                    Tok::Cmp(Op::Ne)
                }
                '<' | '>' => {
                    let eq = next == Some('=');
                    self.i += if eq { 2 } else { 1 };
                    Tok::Cmp(match (c, eq) {
                        ('<', false) => Op::Lt,
                        ('<', true) => Op::Le,
                        ('>', false) => Op::Gt,
                        _ => Op::Ge,
                    })
                }
                c if c.is_ascii_digit()
                    || ((c == '-' || c == '+' || c == '.')
                        && matches!(next, Some(d) if d.is_ascii_digit() || d == '.')) =>
                {
                    self.number()?
                }
                '`' | '"' => self.ident()?,
                c if c.is_alphabetic() || c == '_' => {
                    let tok = self.ident()?;
                    match tok {
                        Tok::Ident(ref segs)
                            if segs.len() == 1
                                && !segs[0].quoted
                                && KEYWORDS.contains(&segs[0].text.to_uppercase().as_str()) =>
                        {
                            Tok::Word(segs[0].text.to_uppercase())
                        }
                        t => t,
                    }
                }
                other => return Err(err_at(self.src, pos, format!("unexpected character '{other}'"))),
            };
            out.push((pos, tok));
        }
    }

    fn ident(&mut self) -> Result<Tok> {
        let mut segs = Vec::new();
        loop {
            let pos = self.pos();
            match self.segment()? {
                Some(s) => segs.push(s),
                None => return Err(err_at(self.src, pos, "expected a name after '.'")),
            }
            if self.peek(0) == Some('.') {
                self.i += 1;
            } else {
                return Ok(Tok::Ident(segs));
            }
        }
    }
}

// ---------------------------------------------------------------- grammar

/// Which search the grammar serves: the entity types and attributes differ.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    Runs,
    Experiments,
    LoggedModels,
    RegisteredModels,
    ModelVersions,
}

fn entity_of(target: Target, name: &str) -> Option<Entity> {
    let e = match name {
        "metric" | "metrics" => Entity::Metric,
        "parameter" | "parameters" | "param" | "params" => Entity::Param,
        "tag" | "tags" => Entity::Tag,
        "attribute" | "attributes" | "attr" | "run" => Entity::Attribute,
        "dataset" | "datasets" => Entity::Dataset,
        _ => return None,
    };
    match target {
        Target::Runs => Some(e),
        Target::Experiments => matches!(e, Entity::Attribute | Entity::Tag).then_some(e),
        Target::LoggedModels => (e != Entity::Dataset).then_some(e),
        Target::RegisteredModels | Target::ModelVersions => matches!(e, Entity::Attribute | Entity::Tag).then_some(e),
    }
}

/// Splits `<entity>.<key>` and checks the key against the target's attributes.
fn identifier(
    src: &str,
    pos: usize,
    target: Target,
    segs: &[Segment],
    attributes: &[&str],
) -> Result<(Entity, String)> {
    let (entity, key) = if segs.len() == 1 {
        (Entity::Attribute, segs[0].text.clone())
    } else {
        let name = &segs[0].text;
        let entity = entity_of(target, name).ok_or_else(|| {
            let valid = match target {
                Target::Runs => "'metrics', 'params', 'tags', 'attributes' or 'datasets'",
                Target::Experiments => "'attributes' or 'tags'",
                Target::LoggedModels => "'metrics', 'params', 'tags' or 'attributes'",
                Target::RegisteredModels | Target::ModelVersions => "'attributes' or 'tags'",
            };
            err_at(src, pos, format!("invalid entity type '{name}', expected {valid}"))
        })?;
        let key = if segs.len() == 2 {
            segs[1].text.clone()
        } else if segs[1..].iter().all(|s| !s.quoted) {
            segs[1..].iter().map(|s| s.text.as_str()).collect::<Vec<_>>().join(".")
        } else {
            return Err(err_at(src, pos, "a quoted key must be the whole key after the entity"));
        };
        (entity, key)
    };
    let key = match (target, entity) {
        (Target::Runs, Entity::Attribute) => translate_run_alias(&key).to_string(),
        (Target::LoggedModels, Entity::Attribute) => match key.as_str() {
            "creation_time" => "creation_timestamp".to_string(),
            "last_updated_time" => "last_updated_timestamp".to_string(),
            "run_id" => "source_run_id".to_string(),
            _ => key,
        },
        (Target::RegisteredModels | Target::ModelVersions, Entity::Attribute) => match key.as_str() {
            "timestamp" | "last_updated_time" => "last_updated_timestamp".to_string(),
            "creation_time" => "creation_timestamp".to_string(),
            _ => key,
        },
        _ => key,
    };
    if entity == Entity::Attribute && !attributes.contains(&key.as_str()) {
        return Err(err_at(src, pos, format!("invalid attribute key '{key}', valid keys are {attributes:?}")));
    }
    if entity == Entity::Dataset && !DATASET_ATTRIBUTES.contains(&key.as_str()) {
        return Err(err_at(src, pos, format!("invalid dataset key '{key}', valid keys are {DATASET_ATTRIBUTES:?}")));
    }
    if key.is_empty() {
        return Err(err_at(src, pos, "empty key"));
    }
    Ok((entity, key))
}

struct Parser<'a> {
    src: &'a str,
    toks: Vec<(usize, Tok)>,
    i: usize,
    target: Target,
}

impl Parser<'_> {
    fn pos(&self) -> usize {
        self.toks.get(self.i).map(|t| t.0).unwrap_or(self.src.len())
    }
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.i).map(|t| &t.1)
    }
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.i).map(|t| t.1.clone());
        self.i += 1;
        t
    }
    fn word(&mut self, w: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Word(x)) if x == w) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn fail<T>(&self, what: impl std::fmt::Display) -> Result<T> {
        Err(err_at(self.src, self.pos(), what))
    }

    fn clauses(&mut self) -> Result<Vec<Clause>> {
        let mut out = vec![self.clause()?];
        while self.peek().is_some() {
            if self.word("AND") {
                if out.len() == MAX_FILTER_CLAUSES {
                    return self.fail(format!("a filter can join at most {MAX_FILTER_CLAUSES} comparisons"));
                }
                out.push(self.clause()?);
            } else if matches!(self.peek(), Some(Tok::Word(w)) if w == "OR") {
                return self.fail("'OR' is not supported, only 'AND' joins comparisons");
            } else {
                return self.fail("expected 'AND' between comparisons");
            }
        }
        Ok(out)
    }

    fn clause(&mut self) -> Result<Clause> {
        let pos = self.pos();
        let segs = match self.next() {
            Some(Tok::Ident(s)) => s,
            None => return Err(err_at(self.src, pos, "expected a comparison, found the end")),
            Some(_) => return Err(err_at(self.src, pos, "expected a key such as metrics.loss")),
        };
        let attrs = match self.target {
            Target::Runs => RUN_ATTRIBUTES,
            Target::Experiments => EXPERIMENT_ATTRIBUTES,
            Target::LoggedModels => LOGGED_MODEL_ATTRIBUTES,
            Target::RegisteredModels => REGISTERED_MODEL_ATTRIBUTES,
            Target::ModelVersions => MODEL_VERSION_ATTRIBUTES,
        };
        let (entity, key) = identifier(self.src, pos, self.target, &segs, attrs)?;
        let op_pos = self.pos();
        let op = match self.next() {
            Some(Tok::Cmp(op)) => op,
            Some(Tok::Word(w)) if w == "LIKE" => Op::Like,
            Some(Tok::Word(w)) if w == "ILIKE" => Op::ILike,
            Some(Tok::Word(w)) if w == "IN" => Op::In,
            Some(Tok::Word(w)) if w == "NOT" && self.word("IN") => Op::NotIn,
            Some(Tok::Word(w)) if w == "IS" => {
                let not = self.word("NOT");
                if !self.word("NULL") {
                    return self.fail("expected NULL after IS");
                }
                if not {
                    Op::IsNotNull
                } else {
                    Op::IsNull
                }
            }
            _ => return Err(err_at(self.src, op_pos, "expected a comparison operator")),
        };
        self.check_op(op_pos, entity, &key, op)?;
        let val_pos = self.pos();
        let value = match op {
            Op::IsNull | Op::IsNotNull => Operand::None,
            Op::In | Op::NotIn => Operand::List(self.list()?),
            _ => match self.next() {
                Some(Tok::Num(v, _)) => Operand::Number(v),
                Some(Tok::Str(s)) => Operand::Text(s),
                Some(Tok::Ident(s)) if s.len() == 1 && s[0].quoted => Operand::Text(s[0].text.clone()),
                None => return Err(err_at(self.src, val_pos, "expected a value, found the end")),
                Some(_) => return Err(err_at(self.src, val_pos, "expected a quoted string or a number")),
            },
        };
        self.check_value(val_pos, entity, &key, &value)?;
        Ok(Clause { entity, key, op, value })
    }

    fn list(&mut self) -> Result<Vec<String>> {
        if self.next() != Some(Tok::LParen) {
            self.i -= 1;
            return self.fail("expected a parenthesised list of quoted strings after IN");
        }
        let mut items = Vec::new();
        loop {
            match self.next() {
                Some(Tok::Str(s)) => items.push(s),
                Some(Tok::Ident(s)) if s.len() == 1 && s[0].quoted => items.push(s[0].text.clone()),
                Some(Tok::RParen) if items.is_empty() => {
                    self.i -= 1;
                    return self.fail("expected a non-empty list of quoted strings");
                }
                _ => {
                    self.i -= 1;
                    return self.fail("expected a quoted string in the list");
                }
            }
            match self.next() {
                Some(Tok::Comma) => continue,
                Some(Tok::RParen) => return Ok(items),
                _ => {
                    self.i -= 1;
                    return self.fail("expected ',' or ')' in the list");
                }
            }
        }
    }

    fn numeric_attribute(&self, key: &str) -> bool {
        match self.target {
            Target::Runs => RUN_NUMERIC_ATTRIBUTES.contains(&key),
            Target::Experiments => EXPERIMENT_NUMERIC_ATTRIBUTES.contains(&key),
            Target::LoggedModels => LOGGED_MODEL_NUMERIC_ATTRIBUTES.contains(&key),
            Target::RegisteredModels => false,
            Target::ModelVersions => MODEL_VERSION_NUMERIC_ATTRIBUTES.contains(&key),
        }
    }

    fn check_op(&self, pos: usize, entity: Entity, key: &str, op: Op) -> Result<()> {
        let ok = match entity {
            Entity::Metric => op.is_numeric(),
            Entity::Param => matches!(op, Op::Eq | Op::Ne | Op::Like | Op::ILike | Op::IsNull | Op::IsNotNull),
            Entity::Tag => matches!(op, Op::Eq | Op::Ne | Op::Like | Op::ILike | Op::IsNull | Op::IsNotNull),
            Entity::Dataset => matches!(op, Op::Eq | Op::Ne | Op::Like | Op::ILike | Op::In | Op::NotIn),
            Entity::Attribute if self.numeric_attribute(key) => op.is_numeric(),
            Entity::Attribute => match self.target {
                Target::Runs => {
                    matches!(op, Op::Eq | Op::Ne | Op::Like | Op::ILike)
                        || (matches!(op, Op::In | Op::NotIn) && key == "run_id")
                }
                Target::Experiments => matches!(op, Op::Eq | Op::Ne | Op::Like | Op::ILike),
                Target::LoggedModels | Target::ModelVersions | Target::RegisteredModels => {
                    matches!(op, Op::Eq | Op::Ne | Op::Like | Op::ILike | Op::In | Op::NotIn)
                }
            },
        };
        if ok {
            return Ok(());
        }
        let mut why = format!("comparator '{}' is not allowed for {} '{key}'", op.as_str(), entity.as_str());
        if matches!(entity, Entity::Param | Entity::Tag) && op.is_numeric() && !matches!(op, Op::Eq | Op::Ne) {
            // The common surprise: `params.lr < '0.001'`. MLflow stores
            // params and tags as text, so an order on them would be text order.
            why.push_str(&format!(
                "; {}s are stored as text, so they take =, !=, LIKE, ILIKE, IS NULL (order comparisons work on \
                 metrics and numeric attributes)",
                entity.as_str()
            ));
        }
        Err(err_at(self.src, pos, why))
    }

    fn check_value(&self, pos: usize, entity: Entity, key: &str, value: &Operand) -> Result<()> {
        let numeric = entity == Entity::Metric || (entity == Entity::Attribute && self.numeric_attribute(key));
        match value {
            Operand::Number(_) if !numeric => {
                Err(err_at(self.src, pos, format!("expected a quoted string value for {} '{key}'", entity.as_str())))
            }
            Operand::Text(t) if numeric => Err(err_at(
                self.src,
                pos,
                format!("expected a numeric value for {} '{key}', found '{t}'", entity.as_str()),
            )),
            _ => Ok(()),
        }
    }
}

/// The most comparisons one filter may join: each becomes a condition of
/// the store's query, and the databases bound how deep a query may nest.
pub const MAX_FILTER_CLAUSES: usize = 200;

fn parse_filter(target: Target, src: &str) -> Result<Vec<Clause>> {
    if src.trim().is_empty() {
        return Ok(Vec::new());
    }
    let toks = Lexer::new(src).tokens()?;
    let clauses = Parser { src, toks, i: 0, target }.clauses()?;
    for c in &clauses {
        if let (Op::Like | Op::ILike, Operand::Text(pattern)) = (c.op, &c.value) {
            if pattern.len() > MAX_LIKE_PATTERN_BYTES {
                return Err(Error::invalid(format!(
                    "Invalid filter: a LIKE pattern can be at most {MAX_LIKE_PATTERN_BYTES} bytes long (this one has {}).",
                    pattern.len()
                )));
            }
        }
    }
    Ok(clauses)
}

/// The longest LIKE pattern (SQLite's own limit; PostgreSQL has none, but
/// one answer on both databases).
pub const MAX_LIKE_PATTERN_BYTES: usize = 50_000;

/// The most `order_by` keys a search takes.
pub const MAX_ORDER_BY_KEYS: usize = 100;

fn check_order_count(order_by: &[String]) -> Result<()> {
    if order_by.len() > MAX_ORDER_BY_KEYS {
        return Err(Error::invalid(format!(
            "Invalid order_by: at most {MAX_ORDER_BY_KEYS} keys, got {}.",
            order_by.len()
        )));
    }
    Ok(())
}

fn parse_order(target: Target, src: &str) -> Result<OrderBy> {
    let bad = |what: &str| Error::invalid(format!("Invalid order_by clause '{src}': {what}"));
    let toks = Lexer::new(src).tokens().map_err(|e| bad(&e.message))?;
    let mut it = toks.into_iter();
    let Some((pos, Tok::Ident(segs))) = it.next() else {
        return Err(bad("expected a key such as metrics.loss"));
    };
    let attrs = match target {
        Target::Runs => RUN_ATTRIBUTES,
        Target::Experiments => EXPERIMENT_ORDER_ATTRIBUTES,
        Target::LoggedModels => LOGGED_MODEL_ATTRIBUTES,
        Target::RegisteredModels => REGISTERED_MODEL_ORDER_ATTRIBUTES,
        Target::ModelVersions => MODEL_VERSION_ORDER_ATTRIBUTES,
    };
    let (entity, key) = identifier(src, pos, target, &segs, attrs).map_err(|e| bad(&e.message))?;
    if entity == Entity::Dataset {
        return Err(bad("datasets cannot be ordered on"));
    }
    let ascending = match it.next() {
        None => true,
        Some((_, Tok::Word(w))) if w == "ASC" => true,
        Some((_, Tok::Word(w))) if w == "DESC" => false,
        Some(_) => return Err(bad("expected ASC or DESC after the key")),
    };
    if it.next().is_some() {
        return Err(bad("unexpected text after the sort direction"));
    }
    Ok(OrderBy { entity, key, ascending })
}

/// Parses a `search-runs` filter string.
/// `value` as a string literal of MLflow's filter grammar, for filters a
/// program builds (the UI's own queries): in single quotes, or in double
/// quotes when it holds a single quote (`name = "bob's model"`), as MLflow
/// keeps a backslash or a doubled quote inside a literal as it is.
pub fn literal(value: &str) -> String {
    if value.contains('\'') {
        format!("\"{value}\"")
    } else {
        format!("'{value}'")
    }
}

pub fn parse_run_filter(filter: &str) -> Result<Vec<Clause>> {
    parse_filter(Target::Runs, filter)
}

/// Parses `search-runs` order_by entries; a key may appear only once.
pub fn parse_run_order_by(order_by: &[String]) -> Result<Vec<OrderBy>> {
    parse_orders(Target::Runs, order_by)
}

/// Parses a `search-experiments` filter string.
pub fn parse_experiment_filter(filter: &str) -> Result<Vec<Clause>> {
    parse_filter(Target::Experiments, filter)
}

/// Parses `search-experiments` order_by entries.
pub fn parse_experiment_order_by(order_by: &[String]) -> Result<Vec<OrderBy>> {
    check_order_count(order_by)?;
    order_by.iter().map(|o| parse_order(Target::Experiments, o)).collect()
}

/// Parses a `search-logged-models` filter string.
pub fn parse_logged_model_filter(filter: &str) -> Result<Vec<Clause>> {
    parse_filter(Target::LoggedModels, filter)
}

/// Parses one logged-model `order_by` field name (`metrics.x`, `name`, …).
pub fn parse_logged_model_order_key(field: &str) -> Result<OrderBy> {
    parse_order(Target::LoggedModels, field)
}

/// Parses a `search-registered-models` filter string.
pub fn parse_registered_model_filter(filter: &str) -> Result<Vec<Clause>> {
    parse_filter(Target::RegisteredModels, filter)
}

/// Parses `search-registered-models` order_by entries.
pub fn parse_registered_model_order_by(order_by: &[String]) -> Result<Vec<OrderBy>> {
    parse_orders(Target::RegisteredModels, order_by)
}

/// Parses a `search-model-versions` filter string.
pub fn parse_model_version_filter(filter: &str) -> Result<Vec<Clause>> {
    parse_filter(Target::ModelVersions, filter)
}

/// Parses `search-model-versions` order_by entries.
pub fn parse_model_version_order_by(order_by: &[String]) -> Result<Vec<OrderBy>> {
    parse_orders(Target::ModelVersions, order_by)
}

fn parse_orders(target: Target, order_by: &[String]) -> Result<Vec<OrderBy>> {
    check_order_count(order_by)?;
    let parsed = order_by.iter().map(|o| parse_order(target, o)).collect::<Result<Vec<_>>>()?;
    for (i, a) in parsed.iter().enumerate() {
        if parsed[..i].iter().any(|b| b.entity == a.entity && b.key == a.key) {
            return Err(Error::invalid(format!("`order_by` contains duplicate fields: {order_by:?}")));
        }
    }
    Ok(parsed)
}

/// SQL LIKE matching (`%` any run, `_` one character), for callers that
/// filter in memory. `fold` makes it case-insensitive (ILIKE).
pub fn like(text: &str, pattern: &str, fold: bool) -> bool {
    fn go(t: &[char], p: &[char]) -> bool {
        match p.split_first() {
            None => t.is_empty(),
            Some(('%', rest)) => (0..=t.len()).any(|i| go(&t[i..], rest)),
            Some(('_', rest)) => !t.is_empty() && go(&t[1..], rest),
            Some((c, rest)) => t.first() == Some(c) && go(&t[1..], rest),
        }
    }
    let (t, p): (Vec<char>, Vec<char>) = if fold {
        (text.to_lowercase().chars().collect(), pattern.to_lowercase().chars().collect())
    } else {
        (text.chars().collect(), pattern.chars().collect())
    };
    go(&t, &p)
}

#[cfg(test)]
mod tests {

    #[test]
    fn built_literals_read_back_as_the_value() {
        for value in ["bob's model", "plain", "a\"b", "it's \"quoted\"-ish"] {
            if value.contains('\'') && value.contains('"') {
                continue; // not expressible in MLflow's grammar
            }
            let clauses = parse_run_filter(&format!("tags.note = {}", literal(value))).unwrap();
            assert_eq!(clauses[0].value, Operand::Text(value.to_string()), "{value}");
        }
    }

    use super::*;

    fn one(f: &str) -> Clause {
        let mut v = parse_run_filter(f).unwrap();
        assert_eq!(v.len(), 1, "{f}");
        v.remove(0)
    }

    #[test]
    fn parses_each_entity() {
        assert_eq!(
            one("metrics.loss < 0.5"),
            Clause { entity: Entity::Metric, key: "loss".into(), op: Op::Lt, value: Operand::Number(0.5) }
        );
        assert_eq!(one("params.lr = '0.01'").value, Operand::Text("0.01".into()));
        assert_eq!(one("tags.`mlflow.user` LIKE 'a%'").key, "mlflow.user");
        assert_eq!(one("tags.mlflow.source.type = 'LOCAL'").key, "mlflow.source.type");
        assert_eq!(one("metrics.\"val loss\" >= -1e-3").key, "val loss");
        assert_eq!(one("metrics.`val loss` >= -1e-3").value, Operand::Number(-1e-3));
        assert_eq!(one("attributes.status != 'FAILED'").entity, Entity::Attribute);
        assert_eq!(one("status = \"FINISHED\"").value, Operand::Text("FINISHED".into()));
        assert_eq!(one("created > 5").key, "start_time");
        assert_eq!(one("attributes.`Run name` ILIKE '%x%'").key, "run_name");
        assert_eq!(one("params.x IS NOT NULL").op, Op::IsNotNull);
        assert_eq!(one("tags.x is null").op, Op::IsNull);
        assert_eq!(one("attributes.run_id IN ('a', \"b\")").value, Operand::List(vec!["a".into(), "b".into()]));
        assert_eq!(one("run_id not in ('a')").op, Op::NotIn);
        assert_eq!(one("datasets.context = 'train'").entity, Entity::Dataset);
    }

    #[test]
    fn joins_with_and() {
        let v = parse_run_filter("metrics.a > 1 and params.b = 'x' AND tags.c != 'y'").unwrap();
        assert_eq!(v.len(), 3);
        let many = |n: usize| vec!["params.a = '1'"; n].join(" AND ");
        assert_eq!(parse_run_filter(&many(MAX_FILTER_CLAUSES)).unwrap().len(), MAX_FILTER_CLAUSES);
        let err = parse_run_filter(&many(1000)).unwrap_err();
        assert_eq!(err.error_code, crate::ErrorCode::InvalidParameterValue);
        assert!(err.message.contains("at most 200 comparisons"), "{}", err.message);
        let err = parse_run_filter("params.lr < '0.001'").unwrap_err();
        assert!(err.message.contains("parameters are stored as text"), "{}", err.message);
        assert!(parse_run_filter("").unwrap().is_empty());
    }

    #[test]
    fn rejects_bad_filters_with_a_position() {
        for (f, at) in [
            ("metrics.a > 1 OR metrics.b > 2", 15),
            ("metrics.a > 'x'", 13),
            ("params.a > '1'", 10),
            ("params.a = 1", 12),
            ("foo.a = 1", 1),
            ("attributes.nope = 'x'", 1),
            ("metrics.a >", 12),
            ("metrics.a > 1 metrics.b > 1", 15),
            ("metrics.a IS NULL", 11),
            ("status IN ('a')", 8),
            ("params.a = 'unterminated", 12),
            ("metrics.a ~ 1", 11),
        ] {
            let e = parse_run_filter(f).unwrap_err();
            assert!(e.message.contains(&format!("(at character {at})")), "{f}: {}", e.message);
        }
    }

    #[test]
    fn order_by() {
        let o = parse_run_order_by(&["metrics.`val loss` DESC".into(), "start_time".into()]).unwrap();
        assert_eq!(o[0], OrderBy { entity: Entity::Metric, key: "val loss".into(), ascending: false });
        assert!(o[1].ascending);
        assert!(parse_run_order_by(&["metrics.a ASC".into(), "metrics.a DESC".into()]).is_err());
        assert!(parse_run_order_by(&["metrics.a SIDEWAYS".into()]).is_err());
        assert!(parse_experiment_order_by(&["experiment_id DESC".into()]).is_ok());
        assert!(parse_experiment_order_by(&["metrics.a".into()]).is_err());
    }

    #[test]
    fn experiment_filters() {
        let v = parse_experiment_filter("name LIKE 'a%' AND tags.team = 'x'").unwrap();
        assert_eq!(v[1].entity, Entity::Tag);
        assert!(parse_experiment_filter("params.x = 'a'").is_err());
        assert!(parse_experiment_filter("creation_time > 10").is_ok());
    }

    #[test]
    fn like_matching() {
        assert!(like("train_loss", "%loss", false));
        assert!(!like("train_LOSS", "%loss", false));
        assert!(like("train_LOSS", "%loss", true));
        assert!(like("abc", "a_c", false));
    }
}
