//! Validate phase: `flinkops.toml` and the environments' `[env]` / `[cluster]` tables.
//!
//! In: the spanned project table and overlay tables, read into the raw types of
//! [`crate::spec::raw`] (which report unknown keys, wrong types and unknown words). Out:
//! [`Project`] and [`Env`] with every default of SPEC §3 applied, plus a diagnostic for each
//! problem of meaning (names, versions, zones, dates, budgets).

use chrono::NaiveDate;
use indexmap::IndexMap;

use super::memory::MemorySize;
use super::names::{is_dns1123_label, is_label_key, is_label_value};
use super::read::*;
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::{Capacity, Defaults, Delivery, DeliveryTool, Env, Project, ScheduleStrategy};
use crate::spec::raw::{self, from_table};
use crate::spec::{EnvSource, Table, Value};
use crate::versions::Operator;

/// The words of `schedule_strategy` (the raw type spells them).
pub const STRATEGIES: &[&str] = raw::ScheduleStrategy::WORDS;

/// Parses `"1.30"` into (1, 30).
pub fn parse_minor(s: &str) -> Option<(u32, u32)> {
    let (a, b) = s.split_once('.')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// The strategy a `schedule_strategy` word names (`utc` for anything else: the word was
/// checked when it was read).
pub fn strategy(s: &str) -> ScheduleStrategy {
    match raw::ScheduleStrategy::ALL.iter().find(|w| w.word() == s) {
        Some(w) => strategy_of(*w),
        None => ScheduleStrategy::Utc,
    }
}

/// The model's strategy for the word read.
pub(crate) fn strategy_of(w: raw::ScheduleStrategy) -> ScheduleStrategy {
    match w {
        raw::ScheduleStrategy::Utc => ScheduleStrategy::Utc,
        raw::ScheduleStrategy::Native => ScheduleStrategy::Native,
        raw::ScheduleStrategy::Guarded => ScheduleStrategy::Guarded,
    }
}

/// Checks an IANA zone name against the compiled-in database.
pub fn check_timezone(tz: &Sp<String>, d: &mut Diagnostics) -> bool {
    if tz.value.parse::<chrono_tz::Tz>().is_ok() {
        return true;
    }
    let mut diag = Diagnostic::error(Code::UnknownTimeZone, format!("unknown time zone {:?}", tz.value))
        .at(&tz.loc)
        .label("not an IANA time-zone name");
    let names: Vec<&str> = chrono_tz::TZ_VARIANTS.iter().map(|z| z.name()).collect();
    diag = match suggest(&tz.value, &names) {
        Some(s) => diag.help(format!("did you mean {s:?}?")),
        None => diag.help("use an IANA name such as \"Asia/Shanghai\" or \"UTC\""),
    };
    d.push(diag);
    false
}

/// A non-empty string; an empty string counts as "not set" (the spec shows `image = ""`).
fn nonempty(s: &Option<Sp<String>>) -> Option<&Sp<String>> {
    s.as_ref().filter(|s| !s.value.is_empty())
}

fn cluster(c: &Sp<raw::Cluster>, d: &mut Diagnostics) -> Option<Capacity> {
    let cpu = match &c.value.cpu {
        Some(cpu) if cpu.value > 0.0 => cpu.value,
        Some(cpu) => {
            d.push(Diagnostic::error(Code::OutOfRange, "`cpu` in [cluster] must be positive").at(&cpu.loc).label("here"));
            return None;
        }
        None => {
            d.push(Diagnostic::error(Code::ClusterIncomplete, "[cluster] needs `cpu`").at(&c.loc).help("e.g. cpu = 32"));
            return None;
        }
    };
    let memory = match &c.value.memory {
        Some(m) => match MemorySize::parse(&m.value) {
            Ok(x) => x,
            Err(e) => {
                d.push(
                    Diagnostic::error(Code::InvalidCapacity, format!("`memory` in [cluster]: {e}")).at(&m.loc).label("not a memory size"),
                );
                return None;
            }
        },
        None => {
            d.push(Diagnostic::error(Code::ClusterIncomplete, "[cluster] needs `memory`").at(&c.loc).help("e.g. memory = \"128Gi\""));
            return None;
        }
    };
    Some(Capacity { cpu, memory })
}

/// Validates `flinkops.toml`. Returns `None` only when the file itself is missing or unparsable.
pub fn project(t: &Table, d: &mut Diagnostics) -> Option<Project> {
    let file: raw::ProjectFile = from_table(t, "flinkops.toml", d);
    // A missing table is an empty one where the file is (for "… is required" messages).
    let p = file.project.unwrap_or_else(|| Sp { value: raw::Project::default(), loc: t.loc.clone() });
    let target = file.target.unwrap_or_default();
    let defaults = file.defaults.unwrap_or_default();
    let schedule = file.schedule.unwrap_or_default();
    let scaler = file.scaler.unwrap_or_default();
    let delivery = file.delivery.unwrap_or_default();

    let name = match &p.value.name {
        Some(n) if is_dns1123_label(&n.value) => n.value.clone(),
        Some(n) => {
            d.push(
                Diagnostic::error(Code::InvalidName, format!("project name {:?} is not a DNS-1123 label", n.value))
                    .at(&n.loc)
                    .label("used in labels and object names")
                    .help("use at most 63 lower-case letters, digits and `-`, starting and ending with a letter or digit"),
            );
            "invalid".into()
        }
        None => {
            d.push(
                Diagnostic::error(Code::MissingProjectKey, "`[project] name` is required")
                    .at(&p.loc)
                    .help("add `name = \"my-project\"` under [project]"),
            );
            "invalid".into()
        }
    };

    let operator = match &target.operator {
        None => Operator::V1_15,
        Some(o) => match Operator::ALL.iter().find(|(s, _)| *s == o.value) {
            Some((_, op)) => *op,
            None => {
                d.push(
                    Diagnostic::error(Code::UnsupportedVersion, format!("unsupported operator version {:?}", o.value))
                        .at(&o.loc)
                        .label("expected \"1.15\" or \"1.16\"")
                        .help("\"1.15\" is the newest Flink Kubernetes Operator release; \"1.16\" is operator main"),
                );
                Operator::V1_15
            }
        },
    };
    let kubernetes = match &target.kubernetes {
        None => (1, 30),
        Some(k) => match parse_minor(&k.value) {
            // Every pipeline's HPA is `autoscaling/v2`, served from Kubernetes 1.23 on (and the
            // CronJobs `batch/v1`, from 1.21): an older cluster would reject the output.
            Some(v) if v.0 == 1 && v.1 >= 23 => v,
            _ => {
                d.push(
                    Diagnostic::error(
                        Code::UnsupportedVersion,
                        format!("`kubernetes` must be a supported \"1.MINOR\" version, found {:?}", k.value),
                    )
                    .at(&k.loc)
                    .label("e.g. \"1.30\"")
                    .help("HPA autoscaling/v2 and batch/v1 CronJob need Kubernetes 1.23 or newer; use e.g. \"1.30\""),
                );
                (1, 30)
            }
        },
    };

    let namespace = dns_label(&defaults.namespace, "namespace", "[defaults]", "flink-jobs", d);
    let timezone = match &defaults.timezone {
        Some(tz) => {
            check_timezone(tz, d);
            tz.value.clone()
        }
        None => "UTC".into(),
    };
    let schedule_strategy = defaults.schedule_strategy.as_ref().map_or(ScheduleStrategy::Utc, |s| strategy_of(s.value));
    let registry = nonempty(&defaults.registry).map(|r| r.value.trim_end_matches('/').to_string());
    let service_account = dns_label(&defaults.service_account, "service_account", "[defaults]", "flink", d);
    let manage_namespaces = defaults.manage_namespaces.as_ref().is_none_or(|b| b.value);

    let valid_from = match &schedule.valid_from {
        None => NaiveDate::from_ymd_opt(2026, 1, 1).expect("valid date"),
        Some(raw) => {
            let text = match &raw.node.value {
                Value::String(s) | Value::Datetime(s) => Some(s.clone()),
                _ => None,
            };
            match text.as_deref().and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()) {
                Some(dt) if dt >= NaiveDate::from_ymd_opt(1970, 1, 1).unwrap() && dt < NaiveDate::from_ymd_opt(2100, 1, 1).unwrap() => dt,
                _ => {
                    d.push(
                        Diagnostic::error(Code::InvalidDate, "`valid_from` in [schedule] must be a date between 1970-01-01 and 2099-12-31")
                            .at(&raw.node.loc)
                            .label("expected YYYY-MM-DD"),
                    );
                    NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()
                }
            }
        }
    };

    let scaler_image = nonempty(&scaler.image).and_then(|i| match super::image::check_pinned(&i.value) {
        Ok(()) => Some(i.value.clone()),
        Err(why) => {
            d.push(
                Diagnostic::error(Code::UnpinnedScalerImage, format!("scaler image {:?} {why}", i.value))
                    .at(&i.loc)
                    .label("not pinned")
                    .help("pin it with a version tag or an @sha256: digest"),
            );
            None
        }
    });

    let tool = match delivery.tool.as_ref().map(|t| t.value) {
        Some(raw::DeliveryTool::Flux) => DeliveryTool::Flux,
        Some(raw::DeliveryTool::None) => DeliveryTool::None,
        Some(raw::DeliveryTool::ArgoCd) | None => DeliveryTool::ArgoCd,
    };
    let flux_version = match &delivery.flux_version {
        None => (2, 9),
        Some(v) => parse_minor(&v.value).unwrap_or_else(|| {
            d.push(
                Diagnostic::error(Code::UnsupportedVersion, format!("`flux_version` must look like \"2.9\", found {:?}", v.value))
                    .at(&v.loc)
                    .label("here"),
            );
            (2, 9)
        }),
    };
    let flux_interval = match &delivery.flux_interval {
        None => "10m".to_string(),
        Some(v) => {
            if go_duration_ok(&v.value) {
                v.value.clone()
            } else {
                d.push(
                    Diagnostic::error(
                        Code::InvalidFluxInterval,
                        format!("`flux_interval` {:?} is not a duration Flux understands", v.value),
                    )
                    .at(&v.loc)
                    .label("e.g. \"10m\" or \"1h\""),
                );
                "10m".into()
            }
        }
    };
    let str_or = |v: &Option<Sp<String>>, default: &str| nonempty(v).map_or_else(|| default.to_string(), |s| s.value.clone());
    let flux_shards = flux_shards(&delivery.flux_shards, tool, d);
    let delivery = Delivery {
        tool,
        argocd_namespace: str_or(&delivery.argocd_namespace, "argocd"),
        argocd_project: str_or(&delivery.argocd_project, "default"),
        argocd_server: str_or(&delivery.argocd_server, "https://kubernetes.default.svc"),
        flux_namespace: str_or(&delivery.flux_namespace, "flux-system"),
        flux_source: str_or(&delivery.flux_source, "flux-system"),
        flux_version,
        flux_interval,
        self_heal: delivery.self_heal.as_ref().is_none_or(|b| b.value),
        prune: delivery.prune.as_ref().is_none_or(|b| b.value),
        flux_shards,
    };

    let repo_url = nonempty(&p.value.repo_url).map(|s| s.value.clone());
    if repo_url.is_none() && tool != DeliveryTool::None {
        d.push(
            Diagnostic::error(Code::MissingProjectKey, "`[project] repo_url` is required when delivery.tool is not \"none\"")
                .at(&p.loc)
                .help(
                    "add `repo_url = \"https://git.example.com/team/gitops.git\"` (what Argo CD / Flux pull), or set [delivery] tool = \"none\"",
                ),
        );
    }
    let revision = nonempty(&p.value.revision).map_or_else(|| "main".to_string(), |s| s.value.clone());
    let cluster = file.cluster.as_ref().and_then(|c| cluster(c, d));

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
fn flux_shards(n: &Option<Sp<i64>>, tool: DeliveryTool, d: &mut Diagnostics) -> u32 {
    let Some(n) = n else { return 0 };
    // More shards than this is no longer "one controller is not enough" but a typo.
    if !(0..=1024).contains(&n.value) {
        d.push(
            Diagnostic::error(Code::OutOfRange, format!("`flux_shards` in [delivery] is {}, out of range", n.value))
                .at(&n.loc)
                .label("must be between 0 and 1024"),
        );
        return 0;
    }
    if n.value > 0 && tool != DeliveryTool::Flux {
        d.push(
            Diagnostic::warning(Code::FluxShardsIgnored, "`flux_shards` has no effect unless delivery.tool is \"flux\"")
                .at(&n.loc)
                .label("ignored")
                .help("remove it, or set [delivery] tool = \"flux\""),
        );
    }
    n.value as u32
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

fn dns_label(s: &Option<Sp<String>>, key: &str, section: &str, default: &str, d: &mut Diagnostics) -> String {
    match s {
        None => default.to_string(),
        Some(s) if is_dns1123_label(&s.value) => s.value.clone(),
        Some(s) => {
            d.push(
                Diagnostic::error(Code::InvalidName, format!("`{key}` {:?} in {section} is not a DNS-1123 label", s.value))
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
    let file: raw::OverlayFile = from_table(t, &format!("overlays/{}/overlay.toml", src.name), d);
    if let Some(e) = &file.env {
        if e.namespace.is_some() {
            env.namespace = Some(dns_label(&e.namespace, "namespace", "[env]", "flink-jobs", d));
        }
        if let Some(tz) = &e.timezone {
            check_timezone(tz, d);
            env.timezone = Some(tz.value.clone());
        }
        if let Some(l) = e.labels.as_ref().and_then(|l| l.table()) {
            env.labels = labels(l, "[env.labels]", d);
        }
        env.manage_namespaces = e.manage_namespaces.as_ref().map(|b| b.value);
    }
    if let Some(c) = &file.cluster {
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
                Diagnostic::error(
                    Code::WrongType,
                    format!("label `{k}` in {section} must be a string, found {}", e.node.value.type_name()),
                )
                .at(&e.node.loc)
                .label("expected a string"),
            );
            continue;
        };
        if !is_label_key(k) {
            d.push(
                Diagnostic::error(Code::InvalidLabel, format!("`{k}` is not a valid Kubernetes label key"))
                    .at(&e.key_loc)
                    .label("invalid label key"),
            );
            continue;
        }
        if k.starts_with("flinkops.dev/") || k.starts_with("app.kubernetes.io/managed-by") || k.starts_with("app.kubernetes.io/part-of") {
            d.push(
                Diagnostic::error(Code::InvalidLabel, format!("label `{k}` is set by flinkops"))
                    .at(&e.key_loc)
                    .label("reserved")
                    .help("remove it; flinkops sets managed-by, part-of and the flinkops.dev/ labels itself"),
            );
            continue;
        }
        if !is_label_value(v) {
            d.push(
                Diagnostic::error(Code::InvalidLabel, format!("{v:?} is not a valid Kubernetes label value"))
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
