//! Validate phase: the `[flink]` section of one pipeline.
//!
//! In: `[flink]` as read ([`raw::Flink`]), the autoscaling mode and `job.bounded` (they decide the deployment
//! mode and whether the job checkpoints), the pipeline's name and namespace (for `{name}` in
//! state URIs), the project's operator. Out: the checked runtime version, Java, deployment mode,
//! image, slots, state backend and storage, high availability, `[flink.config]` with deprecated
//! keys rewritten, and `[flink.env]`; every problem pushed as a diagnostic.

use indexmap::IndexMap;

use super::{Ctx, duration, in_range, is_uri, nonempty, not_a_duration};
use crate::diag::{Code, Diagnostic, Diagnostics, Loc};
use crate::model::*;
use crate::spec::raw::{self, Sp};
use crate::spec::{Node, Table, Value};
use crate::validate::flinkconf;
use crate::validate::image;
use crate::validate::names::{is_dns1123_label, not_a_label};
use crate::validate::secrets::is_secret_looking;
use crate::versions::{FLINK_MINORS, FlinkMinor, FlinkVersion, Operator};

/// `[flink]` checked, before it is assembled into [`Flink`] (the version is read first, on its
/// own: every other section depends on it).
pub(super) struct Section {
    pub java: u32,
    pub mode: DeploymentMode,
    pub image: Option<Sp<String>>,
    pub service_account: String,
    pub slots: u32,
    pub state_backend: StateBackend,
    pub checkpoint_interval: Option<Duration>,
    pub checkpoint_dir: Option<String>,
    pub savepoint_dir: Option<String>,
    pub high_availability: bool,
    pub ha_dir: Option<String>,
    pub config: IndexMap<String, String>,
    pub env: Vec<EnvVar>,
}

/// What `[flink]` needs from the rest of the pipeline.
pub(super) struct Inputs<'a> {
    pub version: Option<FlinkVersion>,
    pub scaling: ScalingMode,
    pub bounded: bool,
    pub name: &'a str,
    pub namespace: &'a str,
}

