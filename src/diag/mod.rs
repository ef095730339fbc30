//! Diagnostics shared by every phase: what went wrong, where (file and byte span), and how to fix it.
//!
//! Phases push [`Diagnostic`]s into a [`Diagnostics`] list instead of stopping at the first problem,
//! so one run reports everything. [`render`] turns them into rustc-style text (`error: …`,
//! `--> file:line:col`, the source line and a caret); only the CLI edge prints that text.

use std::ops::Range;

mod codes;

use annotate_snippets::{AnnotationKind, Level, Renderer, Snippet};

pub use codes::Code;

/// Index of a file in [`Sources`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub u32);

/// A place in a source file: which file and which bytes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Loc {
    pub file: FileId,
    pub span: Range<usize>,
}

/// One loaded source file, kept for rendering diagnostics and for provenance headers.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Path relative to the repository root, with `/` separators.
    pub path: String,
    pub text: String,
}

/// Every file read during one run.
#[derive(Debug, Default, Clone)]
pub struct Sources {
    files: Vec<SourceFile>,
}

impl Sources {
    /// Registers a file and returns its id.
    pub fn add(&mut self, path: impl Into<String>, text: impl Into<String>) -> FileId {
        self.files.push(SourceFile { path: path.into(), text: text.into() });
        FileId(u32::try_from(self.files.len() - 1).expect("fewer than 2^32 files"))
    }

    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    pub fn path(&self, id: FileId) -> &str {
        &self.get(id).path
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, loc: &Loc) -> (usize, usize) {
        let text = &self.get(loc.file).text;
        let at = loc.span.start.min(text.len());
        let before = &text[..floor_char_boundary(text, at)];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, col)
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

/// One problem (or warning) found in the user's input.
#[derive(Clone, Debug)]
pub struct Diagnostic {
    pub severity: Severity,
    /// The stable code (`E010`), shown as `error[E010]`; see [`Code`].
    pub code: Code,
    /// One line: what is wrong.
    pub message: String,
    /// Where; `None` for problems without a place (a missing file, an I/O error).
    pub loc: Option<Loc>,
    /// Short text under the caret.
    pub label: String,
    /// Extra explanation lines (`= note: …`), e.g. arithmetic.
    pub notes: Vec<String>,
    /// How to fix it (`= help: …`).
    pub help: Vec<String>,
    /// Secondary places (another file of a cross-file problem), rendered as notes that end in
    /// `file:line:col`.
    pub related: Vec<(Loc, String)>,
    /// The environments the problem was found in (empty: not environment-specific). The same
    /// problem found in several environments is reported once, naming them.
    pub envs: Vec<String>,
}

impl Diagnostic {
    /// An error; its code is an `E` code. Every diagnostic has a code, so that a problem can be
    /// looked up in docs/reference.md and grepped for in CI logs.
    pub fn error(code: Code, message: impl Into<String>) -> Self {
        debug_assert!(code.id().starts_with('E'), "{code:?} on an error");
        Diagnostic::new(Severity::Error, code, message.into())
    }

    /// A warning; its code is a `W` code.
    pub fn warning(code: Code, message: impl Into<String>) -> Self {
        debug_assert!(code.id().starts_with('W'), "{code:?} on a warning");
        Diagnostic::new(Severity::Warning, code, message.into())
    }

    fn new(severity: Severity, code: Code, message: String) -> Self {
        Diagnostic { severity, code, message, loc: None, label: String::new(), notes: vec![], help: vec![], related: vec![], envs: vec![] }
    }

    pub fn at(mut self, loc: &Loc) -> Self {
        self.loc = Some(loc.clone());
        self
    }

    pub fn at_opt(mut self, loc: Option<&Loc>) -> Self {
        self.loc = loc.cloned();
        self
    }

    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help.push(help.into());
        self
    }

    /// A note about a second place, e.g. "first defined here" for a duplicate.
    pub fn note_at(mut self, loc: &Loc, note: impl Into<String>) -> Self {
        self.related.push((loc.clone(), note.into()));
        self
    }
}

