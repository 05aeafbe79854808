//! What an install asks the user for, and what the answers make: the fields one way of running
//! a catalog entry declares (arguments, environment variables, headers, URL variables, and the
//! `{var}` variables inside fixed values), and the command-line arguments, environment and
//! headers that result from the user's answers, checked against each field's rules.

use std::{
    collections::{BTreeMap, HashSet},
    path::Path,
};

use serde::Serialize;

use switchboard_catalog::{
    Argument, ArgumentKind, Input, KeyValueInput, Package, RemoteEntry, ServerJson,
};

/// Which of an entry's ways to run is installed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(tag = "kind", content = "index", rename_all = "camelCase")]
pub enum Way {
    Package(usize),
    Remote(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub enum FieldKind {
    Argument,
    Env,
    Header,
    /// A `{name}` inside a fixed value or a remote URL.
    Variable,
}

/// One question of the install form (and one `--input KEY=VALUE` of the CLI).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Field {
    /// What `--input` calls it: an env or header name, a flag (`--db-path`), a positional
    /// argument's hint, a variable's name.
    pub key: String,
    pub kind: FieldKind,
    #[ts(optional)]
    pub description: Option<String>,
    pub required: bool,
    pub secret: bool,
    #[ts(optional)]
    pub default: Option<String>,
    pub choices: Vec<String>,
    /// `string`, `number`, `boolean`, `filepath`.
    pub format: String,
    #[ts(optional)]
    pub placeholder: Option<String>,
    /// Several values may be given (a repeated argument).
    pub repeated: bool,
}

/// The user's answers: `KEY=VALUE` pairs; a repeated argument's key may appear more than once.
pub type Answers = Vec<(String, String)>;

/// What the answers make.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resolved {
    pub runtime_args: Vec<String>,
    pub package_args: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub headers: BTreeMap<String, String>,
    /// The remote's (or a package transport's) URL with its variables filled in.
    pub url: Option<String>,
    /// Env variables and headers whose values are secrets (they go to the keychain).
    pub secret_env: Vec<String>,
    pub secret_headers: Vec<String>,
    /// Arguments that carry a secret (they cannot be kept out of the command line).
    pub secret_args: bool,
}

/// The fields of `way`, in declaration order, each key once.
pub fn fields(server: &ServerJson, way: Way) -> Vec<Field> {
    let mut out: Vec<Field> = Vec::new();
    let mut push = |f: Field| match out.iter_mut().find(|o| o.key == f.key) {
        // One answer goes to every input of its key: a secret if any of them is.
        Some(first) => first.secret |= f.secret,
        None => out.push(f),
    };
    match way {
        Way::Package(i) => {
            let Some(p) = server.packages.get(i) else { return Vec::new() };
            for a in p.runtime_arguments.iter().chain(&p.package_arguments) {
                argument_fields(a, &mut push);
            }
            for kv in p.environment_variables.iter() {
                key_value_fields(kv, FieldKind::Env, &mut push);
            }
            for kv in &p.transport.headers {
                key_value_fields(kv, FieldKind::Header, &mut push);
            }
        }
        Way::Remote(i) => {
            let Some(r) = server.remotes.get(i) else { return Vec::new() };
            for (name, v) in &r.variables {
                push(field(name, FieldKind::Variable, v, false));
            }
            for kv in &r.headers {
                key_value_fields(kv, FieldKind::Header, &mut push);
            }
        }
    }
    out
}

fn field(key: &str, kind: FieldKind, i: &Input, repeated: bool) -> Field {
    Field {
        key: key.to_string(),
        kind,
        description: i.description.clone(),
        required: i.is_required,
        secret: i.is_secret,
        default: i.default.clone(),
        choices: i.choices.clone(),
        format: i.format.clone().unwrap_or_else(|| "string".into()),
        placeholder: i.placeholder.clone(),
        repeated,
    }
}

/// A fixed value asks only for its variables; otherwise the input itself is asked for.
fn input_fields(
    key: &str,
    kind: FieldKind,
    i: &Input,
    repeated: bool,
    push: &mut impl FnMut(Field),
) {
    if i.value.is_some() {
        for (name, v) in &i.variables {
            push(field(name, FieldKind::Variable, v, false));
        }
    } else {
        push(field(key, kind, i, repeated));
    }
}