/// Checks every `[flink]` key but `version`.
pub(super) fn section(f: &raw::Flink, i: &Inputs<'_>, cx: &Ctx<'_>, d: &mut Diagnostics) -> Section {
    let (version, mode, is_bounded, name, namespace) = (i.version, i.scaling, i.bounded, i.name, i.namespace);
    let minor = version.map(|v| v.minor);
    let java = match (&f.java, minor) {
        (Some(j), Some(m)) => {
            if m.java.iter().any(|x| i64::from(*x) == j.value) {
                j.value as u32
            } else {
                d.push(
                    Diagnostic::error(Code::NotForThisFlink, format!("Java {} is not offered for Flink {}", j.value, m.label()))
                        .at(&j.loc)
                        .label(format!("official images exist for Java {}", join_nums(m.java)))
                        .help(format!("use one of {} (default {})", join_nums(m.java), m.default_java)),
                );
                m.default_java
            }
        }
        (_, Some(m)) => m.default_java,
        (_, None) => 17,
    };
    let deploy_mode = match &f.mode {
        Some(m) if m.value == raw::DeployMode::Native && mode.is_reactive_family() => {
            d.push(
                Diagnostic::error(
                    Code::DeploymentModeConflict,
                    format!("`flink.mode = \"native\"` conflicts with autoscaling mode `{}`", mode.as_str()),
                )
                .at(&m.loc)
                .label("reactive scaling needs standalone mode")
                .note("Flink's reactive mode works only in standalone application clusters")
                .help("remove `flink.mode` (flinkops then uses standalone), or choose autoscaling mode `operator`"),
            );
            DeploymentMode::Standalone
        }
        Some(m) => match m.value {
            raw::DeployMode::Native => DeploymentMode::Native,
            raw::DeployMode::Standalone => DeploymentMode::Standalone,
        },
        None if mode.is_reactive_family() => DeploymentMode::Standalone,
        None => DeploymentMode::Native,
    };
    let explicit_image = nonempty(&f.image);
    if let (Some(img), Some(v)) = (&explicit_image, version) {
        check_explicit_image(img, &v, d);
    }
    let service_account = match &f.service_account {
        Some(s) if is_dns1123_label(&s.value) => s.value.clone(),
        Some(s) => {
            d.push(not_a_label("service account", &s.value).at(&s.loc).label("invalid name"));
            s.value.clone()
        }
        None => cx.project.defaults.service_account.clone(),
    };
    let slots = in_range(&f.slots, "slots", "[flink]", 1, 1024, d).map_or(1, |s| s.value as u32);
    let state_backend = match &f.state_backend {
        Some(s) => match s.value {
            raw::StateBackend::Forst => {
                if minor.is_some_and(|m| !m.is_2x()) {
                    d.push(
                        Diagnostic::error(Code::NotForThisFlink, "the ForSt state backend needs Flink 2.x")
                            .at(&s.loc)
                            .label("not available on Flink 1.x")
                            .help("use \"rocksdb\", or upgrade flink.version to 2.x"),
                    );
                }
                StateBackend::Forst
            }
            raw::StateBackend::Hashmap => StateBackend::Hashmap,
            raw::StateBackend::Rocksdb => StateBackend::Rocksdb,
        },
        None => StateBackend::Rocksdb,
    };
    let checkpoint_interval = match &f.checkpoint_interval {
        None if is_bounded => None,
        None => Some(duration("60s").expect("the default checkpoint interval is a duration")),
        Some(s) if is_bounded => {
            d.push(
                Diagnostic::error(Code::BoundedJobConflict, "a bounded job cannot have a `checkpoint_interval`")
                    .at(&s.loc)
                    .label("BATCH jobs do not checkpoint")
                    .note("`job.bounded = true` makes it a BATCH job")
                    .help("remove `checkpoint_interval` (a bounded job recovers by re-running failed tasks), or drop `bounded`"),
            );
            None
        }
        Some(s) => match duration(&s.value) {
            Ok(i) if i.millis() == 0 => {
                d.push(
                    Diagnostic::error(Code::OutOfRange, "`checkpoint_interval` must be positive")
                        .at(&s.loc)
                        .label("checkpointing must stay on")
                        .help("flinkops deployments rely on checkpoints for upgrades and rescaling; use e.g. \"60s\""),
                );
                None
            }
            Ok(i) => Some(i),
            Err(e) => {
                d.push(not_a_duration("checkpoint_interval", &e, &s.loc));
                None
            }
        },
    };
    let subst = |s: &str| s.replace("{env}", &cx.env.name).replace("{name}", name).replace("{namespace}", namespace);
    let uri = |key: &str, v: &Option<Sp<String>>, d: &mut Diagnostics| -> Option<String> {
        let v = nonempty(v)?;
        let s = subst(&v.value);
        if !is_uri(&s) {
            d.push(
                Diagnostic::error(Code::NotAUri, format!("`{key}` {:?} is not a URI", v.value))
                    .at(&v.loc)
                    .label("expected a scheme such as s3://, gs://, hdfs:// or file://")
                    .help("state must live on storage every JobManager and TaskManager can reach, e.g. \"s3://bucket/{env}/{name}/checkpoints\""),
            );
        }
        Some(s)
    };
    let checkpoint_dir = uri("checkpoint_dir", &f.checkpoint_dir, d);
    let savepoint_dir = uri("savepoint_dir", &f.savepoint_dir, d);
    let ha_dir = uri("ha_dir", &f.ha_dir, d);
    let ha = &f.high_availability;
    let high_availability = ha.as_ref().is_some_and(|h| h.value);
    if high_availability && ha_dir.is_none() {
        d.push(
            Diagnostic::error(Code::NeedsSetting, "`high_availability = true` needs `ha_dir`")
                .at(&ha.as_ref().unwrap().loc)
                .label("HA metadata needs durable storage")
                .help("add e.g. `ha_dir = \"s3://flink/{env}/{name}/ha\"` to [flink]"),
        );
    }
    // FLINK-38795: standalone + HA is broken on Flink 2.x with every released operator.
    if let (Some(h), Some(m)) = (ha, minor)
        && h.value
        && deploy_mode == DeploymentMode::Standalone
        && m.is_2x()
        && cx.project.operator == Operator::V1_15
    {
        d.push(
                Diagnostic::error(Code::StandaloneHaBroken, format!(
                    "high availability with standalone mode does not work on Flink {} with operator 1.15 (FLINK-38795)",
                    m.label()
                ))
                .at(&h.loc)
                .label("standalone + HA on Flink 2.x")
                .note("Flink 2.0 removed `--host` from the standalone entrypoints the operator uses; only operator main (1.16) has the fix")
                .help("turn HA off and use `upgrade_mode = \"savepoint\"`, or use autoscaling mode `operator` (native), or Flink 1.20, or target operator \"1.16\""),
            );
    }

    let mut config = IndexMap::new();
    if let (Some(c), Some(m)) = (f.config.as_ref().and_then(|c| c.table()), minor) {
        config = flink_config(c, m, d);
    }
    let env = f.env.as_ref().and_then(|e| e.table()).map_or_else(Vec::new, |e| flink_env(e, d));

    Section {
        java,
        mode: deploy_mode,
        image: explicit_image,
        service_account,
        slots,
        state_backend,
        checkpoint_interval,
        checkpoint_dir,
        savepoint_dir,
        high_availability,
        ha_dir,
        config,
        env,
    }
}

