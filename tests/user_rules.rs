//! SPEC §17's rules that accept input (the errors are in `bad_inputs.rs`): a `scheduled` entry
//! may give just `replicas`, and a problem found in several environments is reported once,
//! naming them.

mod support;

use support::*;

const PROJECT: &str = "[project]\nname = \"shop\"\nrepo_url = \"https://git.example.com/shop.git\"\n[defaults]\nregistry = \"r.example.com/shop\"\n\
[scaler]\nimage = \"registry.example.com/tools/kubectl:1.30.4@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"\n";

fn repo(pipeline: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "flinkops.toml", PROJECT);
    write(dir.path(), "pipelines/orders.toml", pipeline);
    write(dir.path(), "jobs/orders/main.py", "print('orders')\n");
    dir
}

const SCHEDULED: &str = "[flink]\nversion = \"2.2.1\"\n[job]\nkind = \"python\"\nscript = \"jobs/orders/main.py\"\n\
[autoscaling]\nmode = \"scheduled\"\nmin_replicas = 1\nmax_replicas = 6\n\
[[autoscaling.schedule]]\nname = \"peak\"\ncron = \"0 9 * * 1-5\"\nreplicas = 5\n\
[[autoscaling.schedule]]\nname = \"night\"\ncron = \"0 20 * * 1-5\"\nreplicas = 2\n";

/// In `scheduled` mode the CronJobs set the TaskManager count: `replicas` alone is the entry.
#[test]
fn a_scheduled_entry_may_give_just_replicas_and_its_cronjob_sets_that_count() {
    let dir = repo(SCHEDULED);
    let o = flinkops(dir.path(), &["generate"]);
    assert!(o.status.success(), "{}", stderr(&o));
    for (entry, count) in [("peak", 5), ("night", 2)] {
        let text = std::fs::read_to_string(dir.path().join(format!("out/base/orders/cronjob-orders-{entry}.yaml"))).unwrap();
        let patch = format!("'{{\"spec\":{{\"taskManager\":{{\"replicas\":{count}}}}}}}'");
        assert!(text.contains(&patch), "{entry} should set {count} TaskManagers:\n{text}");
    }
}

/// Under `scheduled_hpa` an entry still needs its HPA bounds: `replicas` alone is not enough.
#[test]
fn a_scheduled_hpa_entry_still_needs_min_replicas() {
    let dir = repo(&SCHEDULED.replace("mode = \"scheduled\"", "mode = \"scheduled_hpa\""));
    let o = flinkops(dir.path(), &["validate"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("`min_replicas` is required"), "{}", stderr(&o));
}

/// The same problem in two environments is one report that names both, not two reports.
#[test]
fn a_problem_in_every_environment_is_reported_once_naming_them() {
    let dir = repo(&SCHEDULED.replace("replicas = 5", "replicas = 7"));
    write(dir.path(), "overlays/dev/overlay.toml", "[env]\nnamespace = \"shop-dev\"\n");
    write(dir.path(), "overlays/prod/overlay.toml", "[env]\nnamespace = \"shop-prod\"\n");
    let o = flinkops(dir.path(), &["validate"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(err.matches("lies outside the pipeline's bounds").count(), 1, "{err}");
    assert!(err.contains("in every environment (dev, prod)"), "{err}");
    assert!(err.contains("error: 1 error found"), "{err}");
}

/// A problem only one overlay causes names only that environment.
#[test]
fn a_problem_caused_by_one_overlay_names_only_that_environment() {
    let dir = repo(SCHEDULED);
    write(dir.path(), "overlays/dev/overlay.toml", "[pipelines.orders]\nautoscaling.max_replicas = 3\n");
    write(dir.path(), "overlays/prod/overlay.toml", "");
    let err = stderr(&flinkops(dir.path(), &["validate"]));
    assert_eq!(err.matches("lies outside the pipeline's bounds").count(), 1, "{err}");
    assert!(err.contains("in environment dev\n") || err.contains("in environment dev"), "{err}");
    assert!(!err.contains("prod"), "{err}");
}
