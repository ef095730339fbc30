//! Validate phase: the `[job]` section of one pipeline.
//!
//! In: `[job]` as read ([`raw::Job`]), the Flink version, what `[flink]` decided about state storage, whether
//! an explicit image holds the job's files, and the repository (for the files the job names).
//! Out: the checked [`Job`] (kind and its files, bundle, parallelism, upgrade mode, state,
//! savepoint settings and nonces, requirements, connectors, excludes), and the upgrade mode's
//! requirements on `[flink]` checked; every problem pushed as a diagnostic.

use super::{Ctx, FileState, duration, in_range, is_uri, nonempty, not_a_duration, required, unknown_word};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::*;
use crate::spec::raw::{self, Sp};
use crate::validate::names::{is_dns1123_label, not_a_label};
use crate::versions::{CONNECTOR_NAMES, FLINK_MINORS, FlinkVersion};

/// `job.periodic_savepoint` of a standalone deployment without HA that has a `savepoint_dir`
/// (SPEC §13.6).
pub const PERIODIC_SAVEPOINT_DEFAULT: &str = "1h";

/// A repository path that must exist as a file: normalized, inside the repository (also after
/// following symlinks).
/// With `in_image` (an explicit `flink.image`), the file lives in that image, not in the
/// repository, so only the path's form is checked.
fn repo_file(v: &Sp<String>, key: &str, cx: &Ctx, in_image: bool, d: &mut Diagnostics) -> Option<String> {
    let rel = match crate::spec::normalize_repo_path(&v.value) {
        Ok(r) => r,
        Err(why) => {
            d.push(
                Diagnostic::error(Code::InvalidRepoPath, format!("`{key}` path {:?} {why}", v.value))
                    .at(&v.loc)
                    .label("must stay inside the repository")
                    .help("paths are relative to the repository root, e.g. \"jobs/my_job/main.py\""),
            );
            return None;
        }
    };
    if in_image {
        return Some(rel);
    }
    let (code, what, label, help) = match cx.files.state(cx.root, &rel) {
        FileState::Inside => return Some(rel),
        FileState::Missing => {
            (Code::RepoFileMissing, "not found", "no such file in the repository", "paths are relative to the repository root")
        }
        FileState::Escapes => (
            Code::InvalidRepoPath,
            "is a link that leaves the repository",
            "outside the repository",
            "copy the file into the repository; the image is built from the repository alone",
        ),
    };
    d.push(Diagnostic::error(code, format!("`{key}` file `{rel}` {what}")).at(&v.loc).label(label).help(help));
    None
}

/// A nonce: 0 (unset) or more.
fn nonce(v: &Option<Sp<i64>>, key: &str, d: &mut Diagnostics) -> Option<Sp<i64>> {
    in_range(v, key, "[job]", 0, i64::MAX, d)
}

/// What the job section needs to know about the pipeline's state storage.
pub(super) struct StateContext<'a> {
    pub savepoint_dir: &'a Option<String>,
    /// Standalone without HA: a JobManager restart loses the job's state (SPEC §13.6).
    pub standalone_without_ha: bool,
}