fn join_nums(v: &[u32]) -> String {
    v.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
}

/// `flink.version`; `f.loc` is `[flink]`'s place (the pipeline's, without one).
pub(super) fn version(f: &Sp<raw::Flink>, operator: Operator, d: &mut Diagnostics) -> Option<FlinkVersion> {
    let Some(v) = &f.value.version else {
        d.push(
            Diagnostic::error(Code::MissingKey, "`flink.version` is required")
                .at(&f.loc)
                .label("no version here")
                .help("add `version = \"2.2.1\"` to [flink]: the full X.Y.Z runtime version"),
        );
        return None;
    };
    let parts: Vec<Option<u32>> = v.value.split('.').map(|p| p.parse().ok()).collect();
    let [Some(major), Some(minor), Some(patch)] = parts[..] else {
        d.push(
            Diagnostic::error(Code::UnsupportedFlinkVersion, format!("`flink.version` must be a full X.Y.Z version, found {:?}", v.value))
                .at(&v.loc)
                .label("e.g. \"2.2.1\"")
                .help("the patch version decides the base image and PyFlink release; a bare minor would float"),
        );
        return None;
    };
    let known = || FLINK_MINORS.iter().map(|m| format!("{}.{}.{}", m.major, m.minor, m.newest_patch)).collect::<Vec<_>>().join(", ");
    if (major, minor) < (1, 19) {
        d.push(
            Diagnostic::error(Code::UnsupportedFlinkVersion, format!("Flink {}.{} is not supported", major, minor))
                .at(&v.loc)
                .label("below 1.19")
                .help(format!("upgrade to a supported version: {}", known())),
        );
        return None;
    }
    let Some(m) = FlinkMinor::find(major, minor) else {
        d.push(
            Diagnostic::error(Code::UnsupportedFlinkVersion, format!("Flink {major}.{minor} is not known to this flinkops"))
                .at(&v.loc)
                .label("unknown minor")
                .help(format!("known versions (newest patch of each): {}", known())),
        );
        return None;
    };
    if patch > m.newest_patch {
        d.push(
            Diagnostic::error(
                Code::UnsupportedFlinkVersion,
                format!(
                    "Flink {} is not released (newest {}.{} patch known: {}.{}.{})",
                    v.value, major, minor, major, minor, m.newest_patch
                ),
            )
            .at(&v.loc)
            .label("no image or PyFlink release for this version")
            .help(format!("use {}.{}.{}", major, minor, m.newest_patch)),
        );
        return None;
    }
    if m.min_operator > operator {
        d.push(
            Diagnostic::error(
                Code::FlinkNeedsNewerOperator,
                format!(
                    "Flink {}.{} (flinkVersion {}) needs operator {}; the project targets {}",
                    major,
                    minor,
                    m.crd_version,
                    m.min_operator.as_str(),
                    operator.as_str()
                ),
            )
            .at(&v.loc)
            .label("the targeted operator's CRD rejects this flinkVersion")
            .help(format!("set [target] operator = \"{}\" in flinkops.toml, or use Flink 2.2.1", m.min_operator.as_str())),
        );
        return None;
    }
    if !m.maintained {
        d.push(
            Diagnostic::warning(Code::FlinkUnmaintained, format!("Flink {}.{} is no longer maintained upstream", major, minor))
                .at(&v.loc)
                .label("no more bug or security fixes")
                .help("plan an upgrade to Flink 1.20 or 2.x"),
        );
    }
    Some(FlinkVersion { patch, minor: m })
}

fn check_explicit_image(img: &Sp<String>, v: &FlinkVersion, d: &mut Diagnostics) {
    if let Err(why) = image::check_pinned(&img.value) {
        d.push(
            Diagnostic::error(Code::NotPinned, format!("image {:?} {why}", img.value))
                .at(&img.loc)
                .label("not pinned")
                .help("pin the image with a full version tag (e.g. :2.2.1-scala_2.12-java17) or an @sha256: digest"),
        );
        return;
    }
    let r = image::parse(&img.value);
    if let (true, Some(tag)) = (image::is_official_flink(r.repository), r.tag) {
        let iv = image::official_flink_version(tag);
        if iv != v.to_string() {
            d.push(
                Diagnostic::error(Code::FlinkVersionMismatch, format!("image {:?} runs Flink {iv}, but flink.version is {v}", img.value))
                    .at(&img.loc)
                    .label("version mismatch")
                    .help(format!("use `flink:{v}-scala_2.12-java<NN>`, or change flink.version")),
            );
        }
    }
}