/// The diagnostics of one run, in the order found.
#[derive(Debug, Default, Clone)]
pub struct Diagnostics {
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity == Severity::Error)
    }

    pub fn count(&self, severity: Severity) -> usize {
        self.items.iter().filter(|d| d.severity == severity).count()
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.items.extend(other.items);
    }

    /// Orders diagnostics by file, then position, so output does not depend on the order in
    /// which phases ran; diagnostics without a place come last.
    pub fn sort(&mut self, sources: &Sources) {
        self.items.sort_by(|a, b| {
            let key = |d: &Diagnostic| d.loc.as_ref().map(|l| (sources.path(l.file).to_string(), l.span.start));
            match (key(a), key(b)) {
                (Some(x), Some(y)) => x.cmp(&y),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            }
        });
        // One report per problem: the same message at the same place (found in several
        // environments, or by several passes) is kept once, with every environment it was found in.
        let mut kept: Vec<Diagnostic> = Vec::with_capacity(self.items.len());
        let mut seen: std::collections::HashMap<(String, Option<Loc>), usize> = std::collections::HashMap::new();
        for d in self.items.drain(..) {
            match seen.get(&(d.message.clone(), d.loc.clone())) {
                Some(&i) => {
                    for e in d.envs {
                        if !kept[i].envs.contains(&e) {
                            kept[i].envs.push(e);
                        }
                    }
                }
                None => {
                    seen.insert((d.message.clone(), d.loc.clone()), kept.len());
                    kept.push(d);
                }
            }
        }
        self.items = kept;
    }

    /// Adds "affects environments: …" to every environment-specific diagnostic, when the run
    /// has more than one environment (with one, the note would say nothing).
    pub fn name_environments(&mut self, all: &[String]) {
        if all.len() < 2 {
            return;
        }
        for d in &mut self.items {
            if d.envs.is_empty() {
                continue;
            }
            d.envs.sort_by_key(|e| all.iter().position(|a| a == e));
            let note = if d.envs.len() == all.len() {
                format!("in every environment ({})", d.envs.join(", "))
            } else {
                format!("in environment{} {}", if d.envs.len() == 1 { "" } else { "s" }, d.envs.join(", "))
            };
            d.notes.push(note);
        }
    }

    /// Marks every diagnostic as found in `env`.
    pub fn in_env(mut self, env: &str) -> Self {
        for d in &mut self.items {
            if !d.envs.iter().any(|e| e == env) {
                d.envs.push(env.to_string());
            }
        }
        self
    }
}

/// Renders one diagnostic rustc-style. `color` selects ANSI styling.
pub fn render(d: &Diagnostic, sources: &Sources, color: bool) -> String {
    let level = match d.severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
    };
    let renderer = if color { Renderer::styled() } else { Renderer::plain() };
    let title = || level.clone().primary_title(d.message.as_str()).id(d.code.id());
    let mut group = title().elements(std::iter::empty::<annotate_snippets::Padding>());
    if let Some(loc) = &d.loc {
        let file = sources.get(loc.file);
        let len = file.text.len();
        let start = floor_char_boundary(&file.text, loc.span.start.min(len));
        let mut end = floor_char_boundary(&file.text, loc.span.end.min(len)).max(start);
        if end == start && end < len {
            // An empty span still gets a one-character caret.
            end = file.text[start..].char_indices().nth(1).map_or(len, |(i, _)| start + i);
        }
        group = title().element(
            Snippet::source(file.text.as_str())
                .path(file.path.as_str())
                .fold(true)
                .annotation(AnnotationKind::Primary.span(start..end).label(d.label.as_str())),
        );
    }
    let related: Vec<String> = d
        .related
        .iter()
        .map(|(loc, text)| {
            let (line, col) = sources.line_col(loc);
            format!("{text}: {}:{line}:{col}", sources.path(loc.file))
        })
        .collect();
    for n in related.iter().chain(&d.notes) {
        group = group.element(Level::NOTE.message(n.as_str()));
    }
    for h in &d.help {
        group = group.element(Level::HELP.message(h.as_str()));
    }
    renderer.render(&[group])
}

/// Renders every diagnostic, separated by blank lines, followed by a summary line.
pub fn render_all(diags: &Diagnostics, sources: &Sources, color: bool) -> String {
    let mut out = String::new();
    for d in &diags.items {
        out.push_str(&render(d, sources, color));
        out.push_str("\n\n");
    }
    let errors = diags.count(Severity::Error);
    let warnings = diags.count(Severity::Warning);
    if errors > 0 {
        out.push_str(&format!(
            "error: {} error{}{} found; nothing was written\n",
            errors,
            if errors == 1 { "" } else { "s" },
            if warnings > 0 { format!(" and {warnings} warning{}", if warnings == 1 { "" } else { "s" }) } else { String::new() }
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters_not_bytes() {
        let mut s = Sources::default();
        let f = s.add("a.toml", "x = 1\n# é\nname = 2\n");
        let at = s.get(f).text.find("name").unwrap();
        assert_eq!(s.line_col(&Loc { file: f, span: at..at + 4 }), (3, 1));
        let e = s.get(f).text.find('é').unwrap();
        assert_eq!(s.line_col(&Loc { file: f, span: e + 2..e + 3 }), (2, 4));
    }

    #[test]
    fn rendered_error_shows_path_line_col_source_and_caret() {
        let mut s = Sources::default();
        let f = s.add("pipelines/a.toml", "[flink]\nversoin = \"2.2.1\"\n");
        let d = Diagnostic::error(Code::UnknownKey, "unknown key `versoin` in [flink]")
            .at(&Loc { file: f, span: 8..15 })
            .label("unknown key")
            .help("did you mean `version`?");
        let text = render(&d, &s, false);
        assert!(text.starts_with("error[E010]: unknown key `versoin` in [flink]"), "{text}");
        assert!(text.contains("--> pipelines/a.toml:2:1"), "{text}");
        assert!(text.contains("versoin = \"2.2.1\""), "{text}");
        assert!(text.contains("^^^^^^^ unknown key"), "{text}");
        assert!(text.contains("help: did you mean `version`?"), "{text}");
    }
}
