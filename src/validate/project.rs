//! Validate phase: `flinkops.toml` and the environments' `[env]` / `[cluster]` tables.
//!
//! In: the spanned project table and overlay tables. Out: [`Project`] and [`Env`] with every
//! default of SPEC §3 applied, plus a diagnostic for each problem.

use chrono::NaiveDate;
use indexmap::IndexMap;

use super::memory::MemorySize;
use super::names::{is_dns1123_label, is_label_key, is_label_value};
use super::read::*;
use crate::diag::{Diagnostic, Diagnostics};
use crate::model::{Capacity, Defaults, Delivery, DeliveryTool, Env, Project, ScheduleStrategy};
use crate::spec::{EnvSource, Table, Value};
use crate::versions::Operator;

// The keys each section accepts come from the key registry, like the JSON Schemas and
// docs/reference.md (as in validate/pipeline.rs).
pub const TOP_KEYS: &[&str] = crate::schema::keys::key_names!(crate::schema::keys::PROJECT_FILE);
pub const PROJECT_KEYS: &[&str] = crate::schema::keys::key_names!(crate::schema::keys::PROJECT);
pub const TARGET_KEYS: &[&str] = crate::schema::keys::key_names!(crate::schema::keys::TARGET);
pub const DEFAULTS_KEYS: &[&str] = crate::schema::keys::key_names!(crate::schema::keys::DEFAULTS);
pub const SCHEDULE_KEYS: &[&str] = crate::schema::keys::key_names!(crate::schema::keys::SCHEDULE);
pub const SCALER_KEYS: &[&str] = crate::schema::keys::key_names!(crate::schema::keys::SCALER);
pub const DELIVERY_KEYS: &[&str] = crate::schema::keys::key_names!(crate::schema::keys::DELIVERY);
pub const CLUSTER_KEYS: &[&str] = crate::schema::keys::key_names!(crate::schema::keys::CLUSTER);
pub const OVERLAY_KEYS: &[&str] = crate::schema::keys::key_names!(crate::schema::keys::OVERLAY_FILE);
pub const ENV_KEYS: &[&str] = crate::schema::keys::key_names!(crate::schema::keys::ENV);

pub const STRATEGIES: &[&str] = &["utc", "native", "guarded"];

fn sub<'t>(t: &'t Table, key: &str, known: &[&str], d: &mut Diagnostics) -> Option<&'t Table> {
    let s = opt_table(t, key, "flinkops.toml", d)?;
    check_keys(s, &format!("[{key}]"), known, d);
    Some(s)
}

