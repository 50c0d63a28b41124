//! The process environment a scan depends on, read once at start-up into plain fields: the
//! pre-commit framework's variables and the switches for tests and benchmarks. Nothing after
//! this reads an environment variable to decide what a scan does.

use std::ffi::OsStr;

/// What the environment says about this run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Environment {
    /// The pre-commit framework runs us (`PRE_COMMIT` set): it captures stderr, and with
    /// nothing staged it means "scan these files".
    pub framework: bool,
    /// The framework's pre-push range (`PRE_COMMIT_FROM_REF`, `PRE_COMMIT_TO_REF`), only when
    /// the framework runs us: the same variables left over in a shell must not turn a plain
    /// hook into a range scan.
    pub framework_refs: Option<FrameworkRefs>,
    /// Look through escapes and encodings (`TOKENGUARD_MEASURE_WITHOUT_DECODING` turns it off,
    /// for benchmarks only, to measure what decoding costs).
    pub decoding: bool,
    /// Visit a history commit by commit on one thread (`TOKENGUARD_TEST_PLAIN_HISTORY`): the
    /// reference the tests compare the parallel visit with.
    pub plain_history: bool,
}

/// The framework's pre-push range and remote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameworkRefs {
    pub from: String,
    pub to: String,
    /// `PRE_COMMIT_REMOTE_NAME`, `origin` when unset.
    pub remote: String,
}

impl Environment {
    /// Reads the variables of this process.
    pub fn read() -> Environment {
        Environment::from_lookup(|name| std::env::var_os(name))
    }

    /// Reads the variables through `lookup`, so that tests need not set the process's own.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<std::ffi::OsString>) -> Environment {
        let non_empty = |name: &str| lookup(name).filter(|v| !v.is_empty());
        let text = |name: &str| {
            non_empty(name)
                .as_deref()
                .and_then(OsStr::to_str)
                .map(str::to_string)
        };
        let framework = non_empty("PRE_COMMIT").is_some();
        let framework_refs = match (
            framework,
            text("PRE_COMMIT_FROM_REF"),
            text("PRE_COMMIT_TO_REF"),
        ) {
            (true, Some(from), Some(to)) => Some(FrameworkRefs {
                from,
                to,
                remote: lookup("PRE_COMMIT_REMOTE_NAME")
                    .and_then(|v| v.into_string().ok())
                    .unwrap_or_else(|| "origin".into()),
            }),
            _ => None,
        };
        Environment {
            framework,
            framework_refs,
            decoding: lookup("TOKENGUARD_MEASURE_WITHOUT_DECODING").is_none(),
            plain_history: lookup("TOKENGUARD_TEST_PLAIN_HISTORY").is_some(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(vars: &[(&str, &str)]) -> Environment {
        Environment::from_lookup(|name| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.into())
        })
    }

    #[test]
    fn the_framework_range_needs_the_framework_and_both_refs() {
        let refs = [("PRE_COMMIT_FROM_REF", "a"), ("PRE_COMMIT_TO_REF", "b")];
        assert_eq!(read(&refs).framework_refs, None, "left over in a shell");
        let with = [refs[0], refs[1], ("PRE_COMMIT", "1")];
        let env = read(&with);
        assert!(env.framework);
        let range = env.framework_refs.unwrap();
        assert_eq!((range.from.as_str(), range.to.as_str()), ("a", "b"));
        assert_eq!(range.remote, "origin");
        let empty = [("PRE_COMMIT", ""), refs[0], refs[1]];
        assert_eq!(read(&empty), read(&[]), "an empty value is unset");
        assert!(read(&[]).decoding);
        assert!(!read(&[("TOKENGUARD_MEASURE_WITHOUT_DECODING", "")]).decoding);
    }
}
