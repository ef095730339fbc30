//! Validate phase: image references must be pinned (SPEC §7).
//!
//! In: an image reference as written. Out: `Ok` when it names a tag with a full version or an
//! `@sha256:` digest; otherwise why not. An official `flink` image must match `flink.version`.

/// A parsed `[registry/]repository[:tag][@sha256:digest]`.
#[derive(Debug, PartialEq, Eq)]
pub struct ImageRef<'a> {
    pub repository: &'a str,
    pub tag: Option<&'a str>,
    pub digest: Option<&'a str>,
}

pub fn parse(image: &str) -> ImageRef<'_> {
    let (rest, digest) = match image.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (image, None),
    };
    // A ':' after the last '/' separates the tag; one before it belongs to a registry port.
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    match rest[last_slash..].rfind(':') {
        Some(i) => ImageRef { repository: &rest[..last_slash + i], tag: Some(&rest[last_slash + i + 1..]), digest },
        None => ImageRef { repository: rest, tag: None, digest },
    }
}

/// Whether the repository is the official Flink image on Docker Hub.
pub fn is_official_flink(repository: &str) -> bool {
    matches!(repository, "flink" | "library/flink" | "docker.io/library/flink" | "docker.io/flink" | "index.docker.io/library/flink")
}

/// Checks that `image` is pinned; returns a reason when it is not.
pub fn check_pinned(image: &str) -> Result<(), String> {
    let r = parse(image);
    if image.chars().any(char::is_whitespace) || r.repository.is_empty() {
        return Err("is not an image reference".into());
    }
    if let Some(d) = r.digest {
        let hex = d.strip_prefix("sha256:").unwrap_or("");
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()) {
            return Err(format!("has a malformed digest `@{d}` (expected @sha256: and 64 lower-case hex digits)"));
        }
        return Ok(());
    }
    let Some(tag) = r.tag else {
        return Err("has no tag, so it means `:latest` and changes under you".into());
    };
    if tag.is_empty() {
        return Err("has an empty tag".into());
    }
    if matches!(tag, "latest" | "stable" | "main" | "master" | "edge" | "nightly" | "snapshot") {
        return Err(format!("uses the moving tag `{tag}`"));
    }
    if !tag.bytes().any(|b| b.is_ascii_digit()) {
        return Err(format!("uses the tag `{tag}`, which names no version"));
    }
    // `2`, `2.0`, `v2.0`, `2.0-java17`: a major or minor line that moves with every patch.
    let version = tag.trim_start_matches('v');
    let version = version.split('-').next().unwrap_or(version);
    let parts: Vec<&str> = version.split('.').collect();
    if parts.len() < 3 && parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())) {
        return Err(format!("uses the tag `{tag}`, a version line that moves with every patch release"));
    }
    Ok(())
}

/// The `X.Y.Z` an official flink image tag names (`2.2.1-scala_2.12-java17` → `2.2.1`).
pub fn official_flink_version(tag: &str) -> &str {
    tag.split('-').next().unwrap_or(tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_registry_ports_tags_and_digests() {
        assert_eq!(parse("reg:5000/a/b:1.2.3"), ImageRef { repository: "reg:5000/a/b", tag: Some("1.2.3"), digest: None });
        assert_eq!(parse("reg:5000/a/b"), ImageRef { repository: "reg:5000/a/b", tag: None, digest: None });
        let d = format!("sha256:{}", "a".repeat(64));
        assert_eq!(parse(&format!("a/b:1@{d}")).digest, Some(d.as_str()));
    }

    #[test]
    fn only_pinned_images_pass() {
        assert!(check_pinned("flink:2.2.1-scala_2.12-java17").is_ok());
        assert!(check_pinned(&format!("registry.example.com/tools/kubectl@sha256:{}", "0".repeat(64))).is_ok());
        assert!(check_pinned("registry.example.com/app:1.4.2").is_ok());
        assert!(check_pinned("flink:latest").is_err());
        assert!(check_pinned("flink").is_err());
        assert!(check_pinned("flink:2.0").is_err());
        assert!(check_pinned("flink:2.0-java17").is_err());
        assert!(check_pinned("app:v2").is_err());
        assert!(check_pinned("app:stable").is_err());
        assert!(check_pinned("app@sha256:abc").is_err());
    }

    #[test]
    fn official_flink_images_are_recognized() {
        assert!(is_official_flink(parse("flink:2.2.1").repository));
        assert!(is_official_flink(parse("docker.io/library/flink:2.2.1").repository));
        assert!(!is_official_flink(parse("registry.example.com/flink:2.2.1").repository));
        assert_eq!(official_flink_version("2.2.1-scala_2.12-java17"), "2.2.1");
    }
}