/// Parses `"1.30"` into (1, 30).
pub fn parse_minor(s: &str) -> Option<(u32, u32)> {
    let (a, b) = s.split_once('.')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

pub fn strategy(s: &str) -> ScheduleStrategy {
    match s {
        "native" => ScheduleStrategy::Native,
        "guarded" => ScheduleStrategy::Guarded,
        _ => ScheduleStrategy::Utc,
    }
}

/// Checks an IANA zone name against the compiled-in database.
pub fn check_timezone(tz: &Sp<String>, d: &mut Diagnostics) -> bool {
    if tz.value.parse::<chrono_tz::Tz>().is_ok() {
        return true;
    }
    let mut diag = Diagnostic::error(format!("unknown time zone {:?}", tz.value)).at(&tz.loc).label("not an IANA time-zone name");
    let names: Vec<&str> = chrono_tz::TZ_VARIANTS.iter().map(|z| z.name()).collect();
    diag = match suggest(&tz.value, &names) {
        Some(s) => diag.help(format!("did you mean {s:?}?")),
        None => diag.help("use an IANA name such as \"Asia/Shanghai\" or \"UTC\""),
    };
    d.push(diag);
    false
}

fn cluster(t: &Table, d: &mut Diagnostics) -> Option<Capacity> {
    let section = "[cluster]";
    let cpu = opt_number(t, "cpu", section, d);
    let mem = opt_str(t, "memory", section, d);
    let cpu = match cpu {
        Some(c) if c.value > 0.0 => c.value,
        Some(c) => {
            d.push(Diagnostic::error("`cpu` in [cluster] must be positive").at(&c.loc).label("here"));
            return None;
        }
        None => {
            d.push(Diagnostic::error("[cluster] needs `cpu`").at(&t.loc).help("e.g. cpu = 32"));
            return None;
        }
    };
    let memory = match mem {
        Some(m) => match MemorySize::parse(&m.value) {
            Ok(x) => x,
            Err(e) => {
                d.push(Diagnostic::error(format!("`memory` in [cluster]: {e}")).at(&m.loc).label("not a memory size"));
                return None;
            }
        },
        None => {
            d.push(Diagnostic::error("[cluster] needs `memory`").at(&t.loc).help("e.g. memory = \"128Gi\""));
            return None;
        }
    };
    Some(Capacity { cpu, memory })
}

/// Validates `flinkops.toml`. Returns `None` only when the file itself is missing or unparsable.
pub fn project(t: &Table, d: &mut Diagnostics) -> Option<Project> {
    check_keys(t, "flinkops.toml", TOP_KEYS, d);
    let empty = Table::empty(t.loc.clone());
    let p = sub(t, "project", PROJECT_KEYS, d).unwrap_or(&empty);
    let target = sub(t, "target", TARGET_KEYS, d).unwrap_or(&empty);
    let defaults = sub(t, "defaults", DEFAULTS_KEYS, d).unwrap_or(&empty);
    let schedule = sub(t, "schedule", SCHEDULE_KEYS, d).unwrap_or(&empty);
    let scaler = sub(t, "scaler", SCALER_KEYS, d).unwrap_or(&empty);
    let delivery = sub(t, "delivery", DELIVERY_KEYS, d).unwrap_or(&empty);

    let name = match opt_str(p, "name", "[project]", d) {
        Some(n) if is_dns1123_label(&n.value) => n.value,
        Some(n) => {
            d.push(
                Diagnostic::error(format!("project name {:?} is not a DNS-1123 label", n.value))
                    .at(&n.loc)
                    .label("used in labels and object names")
                    .help("use at most 63 lower-case letters, digits and `-`, starting and ending with a letter or digit"),
            );
            "invalid".into()
        }
        None => {
            d.push(Diagnostic::error("`[project] name` is required").at(&p.loc).help("add `name = \"my-project\"` under [project]"));
            "invalid".into()
        }
    };

    let operator = match opt_str(target, "operator", "[target]", d) {
        None => Operator::V1_15,
        Some(o) => match Operator::ALL.iter().find(|(s, _)| *s == o.value) {
            Some((_, op)) => *op,
            None => {
                d.push(
                    Diagnostic::error(format!("unsupported operator version {:?}", o.value))
                        .at(&o.loc)
                        .label("expected \"1.15\" or \"1.16\"")
                        .help("\"1.15\" is the newest Flink Kubernetes Operator release; \"1.16\" is operator main"),
                );
                Operator::V1_15
            }
        },
    };
    let kubernetes = match opt_str(target, "kubernetes", "[target]", d) {
        None => (1, 30),
        Some(k) => match parse_minor(&k.value) {
            Some(v) if v.0 == 1 && v.1 >= 19 => v,
            _ => {
                d.push(
                    Diagnostic::error(format!("`kubernetes` must be a supported \"1.MINOR\" version, found {:?}", k.value))
                        .at(&k.loc)
                        .label("e.g. \"1.30\"")
                        .help("HPA autoscaling/v2 and batch/v1 CronJob need Kubernetes 1.23 or newer; use e.g. \"1.30\""),
                );
                (1, 30)
            }
        },
    };

    let namespace = dns_label(defaults, "namespace", "[defaults]", "flink-jobs", d);
    let timezone = match opt_str(defaults, "timezone", "[defaults]", d) {
        Some(tz) => {
            check_timezone(&tz, d);
            tz.value
        }
        None => "UTC".into(),
    };
    let schedule_strategy =
        opt_choice(defaults, "schedule_strategy", "[defaults]", STRATEGIES, d).map_or(ScheduleStrategy::Utc, |s| strategy(&s.value));
    let registry = opt_nonempty_str(defaults, "registry", "[defaults]", d).map(|r| r.value.trim_end_matches('/').to_string());
    let service_account = dns_label(defaults, "service_account", "[defaults]", "flink", d);
    let manage_namespaces = opt_bool(defaults, "manage_namespaces", "[defaults]", d).is_none_or(|b| b.value);

    let valid_from = match schedule.get("valid_from") {
        None => NaiveDate::from_ymd_opt(2026, 1, 1).expect("valid date"),
        Some(e) => {
            let text = match &e.node.value {
                Value::String(s) | Value::Datetime(s) => Some(s.clone()),
                _ => None,
            };
            match text.as_deref().and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()) {
                Some(dt) if dt >= NaiveDate::from_ymd_opt(1970, 1, 1).unwrap() && dt < NaiveDate::from_ymd_opt(2100, 1, 1).unwrap() => dt,
                _ => {
                    d.push(
                        Diagnostic::error("`valid_from` in [schedule] must be a date between 1970-01-01 and 2099-12-31")
                            .at(&e.node.loc)
                            .label("expected YYYY-MM-DD"),
                    );
                    NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()
                }
            }
        }
    };

    let scaler_image = opt_nonempty_str(scaler, "image", "[scaler]", d).and_then(|i| match super::image::check_pinned(&i.value) {
        Ok(()) => Some(i.value),
        Err(why) => {
            d.push(
                Diagnostic::error(format!("scaler image {:?} {why}", i.value))
                    .at(&i.loc)
                    .label("not pinned")
                    .help("pin it with a version tag or an @sha256: digest"),
            );
            None
        }
    });

    let tool = match opt_choice(delivery, "tool", "[delivery]", crate::schema::keys::DELIVERY_TOOLS, d).as_ref().map(|s| s.value.as_str()) {
        Some("flux") => DeliveryTool::Flux,
        Some("none") => DeliveryTool::None,
        _ => DeliveryTool::ArgoCd,
    };
    let flux_version = match opt_str(delivery, "flux_version", "[delivery]", d) {
        None => (2, 9),
        Some(v) => parse_minor(&v.value).unwrap_or_else(|| {
            d.push(Diagnostic::error(format!("`flux_version` must look like \"2.9\", found {:?}", v.value)).at(&v.loc).label("here"));
            (2, 9)
        }),
    };
    let flux_interval = match opt_str(delivery, "flux_interval", "[delivery]", d) {
        None => "10m".to_string(),
        Some(v) => {
            if go_duration_ok(&v.value) {
                v.value
            } else {
                d.push(
                    Diagnostic::error(format!("`flux_interval` {:?} is not a duration Flux understands", v.value))
                        .at(&v.loc)
                        .label("e.g. \"10m\" or \"1h\""),
                );
                "10m".into()
            }
        }
    };
    let str_or = |key: &str, default: &str, d: &mut Diagnostics| {
        opt_nonempty_str(delivery, key, "[delivery]", d).map_or_else(|| default.to_string(), |s| s.value)
    };
    let delivery = Delivery {
        tool,
        argocd_namespace: str_or("argocd_namespace", "argocd", d),
        argocd_project: str_or("argocd_project", "default", d),
        argocd_server: str_or("argocd_server", "https://kubernetes.default.svc", d),
        flux_namespace: str_or("flux_namespace", "flux-system", d),
        flux_source: str_or("flux_source", "flux-system", d),
        flux_version,
        flux_interval,
        self_heal: opt_bool(delivery, "self_heal", "[delivery]", d).is_none_or(|b| b.value),
        prune: opt_bool(delivery, "prune", "[delivery]", d).is_none_or(|b| b.value),
        flux_shards: flux_shards(delivery, tool, d),
    };

    let repo_url = opt_nonempty_str(p, "repo_url", "[project]", d).map(|s| s.value);
    if repo_url.is_none() && tool != DeliveryTool::None {
        d.push(Diagnostic::error("`[project] repo_url` is required when delivery.tool is not \"none\"").at(&p.loc).help(
            "add `repo_url = \"https://git.example.com/team/gitops.git\"` (what Argo CD / Flux pull), or set [delivery] tool = \"none\"",
        ));
    }
    let revision = opt_nonempty_str(p, "revision", "[project]", d).map_or_else(|| "main".to_string(), |s| s.value);
    let cluster = opt_table(t, "cluster", "flinkops.toml", d).and_then(|c| {
        check_keys(c, "[cluster]", CLUSTER_KEYS, d);
        cluster(c, d)
    });

    Some(Project {
        name,
        repo_url,
        revision,
        operator,
        kubernetes,
        defaults: Defaults { namespace, timezone, schedule_strategy, registry, service_account, manage_namespaces },
        valid_from,
        scaler_image,
        delivery,
        cluster,
    })
}

