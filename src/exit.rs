//! The process exit status: what a command decided, converted into an exit code once in `main`.

/// The process exit status, decided once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ExitStatus {
    /// Nothing found: the commit may proceed.
    Clean = 0,
    /// At least one finding: the commit is blocked.
    Blocked = 1,
    /// The check could not run: the commit is blocked too (fail closed).
    Error = 2,
}
