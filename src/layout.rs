//! The layout of `out/` (SPEC §10, §14): where each delivery unit, its kustomization and its
//! Argo CD / Flux object live, and — the other way round — which environment and unit a path
//! of `out/` belongs to (`diff`, `--env` scopes).
//!
//! In: environment and unit names, or a repository-relative path. Out: paths, or a [`Location`].
//! The one place that knows the layout, so the compiler that writes it and the commands that
//! read it cannot disagree.

/// The unit folder holding an environment's Namespaces and Flink service accounts (SPEC §13.2).
/// Pipeline names are DNS-1123 labels and cannot start with `_`, so it never collides with one.
pub const NAMESPACES_UNIT: &str = "_namespaces";

/// The folder of the GitOps objects of one delivery tool, under `out/`.
pub const ARGOCD_DIR: &str = "argocd";
/// See [`ARGOCD_DIR`].
pub const FLUX_DIR: &str = "flux";

/// `out/<env>/kustomization.yaml`: lists the env's unit folders.
pub fn env_kustomization(env: &str) -> String {
    format!("out/{env}/kustomization.yaml")
}

/// `out/<env>/<unit>/kustomization.yaml`: the files of one unit.
pub fn unit_kustomization(env: &str, unit: &str) -> String {
    format!("out/{env}/{unit}/kustomization.yaml")
}

/// `out/<env>/<unit>`: what a unit's Argo CD Application syncs (Flux adds `./`).
pub fn unit_dir(env: &str, unit: &str) -> String {
    format!("out/{env}/{unit}")
}

/// `out/<tool>/<env>.yaml`: the env's root object (app of apps / Kustomization of Kustomizations).
pub fn root_file(tool_dir: &str, env: &str) -> String {
    format!("out/{tool_dir}/{env}.yaml")
}

/// `out/<tool>/<env>`: the plain directory the root object applies.
pub fn root_dir(tool_dir: &str, env: &str) -> String {
    format!("out/{tool_dir}/{env}")
}

/// `out/<tool>/<env>/<unit>.yaml`: one unit's Argo CD Application or Flux Kustomization.
pub fn unit_file(tool_dir: &str, env: &str, unit: &str) -> String {
    format!("out/{tool_dir}/{env}/{unit}.yaml")
}

/// What a run restricted to `env` (`--env`) owns, and so may prune: its folder, its root objects
/// and its folders of per-unit objects. [`crate::sync::Scope`] reads a prefix ending in `/` as a
/// folder and any other as one file.
pub fn env_scope(env: &str) -> Vec<String> {
    let mut v = vec![format!("out/{env}/")];
    for dir in [ARGOCD_DIR, FLUX_DIR] {
        v.push(root_file(dir, env));
        v.push(format!("{}/", root_dir(dir, env)));
    }
    v
}

/// Where a file of `out/` belongs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Location {
    pub env: String,
    /// The unit (a pipeline or [`NAMESPACES_UNIT`]); `None` for the env-level files:
    /// `out/<env>/kustomization.yaml` and the root objects.
    pub unit: Option<String>,
}

/// The environment and unit of a repository-relative path; `None` for files that belong to no
/// environment (`out/.flinkops`, `out/images/…`) and paths outside `out/`.
pub fn locate(path: &str) -> Option<Location> {
    let rest = path.strip_prefix("out/")?;
    let (first, tail) = rest.split_once('/')?;
    let loc = |env: &str, unit: Option<&str>| Some(Location { env: env.to_string(), unit: unit.map(str::to_string) });
    match first {
        "images" => None,
        ARGOCD_DIR | FLUX_DIR => match tail.split_once('/') {
            // out/argocd/<env>/<unit>.yaml
            Some((env, file)) => loc(env, Some(file.strip_suffix(".yaml").unwrap_or(file))),
            // out/argocd/<env>.yaml
            None => loc(tail.strip_suffix(".yaml")?, None),
        },
        env => match tail.split_once('/') {
            Some((unit, _)) => loc(env, Some(unit)),
            None => loc(env, None),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(env: &str, unit: Option<&str>) -> Option<Location> {
        Some(Location { env: env.into(), unit: unit.map(Into::into) })
    }

    #[test]
    fn every_generated_path_is_located_in_its_env_and_unit() {
        assert_eq!(locate("out/prod/kustomization.yaml"), at("prod", None));
        assert_eq!(locate("out/prod/p1/kustomization.yaml"), at("prod", Some("p1")));
        assert_eq!(locate("out/prod/p1/flinkdeployment-p1.yaml"), at("prod", Some("p1")));
        assert_eq!(locate("out/prod/_namespaces/ns/namespace-ns.yaml"), at("prod", Some(NAMESPACES_UNIT)));
        assert_eq!(locate("out/argocd/prod.yaml"), at("prod", None));
        assert_eq!(locate("out/argocd/prod/p1.yaml"), at("prod", Some("p1")));
        assert_eq!(locate("out/flux/dev/_namespaces.yaml"), at("dev", Some(NAMESPACES_UNIT)));
        assert_eq!(locate("out/images/b/Dockerfile"), None);
        assert_eq!(locate("out/.flinkops"), None);
        assert_eq!(locate("flinkops.toml"), None);
    }

    #[test]
    fn an_env_scope_owns_its_units_and_delivery_files_and_nothing_of_other_envs() {
        let scope = crate::sync::Scope { prefixes: env_scope("dev") };
        for owned in ["out/dev/p/x.yaml", "out/argocd/dev.yaml", "out/argocd/dev/p.yaml", "out/flux/dev/_namespaces.yaml"] {
            assert!(scope.owns(owned), "{owned}");
        }
        for foreign in
            ["out/prod/p/x.yaml", "out/argocd/prod.yaml", "out/argocd/prod/p.yaml", "out/argocd/dev2.yaml", "out/images/b/Dockerfile"]
        {
            assert!(!scope.owns(foreign), "{foreign}");
        }
    }
}