/// `[delivery] flux_shards` (SPEC §14): 0 (off) or the number of kustomize-controller shards.
/// Flux shards are a Flux feature: set with another tool, it would silently do nothing, so that
/// is a warning.
fn flux_shards(delivery: &Table, tool: DeliveryTool, d: &mut Diagnostics) -> u32 {
    // More shards than this is no longer "one controller is not enough" but a typo.
    let n = opt_int_in(delivery, "flux_shards", "[delivery]", 0, 1024, d);
    if let Some(n) = &n
        && n.value > 0
        && tool != DeliveryTool::Flux
    {
        d.push(
            Diagnostic::warning("`flux_shards` has no effect unless delivery.tool is \"flux\"")
                .at(&n.loc)
                .label("ignored")
                .help("remove it, or set [delivery] tool = \"flux\""),
        );
    }
    n.map_or(0, |n| n.value as u32)
}

/// Go's time.ParseDuration subset that Flux accepts: e.g. `1m30s`, `10m`, `1h`.
fn go_duration_ok(s: &str) -> bool {
    let mut rest = s;
    if rest.is_empty() {
        return false;
    }
    while !rest.is_empty() {
        let n = rest.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(rest.len());
        if n == 0 {
            return false;
        }
        rest = &rest[n..];
        let u = ["ms", "h", "m", "s"].iter().find(|u| rest.starts_with(*u));
        match u {
            Some(u) => rest = &rest[u.len()..],
            None => return false,
        }
    }
    true
}