/// `job.loc` is `[job]`'s place (the pipeline's, without one).
pub(super) fn job(
    job: &Sp<raw::Job>,
    name: &str,
    version: Option<FlinkVersion>,
    state_cx: &StateContext<'_>,
    in_image: bool,
    cx: &Ctx<'_>,
    d: &mut Diagnostics,
) -> Option<Job> {
    let (t, at) = (&job.value, &job.loc);
    let minor = version.map(|v| v.minor);
    if t.kind.is_none() {
        required(None::<()>, "job.kind", at, "add `kind = \"python\"` (or \"jar\", \"sql\") to [job]", d);
    }
    let kind = match t.kind.as_ref().and_then(|k| k.ok()).map(|k| k.value) {
        Some(raw::JobKind::Python) => {
            let s = required(t.script.as_ref(), "job.script", at, "python jobs need `script = \"jobs/<job>/main.py\"`", d)?;
            let rel = repo_file(s, "script", cx, in_image, d)?;
            Some(JobKind::Python { script: rel })
        }
        Some(raw::JobKind::Jar) => {
            let j = required(t.jar.as_ref(), "job.jar", at, "jar jobs need `jar = \"jobs/<job>/app.jar\"`", d);
            let c = required(nonempty(&t.entry_class), "job.entry_class", at, "jar jobs need `entry_class = \"com.example.Main\"`", d);
            let jar = repo_file(j?, "jar", cx, in_image, d)?;
            Some(JobKind::Jar { jar, entry_class: c?.value })
        }
        Some(raw::JobKind::Sql) => {
            let q = required(t.sql.as_ref(), "job.sql", at, "sql jobs need `sql = \"jobs/<job>/query.sql\"`", d)?;
            let rel = repo_file(q, "sql", cx, in_image, d)?;
            Some(JobKind::Sql { sql: rel })
        }
        None => None,
    };
    let bundle = match &t.bundle {
        Some(b) if is_dns1123_label(&b.value) => b.value.clone(),
        Some(b) => {
            d.push(
                not_a_label("bundle name", &b.value)
                    .at(&b.loc)
                    .label("used as the image name")
                    .help("use lower-case letters, digits and `-`"),
            );
            b.value.clone()
        }
        None => name.to_string(),
    };
    let parallelism = in_range(&t.parallelism, "parallelism", "[job]", 1, 100_000, d).map_or(1, |v| v.value as u32);
    let savepoint_dir = state_cx.savepoint_dir;
    let bounded = t.bounded.as_ref().is_some_and(|b| b.value);
    let upgrade_mode = match t.upgrade_mode.as_ref().map(|u| u.value) {
        Some(raw::UpgradeMode::Savepoint) => UpgradeMode::Savepoint,
        Some(raw::UpgradeMode::LastState) => UpgradeMode::LastState,
        Some(raw::UpgradeMode::Stateless) | None => UpgradeMode::Stateless,
    };
    if bounded && let Some(um) = t.upgrade_mode.as_ref().filter(|_| upgrade_mode != UpgradeMode::Stateless) {
        d.push(
            Diagnostic::error(Code::BoundedJobConflict, format!("a bounded job cannot use `upgrade_mode = \"{}\"`", um.value))
                .at(&um.loc)
                .label("a finished BATCH job has no state to carry over")
                .note("the operator runs a bounded job again from the start whenever its spec changes")
                .help("use `upgrade_mode = \"stateless\"` (the default for bounded jobs), or drop `bounded`"),
        );
    }
    let state = match t.state.as_ref().map(|s| s.value) {
        Some(raw::JobState::Suspended) => JobState::Suspended,
        Some(raw::JobState::Running) | None => JobState::Running,
    };
    let initial = nonempty(&t.initial_savepoint);
    if let Some(i) = &initial
        && !is_uri(&i.value)
    {
        d.push(
            Diagnostic::error(Code::NotAUri, format!("`initial_savepoint` {:?} is not a URI", i.value))
                .at(&i.loc)
                .label("expected e.g. s3://bucket/savepoints/savepoint-1234")
                .help("give the full savepoint path with its scheme"),
        );
    }
    let allow_non_restored_state = t.allow_non_restored_state.as_ref().is_some_and(|b| b.value);
    let savepoint_nonce = nonce(&t.savepoint_nonce, "savepoint_nonce", d);
    let redeploy_nonce = nonce(&t.redeploy_nonce, "redeploy_nonce", d);
    let restart_nonce = nonce(&t.restart_nonce, "restart_nonce", d);
    if let Some(n) = savepoint_nonce.as_ref().filter(|n| n.value > 0)
        && savepoint_dir.is_none()
    {
        d.push(
            Diagnostic::error(Code::NeedsSetting, "`savepoint_nonce` needs `flink.savepoint_dir`")
                .at(&n.loc)
                .label("a savepoint needs somewhere to go")
                .help("add `savepoint_dir = \"s3://flink/{env}/{name}/savepoints\"` to [flink]"),
        );
    }
    if let Some(n) = redeploy_nonce.as_ref().filter(|n| n.value > 0)
        && initial.is_none()
    {
        d.push(
            Diagnostic::error(Code::NeedsSetting, "`redeploy_nonce` needs `initial_savepoint`")
                .at(&n.loc)
                .label("redeploy from which savepoint?")
                .help("set `initial_savepoint` to the savepoint path (see `flinkops restore`)"),
        );
    }
    // "0" turns the periodic savepoint off, also the default of SPEC §13.6.
    let periodic = nonempty(&t.periodic_savepoint);
    let mut periodic_savepoint = None;
    if let Some(p) = &periodic {
        let off = p.value.trim() == "0";
        match duration(&p.value) {
            Err(e) => d.push(not_a_duration("periodic_savepoint", &e, &p.loc)),
            Ok(_) if bounded && !off => d.push(
                Diagnostic::error(Code::BoundedJobConflict, "a bounded job cannot take periodic savepoints")
                    .at(&p.loc)
                    .label("BATCH jobs do not savepoint")
                    .help("remove `periodic_savepoint`, or drop `bounded`"),
            ),
            Ok(_) if off => {}
            Ok(_) if savepoint_dir.is_none() => d.push(
                Diagnostic::error(Code::NeedsSetting, "`periodic_savepoint` needs `flink.savepoint_dir`")
                    .at(&p.loc)
                    .label("periodic savepoints need somewhere to go")
                    .help("add `savepoint_dir = \"s3://flink/{env}/{name}/savepoints\"` to [flink]"),
            ),
            Ok(i) => periodic_savepoint = Some(i),
        }
    } else if state_cx.standalone_without_ha && savepoint_dir.is_some() && !bounded {
        // A standalone deployment without HA loses its state when the JobManager pod restarts:
        // keep a recent savepoint to `restore` from (SPEC §13.6).
        periodic_savepoint = Some(duration(PERIODIC_SAVEPOINT_DEFAULT).expect("the default periodic savepoint is a duration"));
    }
    let args = t.args.iter().flat_map(|a| a.iter()).map(|a| a.value.clone()).collect();
    let mut requirements = vec![];
    for r in t.requirements.iter().flat_map(|r| r.value.iter()) {
        match r.value.split_once("==") {
            Some((pkg, ver))
                if !pkg.trim().is_empty()
                    && !ver.trim().is_empty()
                    && !ver.contains(['*', ',', ';', ' '])
                    && !pkg.contains(['<', '>', '=', '~', '!']) =>
            {
                let pkg_norm = pkg.trim().to_ascii_lowercase().replace('_', "-");
                if pkg_norm == "apache-flink" {
                    if let Some(v) = version
                        && ver.trim() != v.to_string()
                    {
                        d.push(
                            Diagnostic::error(
                                Code::FlinkVersionMismatch,
                                format!("requirement {:?} disagrees with flink.version {v}", r.value),
                            )
                            .at(&r.loc)
                            .label("PyFlink must match the Flink runtime")
                            .help("remove it: flinkops installs apache-flink with flink.version itself"),
                        );
                    }
                    continue;
                }
                requirements.push(r.value.trim().to_string());
            }
            _ => d.push(
                Diagnostic::error(Code::NotPinned, format!("requirement {:?} is not pinned", r.value))
                    .at(&r.loc)
                    .label("expected `name==version`")
                    .help("pin every requirement with `==` so the image is reproducible, e.g. \"redis==5.2.1\""),
            ),
        }
    }
    if let Some(r) = t.requirements.as_ref().filter(|_| !requirements.is_empty() && matches!(kind, Some(JobKind::Jar { .. }))) {
        d.push(
            Diagnostic::error(Code::NotForJobKind, "`requirements` only apply to python and sql jobs")
                .at(&r.loc)
                .label("jar jobs bundle their dependencies in the jar"),
        );
    }
    let mut connectors = vec![];
    for c in t.connectors.iter().flat_map(|c| c.iter()) {
        if !CONNECTOR_NAMES.contains(&c.value.as_str()) {
            d.push(unknown_word("connector", c, CONNECTOR_NAMES, format!("known connectors: {}", CONNECTOR_NAMES.join(", "))));
            continue;
        }
        let Some(m) = minor else { continue };
        match m.connector(&c.value) {
            Some(b) => {
                if !connectors.contains(b) {
                    connectors.push(*b);
                }
            }
            None => d.push(
                Diagnostic::error(Code::NotForThisFlink, format!("the {} connector has no release for Flink {}", c.value, m.label()))
                    .at(&c.loc)
                    .label("no connector build for this Flink minor")
                    .help(format!(
                        "use a Flink version that has one ({})",
                        FLINK_MINORS.iter().filter(|x| x.connector(&c.value).is_some()).map(|x| x.label()).collect::<Vec<_>>().join(", ")
                    )),
            ),
        }
    }
    connectors.sort_by_key(|c| c.name);
    let exclude: Vec<&Sp<String>> = t.exclude.iter().flat_map(|e| e.iter()).collect();
    for g in &exclude {
        if let Err(e) = globset::Glob::new(&g.value) {
            d.push(
                Diagnostic::error(Code::InvalidGlob, format!("`exclude` glob {:?} is invalid: {e}", g.value)).at(&g.loc).label("bad glob"),
            );
        }
    }
    Some(Job {
        kind: kind?,
        bounded,
        bundle,
        parallelism,
        upgrade_mode,
        state,
        initial_savepoint: initial.map(|i| i.value),
        allow_non_restored_state,
        savepoint_nonce: savepoint_nonce.map_or(0, |n| n.value),
        redeploy_nonce: redeploy_nonce.map_or(0, |n| n.value),
        restart_nonce: restart_nonce.map_or(0, |n| n.value),
        periodic_savepoint,
        args,
        requirements,
        connectors,
        exclude: exclude.into_iter().map(|g| g.value.clone()).collect(),
    })
}