fn scalar_string(n: &Node) -> Option<String> {
    match &n.value {
        Value::String(s) => Some(s.clone()),
        Value::Integer(i) => Some(i.to_string()),
        Value::Float(f) => Some(f.to_string()),
        Value::Boolean(b) => Some(b.to_string()),
        Value::Datetime(s) => Some(s.clone()),
        _ => None,
    }
}

/// Keys that flinkops derives from typed spec fields; setting them in `[flink.config]` would
/// fight the typed field, so it is an error pointing at the field to use.
fn owned_key(key: &str, minor: &FlinkMinor) -> Option<&'static str> {
    Some(match key {
        "taskmanager.numberOfTaskSlots" => "flink.slots",
        "state.backend.type" => "flink.state_backend",
        "execution.checkpointing.interval" => "flink.checkpoint_interval",
        "high-availability.type" => "flink.high_availability",
        "high-availability.storageDir" => "flink.ha_dir",
        "scheduler-mode" => "autoscaling.mode",
        "kubernetes.operator.periodic.savepoint.interval" => "job.periodic_savepoint",
        "kubernetes.operator.job.savepoint-on-deletion" => "job.upgrade_mode",
        "taskmanager.memory.process.size" => "resources.taskmanager.memory",
        "jobmanager.memory.process.size" => "resources.jobmanager.memory",
        k if k == minor.keys.checkpoint_dir => "flink.checkpoint_dir",
        k if k == minor.keys.savepoint_dir => "flink.savepoint_dir",
        k if k.starts_with("job.autoscaler.") => "[autoscaling.operator]",
        _ => return None,
    })
}

fn flink_config(t: &Table, minor: &FlinkMinor, d: &mut Diagnostics) -> IndexMap<String, String> {
    let mut out: IndexMap<String, String> = IndexMap::new();
    let mut locs: IndexMap<String, Loc> = IndexMap::new();
    for (k, e) in &t.entries {
        let Some(v) = scalar_string(&e.node) else {
            d.push(
                Diagnostic::error(Code::WrongType, format!("`{k}` in [flink.config] must be a string, number or boolean"))
                    .at(&e.node.loc)
                    .label(format!("found {}", e.node.value.type_name()))
                    .help("flinkConfiguration is a flat map of strings: write the dotted key in quotes"),
            );
            continue;
        };
        if is_secret_looking(k) {
            d.push(
                Diagnostic::error(Code::SecretInPlainText, format!("secret-looking key `{k}` in [flink.config]"))
                    .at(&e.key_loc)
                    .label("flinkConfiguration is stored in plain text")
                    .help(format!(
                        "pass it as an environment variable from a Secret in [flink.env], e.g. `SOME_VAR = {{ secret = \"name\", key = \"{}\" }}`, and reference it from the job",
                        k.rsplit('.').next().unwrap_or(k)
                    )),
            );
            continue;
        }
        if flinkconf::FORBIDDEN_KEYS.contains(&k.as_str()) {
            d.push(
                Diagnostic::error(Code::OperatorOwnedKey, format!("`{k}` is set by the Flink Kubernetes Operator"))
                    .at(&e.key_loc)
                    .label("the operator owns this key")
                    .help("remove it: the namespace and cluster id come from the FlinkDeployment itself"),
            );
            continue;
        }
        let mut key = k.clone();
        if let Some(cur) = flinkconf::current_name(k, minor) {
            d.push(
                Diagnostic::warning(
                    Code::DeprecatedConfigKey,
                    if minor.keys.checkpoint_dir == "state.checkpoints.dir" && k.starts_with("execution.checkpointing.") {
                        format!("`{k}` does not exist before Flink 1.20; using its Flink {} name `{cur}`", minor.label())
                    } else {
                        format!("`{k}` is deprecated on Flink {}; using `{cur}`", minor.label())
                    },
                )
                .at(&e.key_loc)
                .label("deprecated key")
                .help(format!("write `\"{cur}\"` instead")),
            );
            key = cur.to_string();
        }
        if let Some(field) = owned_key(&key, minor) {
            d.push(
                Diagnostic::error(Code::TypedFieldKey, format!("`{key}` is set by flinkops from `{field}`"))
                    .at(&e.key_loc)
                    .label("would conflict with the typed setting")
                    .help(format!("remove it from [flink.config] and set `{field}` instead")),
            );
            continue;
        }
        if out.contains_key(&key) {
            d.push(
                Diagnostic::error(
                    Code::DuplicateConfigKey,
                    format!("`{key}` is set twice in [flink.config] (once under a deprecated name)"),
                )
                .at(&e.key_loc)
                .label("duplicate after renaming")
                .help("keep only the current name"),
            );
            continue;
        }
        locs.insert(key.clone(), e.key_loc.clone());
        out.insert(key, v);
    }
    for (short, long) in flinkconf::overlapping_prefixes(out.keys().map(String::as_str)) {
        d.push(
            Diagnostic::error(Code::OverlappingConfigKeys, format!("`{short}` is a prefix of `{long}` in [flink.config]"))
                .at(&locs[short])
                .label("overlapping keys")
                .note("the operator rejects a configuration key that is a prefix of another on Flink 2.x (FLINK-37405), and YAML config cannot hold both")
                .help(format!("rename or remove `{short}` (after deprecated keys were rewritten to their current names)")),
        );
    }
    out.sort_keys();
    out
}

