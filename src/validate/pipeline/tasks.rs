//! Validate phase: the `[[tasks]]` of one pipeline.
//!
//! In: `[[tasks]]` as read ([`raw::Task`]) and the `[flink.env]` variables read so far. Out: each task's name,
//! whether it is enabled, and its parameters as JSON, secrets replaced by
//! `{"secret_env": "FLINKOPS_SECRET_…"}` with the matching environment variables appended to the
//! env; every problem pushed as a diagnostic.

use super::flink::secret_ref;
use super::required;
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::*;
use crate::spec::raw::{self, Sp};
use crate::spec::{Node, Table, Value};
use crate::validate::names::{is_dns1123_label, not_a_label};
use crate::validate::secrets::{is_secret_looking, secret_env_name};

/// Compiles `[[tasks]]`: params to JSON with secrets turned into `{"secret_env": …}`, and the
/// matching environment variables appended to `env`.
pub(super) fn tasks(items: Option<&[Sp<raw::Task>]>, env: &mut Vec<EnvVar>, d: &mut Diagnostics) -> Vec<Task> {
    let mut out: Vec<Task> = vec![];
    for item in items.unwrap_or_default() {
        let t = &item.value;
        let Some(name) = required(t.name.as_ref(), "name", &item.loc, "give each task a `name`", d) else { continue };
        if !is_dns1123_label(&name.value) {
            d.push(
                not_a_label("task name", &name.value)
                    .at(&name.loc)
                    .label("invalid task name")
                    .help("use lower-case letters, digits and `-` (it becomes part of environment variable names)"),
            );
            continue;
        }
        if out.iter().any(|x| x.name == name.value) {
            d.push(
                Diagnostic::error(Code::DuplicateName, format!("duplicate task {:?}", name.value))
                    .at(&name.loc)
                    .label("task names must be unique"),
            );
            continue;
        }
        let enabled = t.enabled.as_ref().is_none_or(|b| b.value);
        let params = match t.params.as_ref().and_then(|p| p.table()) {
            Some(p) => params_json(p, &name.value, &mut vec![], env, d),
            None => serde_json::Value::Object(serde_json::Map::new()),
        };
        out.push(Task { name: name.value.clone(), enabled, params });
    }
    out
}

fn params_json(t: &Table, task: &str, path: &mut Vec<String>, env: &mut Vec<EnvVar>, d: &mut Diagnostics) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    for (k, e) in &t.entries {
        path.push(k.clone());
        let v = match &e.node.value {
            Value::Table(inner) if inner.entries.contains_key("secret") => match secret_ref(&e.node, d) {
                Some((secret, key)) => {
                    let var = secret_env_name(task, path);
                    if env.iter().any(|x| x.name == var) {
                        d.push(
                            Diagnostic::error(Code::SecretEnvCollision, format!("two secret parameters map to the same variable {var}"))
                                .at(&e.key_loc)
                                .label("name collision")
                                .help("rename one of the parameters"),
                        );
                    }
                    env.push(EnvVar { name: var.clone(), value: EnvValue::Secret { secret, key } });
                    serde_json::json!({ "secret_env": var })
                }
                None => serde_json::Value::Null,
            },
            _ if is_secret_looking(k) && !matches!(e.node.value, Value::Table(_) | Value::Boolean(_)) => {
                d.push(
                    Diagnostic::error(
                        Code::SecretInPlainText,
                        format!("secret literal in task {task:?}: parameter `{}` holds a value in plain text", path.join(".")),
                    )
                    .at(&e.node.loc)
                    .label("secrets never appear as literals")
                    .help(format!("store it in a Kubernetes Secret and write `{k} = {{ secret = \"<secret name>\", key = \"<key>\" }}`")),
                );
                serde_json::Value::Null
            }
            other => node_json(other, &e.node, task, path, env, d),
        };
        path.pop();
        map.insert(k.clone(), v);
    }
    serde_json::Value::Object(map)
}

fn node_json(v: &Value, n: &Node, task: &str, path: &mut Vec<String>, env: &mut Vec<EnvVar>, d: &mut Diagnostics) -> serde_json::Value {
    match v {
        Value::String(s) | Value::Datetime(s) => serde_json::Value::String(s.clone()),
        Value::Integer(i) => serde_json::Value::from(*i),
        Value::Float(f) => serde_json::Number::from_f64(*f).map_or_else(
            || {
                d.push(
                    Diagnostic::error(Code::ParamNotJson, "task parameters cannot be NaN or infinite")
                        .at(&n.loc)
                        .label("not representable in JSON"),
                );
                serde_json::Value::Null
            },
            serde_json::Value::Number,
        ),
        Value::Boolean(b) => serde_json::Value::Bool(*b),
        Value::Array(items) => serde_json::Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, x)| {
                    path.push(i.to_string());
                    let r = match &x.value {
                        Value::Table(t) => {
                            let mut wrapper = Table::empty(x.loc.clone());
                            wrapper.entries = t.entries.clone();
                            if t.entries.contains_key("secret") {
                                // A secret reference inside an array: name it by the index.
                                let mut env_path = path.clone();
                                env_path.pop();
                                let last = path.last().cloned().unwrap_or_default();
                                let mut tmp = Table::empty(x.loc.clone());
                                tmp.entries.insert(last, crate::spec::Entry { key_loc: x.loc.clone(), node: x.clone() });
                                let mut p2 = env_path;
                                let obj = params_json(&tmp, task, &mut p2, env, d);
                                obj.as_object().and_then(|o| o.values().next().cloned()).unwrap_or(serde_json::Value::Null)
                            } else {
                                params_json(&wrapper, task, path, env, d)
                            }
                        }
                        other => node_json(other, x, task, path, env, d),
                    };
                    path.pop();
                    r
                })
                .collect(),
        ),
        Value::Table(t) => params_json(t, task, path, env, d),
    }
}