fn dns_label(t: &Table, key: &str, section: &str, default: &str, d: &mut Diagnostics) -> String {
    match opt_str(t, key, section, d) {
        None => default.to_string(),
        Some(s) if is_dns1123_label(&s.value) => s.value,
        Some(s) => {
            d.push(
                Diagnostic::error(format!("`{key}` {:?} in {section} is not a DNS-1123 label", s.value))
                    .at(&s.loc)
                    .label("invalid name")
                    .help("use at most 63 lower-case letters, digits and `-`, starting and ending with a letter or digit"),
            );
            default.to_string()
        }
    }
}

/// Validates an environment's `[env]` and `[cluster]` (the rest of the overlay is applied by
/// the pipeline and patch phases).
pub fn env(src: &EnvSource, sources: &crate::diag::Sources, d: &mut Diagnostics) -> Env {
    let mut env = Env {
        name: src.name.clone(),
        file: src.file.map(|f| sources.path(f).to_string()),
        namespace: None,
        timezone: None,
        labels: IndexMap::new(),
        cluster: None,
        manage_namespaces: None,
    };
    let Some(t) = &src.table else { return env };
    let section = format!("overlays/{}/overlay.toml", src.name);
    check_keys(t, &section, OVERLAY_KEYS, d);
    if let Some(e) = opt_table(t, "env", &section, d) {
        check_keys(e, "[env]", ENV_KEYS, d);
        if e.get("namespace").is_some() {
            env.namespace = Some(dns_label(e, "namespace", "[env]", "flink-jobs", d));
        }
        if let Some(tz) = opt_str(e, "timezone", "[env]", d) {
            check_timezone(&tz, d);
            env.timezone = Some(tz.value);
        }
        if let Some(l) = opt_table(e, "labels", "[env]", d) {
            env.labels = labels(l, "[env.labels]", d);
        }
        env.manage_namespaces = opt_bool(e, "manage_namespaces", "[env]", d).map(|b| b.value);
    }
    if let Some(c) = opt_table(t, "cluster", &section, d) {
        check_keys(c, "[cluster]", CLUSTER_KEYS, d);
        env.cluster = cluster(c, d);
    }
    env
}

/// Reads a label table, checking Kubernetes label syntax.
pub fn labels(t: &Table, section: &str, d: &mut Diagnostics) -> IndexMap<String, String> {
    let mut out = IndexMap::new();
    for (k, e) in &t.entries {
        let Value::String(v) = &e.node.value else {
            d.push(
                Diagnostic::error(format!("label `{k}` in {section} must be a string, found {}", e.node.value.type_name()))
                    .at(&e.node.loc)
                    .label("expected a string"),
            );
            continue;
        };
        if !is_label_key(k) {
            d.push(Diagnostic::error(format!("`{k}` is not a valid Kubernetes label key")).at(&e.key_loc).label("invalid label key"));
            continue;
        }
        if k.starts_with("flinkops.dev/") || k.starts_with("app.kubernetes.io/managed-by") || k.starts_with("app.kubernetes.io/part-of") {
            d.push(
                Diagnostic::error(format!("label `{k}` is set by flinkops"))
                    .at(&e.key_loc)
                    .label("reserved")
                    .help("remove it; flinkops sets managed-by, part-of and the flinkops.dev/ labels itself"),
            );
            continue;
        }
        if !is_label_value(v) {
            d.push(
                Diagnostic::error(format!("{v:?} is not a valid Kubernetes label value"))
                    .at(&e.node.loc)
                    .label("invalid label value")
                    .help("at most 63 characters: letters, digits, `-`, `_`, `.`, starting and ending with a letter or digit"),
            );
            continue;
        }
        out.insert(k.clone(), v.clone());
    }
    out.sort_keys();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flux_intervals_follow_go_duration_syntax() {
        assert!(go_duration_ok("10m"));
        assert!(go_duration_ok("1m30s"));
        assert!(!go_duration_ok("10 minutes"));
        assert!(!go_duration_ok(""));
    }
}