fn argument_fields(a: &Argument, push: &mut impl FnMut(Field)) {
    input_fields(&argument_key(a), FieldKind::Argument, &a.input, a.is_repeated, push);
}

fn key_value_fields(kv: &KeyValueInput, kind: FieldKind, push: &mut impl FnMut(Field)) {
    input_fields(&kv.name, kind, &kv.input, false, push);
}

fn argument_key(a: &Argument) -> String {
    match a.kind {
        ArgumentKind::Named => a.name.clone().unwrap_or_default(),
        ArgumentKind::Positional => a.value_hint.clone().unwrap_or_else(|| "argument".into()),
    }
}

/// Everything wrong with `answers` for `way`, each as one sentence; empty when they will do.
pub fn check(server: &ServerJson, way: Way, answers: &[(String, String)]) -> Vec<String> {
    check_fields(&fields(server, way), &server.name, answers)
}

/// Everything wrong with `answers` for a form of `fields` (of the entry `entry`).
pub fn check_fields(fields: &[Field], entry: &str, answers: &[(String, String)]) -> Vec<String> {
    let mut problems = Vec::new();
    for (key, _) in answers {
        if !fields.iter().any(|f| &f.key == key) {
            let known: Vec<&str> = fields.iter().map(|f| f.key.as_str()).collect();
            problems.push(format!(
                "{key} is not an input of {entry}; its inputs are: {}",
                if known.is_empty() { "none".to_string() } else { known.join(", ") }
            ));
        }
    }
    for f in fields {
        let given: Vec<&str> =
            answers.iter().filter(|(k, _)| k == &f.key).map(|(_, v)| v.as_str()).collect();
        if given.is_empty() {
            if f.required && f.default.is_none() {
                problems.push(format!(
                    "{} is required{}",
                    f.key,
                    f.description.as_deref().map(|d| format!(": {d}")).unwrap_or_default()
                ));
            }
            continue;
        }
        if given.len() > 1 && !f.repeated {
            problems.push(format!("{} was given {} times; it takes one value", f.key, given.len()));
        }
        for v in given {
            if let Some(p) = value_problem(f, v) {
                problems.push(p);
            }
        }
    }
    problems
}

fn value_problem(f: &Field, v: &str) -> Option<String> {
    if !f.choices.is_empty() && !f.choices.iter().any(|c| c == v) {
        return Some(format!("{} must be one of {}, not {v:?}", f.key, f.choices.join(", ")));
    }
    match f.format.as_str() {
        "number" if v.parse::<f64>().is_err() => {
            Some(format!("{} must be a number, not {v:?}", f.key))
        }
        "boolean" if v != "true" && v != "false" => {
            Some(format!("{} must be true or false, not {v:?}", f.key))
        }
        "filepath" if !Path::new(v).is_absolute() => {
            Some(format!("{} must be an absolute path, not {v:?}", f.key))
        }
        // A file the server creates (a database, a memory file) need not exist yet; its folder
        // must.
        "filepath"
            if !Path::new(v).exists() && !Path::new(v).parent().is_some_and(Path::is_dir) =>
        {
            Some(format!("{} is {v}, which does not exist (nor does its folder)", f.key))
        }
        _ => None,
    }
}

/// The arguments, environment and headers `answers` make for `way`. Call [`check`] first: a
/// missing optional value leaves its argument out, a missing required one makes it empty.
pub fn resolve(server: &ServerJson, way: Way, answers: &[(String, String)]) -> Resolved {
    let mut out = Resolved::default();
    let secret_keys: HashSet<String> =
        fields(server, way).into_iter().filter(|f| f.secret).map(|f| f.key).collect();
    match way {
        Way::Package(i) => {
            let Some(p) = server.packages.get(i) else { return out };
            resolve_package(p, answers, &secret_keys, &mut out);
        }
        Way::Remote(i) => {
            let Some(r) = server.remotes.get(i) else { return out };
            resolve_remote(r, answers, &secret_keys, &mut out);
        }
    }
    out
}

