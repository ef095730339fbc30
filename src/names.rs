//! Kubernetes naming rules (DNS-1123 labels and subdomains, label keys and values): pure
//! predicates on strings, with no notion of where a name came from.
//!
//! A leaf module like `units`: the spec phase needs it for environment folder names and the
//! validate phase for every other name, and the phases' dependencies point one way
//! (spec → validate), so the rules live below both.

/// RFC 1123 label: 1–63 lower-case alphanumerics or `-`, starting and ending alphanumeric.
pub fn is_dns1123_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// RFC 1123 subdomain: dot-separated labels, at most 253 characters.
pub fn is_dns1123_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_dns1123_label)
}

/// A Kubernetes label key: optional DNS subdomain prefix and `/`, then a name of at most 63
/// characters (alphanumerics, `-`, `_`, `.`, starting and ending alphanumeric).
pub fn is_label_key(s: &str) -> bool {
    let (prefix, name) = match s.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, s),
    };
    prefix.is_none_or(|p| !p.is_empty() && is_dns1123_subdomain(p)) && is_label_value(name) && !name.is_empty()
}

/// A Kubernetes label value: empty, or at most 63 characters of alphanumerics, `-`, `_`, `.`,
/// starting and ending alphanumeric.
pub fn is_label_value(s: &str) -> bool {
    if s.is_empty() {
        return true;
    }
    let ok = |b: u8| b.is_ascii_alphanumeric();
    s.len() <= 63 && s.bytes().all(|b| ok(b) || b == b'-' || b == b'_' || b == b'.') && ok(s.as_bytes()[0]) && ok(s.as_bytes()[s.len() - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns1123_labels() {
        assert!(is_dns1123_label("flink-realtime-features"));
        assert!(is_dns1123_label("a1"));
        assert!(!is_dns1123_label("Flink"));
        assert!(!is_dns1123_label("-a"));
        assert!(!is_dns1123_label("a_b"));
        assert!(!is_dns1123_label(&"a".repeat(64)));
    }

    #[test]
    fn label_keys_and_values() {
        assert!(is_label_key("app.kubernetes.io/managed-by"));
        assert!(is_label_key("team"));
        assert!(!is_label_key("/team"));
        assert!(!is_label_key("Bad Prefix/x"));
        assert!(is_label_value(""));
        assert!(is_label_value("reco_v1.2"));
        assert!(!is_label_value("-x"));
    }
}
