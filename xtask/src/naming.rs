//! Turning upstream JSON names into idiomatic Rust names.

/// Splits `camelCase`, `PascalCase`, `snake_case`, `kebab-case` and acronyms
/// (`storageURI`, `podIPs`) into lower-case words.
pub fn words(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    let mut words = Vec::new();
    let mut current = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            continue;
        }
        let prev = i.checked_sub(1).and_then(|j| chars.get(j)).copied();
        let next = chars.get(i + 1).copied();
        let boundary = match prev {
            None => false,
            Some(p) => {
                (c.is_ascii_uppercase() && (p.is_ascii_lowercase() || p.is_ascii_digit()))
                    || (c.is_ascii_uppercase()
                        && p.is_ascii_uppercase()
                        && next.is_some_and(|n| n.is_ascii_lowercase())
                        // Keep plural acronyms together: `IPs`, `URIs`.
                        && !(next == Some('s') && chars.get(i + 2).is_none_or(|a| !a.is_ascii_lowercase())))
            }
        };
        if boundary && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        current.push(c.to_ascii_lowercase());
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub",
    "ref", "return", "self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use",
    "where", "while", "abstract", "become", "box", "do", "final", "macro", "override", "priv",
    "typeof", "unsized", "virtual", "yield", "try", "gen",
];

/// `storageURI` → `storage_uri`; keywords get a trailing underscore (`type_`).
pub fn field_name(name: &str) -> String {
    let mut s = words(name).join("_");
    if s.is_empty() {
        s = "field".into();
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    if KEYWORDS.contains(&s.as_str()) {
        s.push('_');
    }
    s
}

/// `replicatedJobs` → `ReplicatedJobs`.
pub fn type_name(name: &str) -> String {
    let mut s: String = words(name)
        .iter()
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect();
    if s.is_empty() {
        s = "Empty".into();
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, 'V');
    }
    if s == "Self" {
        s.push('_');
    }
    s
}

/// A naive singular for naming the element type of a list field.
pub fn singular(name: &str) -> String {
    if let Some(stem) = name.strip_suffix("ies") {
        return format!("{stem}y");
    }
    for suffix in ["sses", "uses", "iases", "xes", "ches", "shes"] {
        if let Some(stem) = name.strip_suffix(suffix) {
            return format!("{stem}{}", &suffix[..suffix.len() - 2]);
        }
    }
    if name.ends_with("ss") || name.ends_with("us") || name.ends_with("is") {
        return name.to_owned();
    }
    if let Some(stem) = name.strip_suffix('s')
        && !stem.is_empty()
        && !stem.ends_with(|c: char| c.is_ascii_uppercase())
    {
        return stem.to_owned();
    }
    name.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_names() {
        assert_eq!(field_name("storageURI"), "storage_uri");
        assert_eq!(field_name("podIPs"), "pod_ips");
        assert_eq!(field_name("type"), "type_");
        assert_eq!(field_name("nvidia.com/gpu"), "nvidia_com_gpu");
        assert_eq!(type_name("replicatedJobs"), "ReplicatedJobs");
        assert_eq!(type_name("TFJob"), "TfJob");
        assert_eq!(singular("replicatedJobs"), "replicatedJob");
        assert_eq!(singular("policies"), "policy");
        assert_eq!(singular("status"), "status");
    }
}