fn resolve_package(
    p: &Package,
    answers: &[(String, String)],
    secret_keys: &HashSet<String>,
    out: &mut Resolved,
) {
    for a in &p.runtime_arguments {
        out.secret_args |= push_argument(a, answers, secret_keys, &mut out.runtime_args);
    }
    for a in &p.package_arguments {
        out.secret_args |= push_argument(a, answers, secret_keys, &mut out.package_args);
    }
    for kv in &p.environment_variables {
        if let Some(v) = value_of(&kv.name, &kv.input, answers).into_iter().next() {
            if carries_secret(&kv.name, &kv.input, secret_keys) {
                out.secret_env.push(kv.name.clone());
            }
            out.env.insert(kv.name.clone(), v);
        }
    }
    resolve_headers(&p.transport.headers, answers, secret_keys, out);
    out.url = p.transport.url.as_ref().map(|u| fill(u, &|name| first_answer(name, answers)));
}

fn resolve_remote(
    r: &RemoteEntry,
    answers: &[(String, String)],
    secret_keys: &HashSet<String>,
    out: &mut Resolved,
) {
    let lookup = |name: &str| {
        first_answer(name, answers)
            .or_else(|| r.variables.get(name).and_then(|v| v.default.clone()))
    };
    out.url = Some(fill(&r.url, &lookup));
    resolve_headers(&r.headers, answers, secret_keys, out);
}

fn resolve_headers(
    headers: &[KeyValueInput],
    answers: &[(String, String)],
    secret_keys: &HashSet<String>,
    out: &mut Resolved,
) {
    for kv in headers {
        if let Some(v) = value_of(&kv.name, &kv.input, answers).into_iter().next() {
            if carries_secret(&kv.name, &kv.input, secret_keys) {
                out.secret_headers.push(kv.name.clone());
            }
            out.headers.insert(kv.name.clone(), v);
        }
    }
}

fn is_secret(i: &Input) -> bool {
    i.is_secret || i.variables.values().any(|v| v.is_secret)
}

/// Whether the value of the input `key` carries a secret: the input says so, or it takes an
/// answer that a secret input of the same key asks for (a `--token` argument and a `--token`
/// env variable share one answer).
fn carries_secret(key: &str, i: &Input, secret_keys: &HashSet<String>) -> bool {
    is_secret(i)
        || match &i.value {
            None => secret_keys.contains(key),
            Some(_) => i.variables.keys().any(|name| secret_keys.contains(name)),
        }
}

/// Appends the argument's words; true when they carry a secret.
fn push_argument(
    a: &Argument,
    answers: &[(String, String)],
    secret_keys: &HashSet<String>,
    args: &mut Vec<String>,
) -> bool {
    let key = argument_key(a);
    let values = value_of(&key, &a.input, answers);
    let secret = carries_secret(&key, &a.input, secret_keys) && !values.is_empty();
    for v in values {
        match (a.kind, a.name.as_deref()) {
            (ArgumentKind::Named, Some(flag)) if flag.starts_with("--") => {
                args.push(if v.is_empty() { flag.to_string() } else { format!("{flag}={v}") });
            }
            (ArgumentKind::Named, Some(flag)) => {
                args.push(flag.to_string());
                if !v.is_empty() {
                    args.push(v);
                }
            }
            _ => args.push(v),
        }
    }
    secret
}

/// The value(s) of an input: a fixed value with its variables filled in, else the answers, else
/// the default; none when an optional input is left out.
fn value_of(key: &str, i: &Input, answers: &[(String, String)]) -> Vec<String> {
    if let Some(template) = &i.value {
        // Only the input's own variables: a `{NAME}` it does not declare stays as written, even
        // when another field is called NAME (its answer may be a secret, which this value would
        // then carry unmarked).
        let lookup = |name: &str| {
            let declared = i.variables.get(name)?;
            first_answer(name, answers).or_else(|| declared.default.clone())
        };
        // A fixed value whose optional variables were all left out is left out too.
        let optional_missing = !i.variables.is_empty()
            && i.variables.iter().all(|(n, v)| !v.is_required && lookup(n).is_none());
        if optional_missing && !i.is_required {
            return Vec::new();
        }
        return vec![fill(template, &lookup)];
    }
    let given: Vec<String> =
        answers.iter().filter(|(k, _)| k == key).map(|(_, v)| v.clone()).collect();
    if !given.is_empty() {
        return given;
    }
    i.default.clone().into_iter().collect()
}

fn first_answer(name: &str, answers: &[(String, String)]) -> Option<String> {
    answers.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
}

/// `template` with each `{name}` that `lookup` knows replaced; unknown ones stay as written.
pub fn fill(template: &str, lookup: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                match lookup(name) {
                    Some(v) => out.push_str(&v),
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests;