/// A stateful upgrade mode needs durable state: `savepoint` both directories, `last-state` also
/// high availability, whose metadata points at the latest checkpoint.
pub(super) fn check_upgrade_storage(j: &Job, job: &Sp<raw::Job>, flink: &super::flink::Section, d: &mut Diagnostics) {
    let (checkpoint_dir, savepoint_dir, high_availability) = (&flink.checkpoint_dir, &flink.savepoint_dir, flink.high_availability);
    let um_loc = job.value.upgrade_mode.as_ref().map_or(&job.loc, |u| &u.loc);
    if matches!(j.upgrade_mode, UpgradeMode::Savepoint | UpgradeMode::LastState) {
        for (v, key) in [(&checkpoint_dir, "checkpoint_dir"), (&savepoint_dir, "savepoint_dir")] {
            if v.is_none() {
                d.push(
                    Diagnostic::error(Code::NeedsSetting, format!("`upgrade_mode = \"{}\"` needs `flink.{key}`", j.upgrade_mode.as_str()))
                        .at(um_loc)
                        .label("stateful upgrades need durable state")
                        .help(format!(
                            "add e.g. `{key} = \"s3://flink/{{env}}/{{name}}/{}\"` to [flink]",
                            key.trim_end_matches("_dir").to_string() + "s"
                        )),
                );
            }
        }
    }
    if j.upgrade_mode == UpgradeMode::LastState && !high_availability {
        d.push(
            Diagnostic::error(Code::NeedsSetting, "`upgrade_mode = \"last-state\"` needs `flink.high_availability = true`")
                .at(um_loc)
                .label("last-state reads the latest checkpoint from HA metadata")
                .help("set high_availability = true with an ha_dir, or use upgrade_mode = \"savepoint\""),
        );
    }
}