fn is_env_name(s: &str) -> bool {
    let mut b = s.bytes();
    b.next().is_some_and(|c| c.is_ascii_alphabetic() || c == b'_') && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

/// Reads `{ secret = "...", key = "..." }`: `node` is a table with a `secret` key (what tells
/// a reference from a free-form value); `None` when the reference is unusable (reported).
pub(super) fn secret_ref(node: &Node, d: &mut Diagnostics) -> Option<(String, String)> {
    let r: raw::Secret = raw::from_node(node, "", "a secret reference", "", d)?;
    let s = r.secret?;
    let Some(k) = r.key else {
        d.push(
            Diagnostic::error(Code::MissingKey, "a secret reference needs `key`")
                .at(&node.loc)
                .help("write `{ secret = \"name\", key = \"password\" }`"),
        );
        return None;
    };
    if !crate::validate::names::is_dns1123_subdomain(&s.value) {
        d.push(
            Diagnostic::error(Code::InvalidName, format!("secret name {:?} is not a valid Kubernetes name", s.value))
                .at(&s.loc)
                .label("invalid name"),
        );
    }
    Some((s.value, k.value))
}

/// `[flink.env]`, a table of names the user chooses.
fn flink_env(t: &Table, d: &mut Diagnostics) -> Vec<EnvVar> {
    let mut out = vec![];
    for (k, e) in &t.entries {
        if !is_env_name(k) || k.starts_with("FLINKOPS_") {
            d.push(
                Diagnostic::error(Code::InvalidEnvName, format!("`{k}` is not a usable environment variable name"))
                    .at(&e.key_loc)
                    .label("invalid name")
                    .help("use letters, digits and `_`, not starting with a digit; the FLINKOPS_ prefix is reserved"),
            );
            continue;
        }
        match &e.node.value {
            Value::Table(r) => {
                if let Some((secret, key)) = r.entries.contains_key("secret").then(|| secret_ref(&e.node, d)).flatten() {
                    out.push(EnvVar { name: k.clone(), value: EnvValue::Secret { secret, key } });
                } else {
                    d.push(
                        Diagnostic::error(Code::WrongType, format!("`{k}` in [flink.env] must be a string or `{{ secret, key }}`"))
                            .at(&e.node.loc)
                            .label("a table that is not a secret reference"),
                    );
                }
            }
            _ if is_secret_looking(k) => {
                d.push(
                    Diagnostic::error(Code::SecretInPlainText, format!("secret literal in [flink.env]: `{k}` holds a value in plain text"))
                        .at(&e.node.loc)
                        .label("secrets never appear as literals")
                        .help(format!(
                            "store it in a Kubernetes Secret and write `{k} = {{ secret = \"<secret name>\", key = \"<key>\" }}`"
                        )),
                );
            }
            Value::String(s) => out.push(EnvVar { name: k.clone(), value: EnvValue::Literal(s.clone()) }),
            _ => match scalar_string(&e.node) {
                Some(s) => out.push(EnvVar { name: k.clone(), value: EnvValue::Literal(s) }),
                None => d.push(
                    Diagnostic::error(Code::WrongType, format!("`{k}` in [flink.env] must be a string or `{{ secret, key }}`"))
                        .at(&e.node.loc)
                        .label(format!("found {}", e.node.value.type_name())),
                ),
            },
        }
    }
    out
}
