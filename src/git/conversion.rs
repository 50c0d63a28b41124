//! Whether git may convert a staged path's bytes on their way into the index (a clean filter,
//! end-of-line conversion, `ident`, a working-tree encoding): then its working-tree file is not
//! its blob whatever the file's stat data say, and only hashing the file tells. git's diff asks
//! the same before it reuses a working-tree file (`would_convert_to_git` in diff.c).
//!
//! Decided from where attributes and `core.autocrlf` can come from, never by evaluating them:
//! a path under a directory with a `.gitattributes` (on disk or in the index) counts as
//! converted, and so does every path when a global source may apply (`core.autocrlf`, a global,
//! system or `info/attributes` file, `attr.tree`, or such a setting passed with `git -c`).

use std::collections::{HashMap, HashSet};
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc::Receiver;

use git2::{Config, ErrorCode, Repository};

use super::disk_blob::from_cwd;
use super::helper::{Helper, Job};

/// Settings that make git convert paths no `.gitattributes` file names.
const GLOBAL_KEYS: [&str; 3] = ["core.autocrlf", "core.attributesfile", "attr.tree"];

pub(super) struct Conversion {
    /// Any path may be converted: a global source of attributes or `core.autocrlf`.
    everywhere: bool,
    workdir: PathBuf,
    /// Directories (`""` for the root, else with a trailing `/`) and whether they hold a
    /// `.gitattributes`.
    dirs: HashMap<Vec<u8>, bool>,
    /// The directory of the last path asked about, and the answer for its files: paths come
    /// in index order, directory by directory, and hashing each of their ancestors again was
    /// half of a first commit's work before the scanning threads start.
    last: Option<(Vec<u8>, bool)>,
}

impl Conversion {
    /// `indexed`: the index's paths, whose `.gitattributes` apply even when not on disk.
    pub(super) fn new<'p>(
        repo: &Repository,
        workdir: &Path,
        indexed: impl Iterator<Item = &'p [u8]>,
    ) -> Conversion {
        let mut dirs = HashMap::new();
        for path in indexed {
            if let Some(dir) = path.strip_suffix(b".gitattributes")
                && (dir.is_empty() || dir.ends_with(b"/"))
            {
                dirs.insert(dir.to_vec(), true);
            }
        }
        Conversion {
            everywhere: converts_everywhere(repo),
            workdir: workdir.to_path_buf(),
            dirs,
            last: None,
        }
    }

    /// True when git may store `path`'s file as other bytes than it holds.
    pub(super) fn may_convert(&mut self, path: &[u8]) -> bool {
        if self.everywhere {
            return true;
        }
        let dir = &path[..dir_len(path)];
        // The last directory and all above it hold no `.gitattributes` when its files are not
        // converted: of `dir`'s ancestors, only those below the two's common part are asked.
        let known_clean = match &self.last {
            Some((last, converts)) if last[..] == *dir => return *converts,
            Some((last, false)) => Some(common_dir_len(last, dir)),
            _ => None,
        };
        let mut ancestors = std::iter::once(0)
            .chain(memchr::memchr_iter(b'/', dir).map(|at| at + 1))
            .filter(|&end| known_clean.is_none_or(|known| end > known));
        let converts = ancestors.any(|end| self.has_attributes(&dir[..end]));
        self.last = Some((dir.to_vec(), converts));
        converts
    }

    fn has_attributes(&mut self, dir: &[u8]) -> bool {
        if let Some(&known) = self.dirs.get(dir) {
            return known;
        }
        let present = attributes_on_disk(from_cwd(&self.workdir), dir);
        self.dirs.insert(dir.to_vec(), present);
        present
    }

    /// Asks the disk about every directory of `paths` (and their ancestors) at once, on two
    /// threads when there are many: [`Conversion::may_convert`] then answers them from memory.
    /// The look-ups were the longest step before the scanning threads start (572 on a 40 MB
    /// first commit), while the other core waited; the answers are the same either way. The
    /// first half goes to `helper`'s thread when it lends one, else to a thread of its own.
    pub(super) fn look_up<'p>(
        &mut self,
        paths: impl Iterator<Item = &'p [u8]>,
        helper: &dyn Helper,
    ) {
        if self.everywhere {
            return;
        }
        let wanted = self.unknown_dirs(paths);
        let workdir = from_cwd(&self.workdir);
        // Contiguous halves: each thread walks the directories next to the ones it just walked.
        let (first, second) = wanted.split_at(wanted.len() / 2);
        let found = if wanted.len() < PARALLEL_LOOK_UPS {
            answers(workdir, &wanted)
        } else {
            std::thread::scope(|scope| {
                // Not lent (no helper), the first half gets a thread of its own.
                let lent = lend_look_ups(helper, workdir, first)
                    .map_err(|_| scope.spawn(|| answers(workdir, first)));
                let mut found = answers(workdir, second);
                let mut found_first = match lent {
                    // A job that died (it panicked) sent nothing: its half is asked here.
                    Ok(lent) => lent.recv().unwrap_or_else(|_| answers(workdir, first)),
                    Err(own) => own
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                };
                found_first.append(&mut found);
                found_first
            })
        };
        let found: Vec<(Vec<u8>, bool)> = wanted
            .iter()
            .zip(found)
            .map(|(dir, present)| (dir.to_vec(), present))
            .collect();
        self.dirs.extend(found);
    }

    /// The directories of `paths` and their ancestors the index does not answer, top first
    /// within each path; none below a directory the index holds a `.gitattributes` for.
    fn unknown_dirs<'p>(&self, paths: impl Iterator<Item = &'p [u8]>) -> Vec<&'p [u8]> {
        let mut wanted = Vec::new();
        let mut seen: HashSet<&[u8]> = HashSet::new();
        let mut last: &[u8] = b"-";
        for path in paths {
            let dir = &path[..dir_len(path)];
            if dir == last {
                continue;
            }
            last = dir;
            let ends = std::iter::once(0).chain(memchr::memchr_iter(b'/', dir).map(|at| at + 1));
            for end in ends {
                let ancestor = &dir[..end];
                match self.dirs.get(ancestor) {
                    Some(true) => break,
                    Some(false) => {}
                    None if seen.insert(ancestor) => wanted.push(ancestor),
                    None => {}
                }
            }
        }
        wanted
    }
}

/// Above this many directories to ask about, half are asked on a second thread.
const PARALLEL_LOOK_UPS: usize = 64;

/// Whether each of `dirs` (under `workdir`) holds a `.gitattributes`.
fn answers(workdir: &Path, dirs: &[&[u8]]) -> Vec<bool> {
    dirs.iter()
        .map(|dir| attributes_on_disk(workdir, dir))
        .collect()
}

/// Hands the look-ups of `dirs` to `helper`'s thread (with copies: the job outlives this
/// call's borrows as far as the compiler knows); their answers come back on the receiver.
fn lend_look_ups(
    helper: &dyn Helper,
    workdir: &Path,
    dirs: &[&[u8]],
) -> std::result::Result<Receiver<Vec<bool>>, Job> {
    let workdir = workdir.to_path_buf();
    let dirs: Vec<Vec<u8>> = dirs.iter().map(|dir| dir.to_vec()).collect();
    let (send, receive) = std::sync::mpsc::channel();
    helper.lend(Box::new(move || {
        let dirs: Vec<&[u8]> = dirs.iter().map(Vec::as_slice).collect();
        // The caller may have stopped waiting (an error of its own): nothing to answer then.
        let _ = send.send(answers(&workdir, &dirs));
    }))?;
    Ok(receive)
}

/// Whether `dir` (under `workdir`) holds a `.gitattributes`: only "not there" proves absence,
/// anything unreadable counts as present.
fn attributes_on_disk(workdir: &Path, dir: &[u8]) -> bool {
    // One path built, not two joined: these look-ups are most of the work before the
    // scanning threads start.
    let workdir = workdir.as_os_str().as_bytes();
    let mut file = Vec::with_capacity(workdir.len() + dir.len() + 16);
    file.extend_from_slice(workdir);
    if !workdir.is_empty() && !workdir.ends_with(b"/") {
        file.push(b'/');
    }
    file.extend_from_slice(dir);
    file.extend_from_slice(b".gitattributes");
    match std::fs::symlink_metadata(OsStr::from_bytes(&file)) {
        Ok(_) => true,
        Err(err) => !matches!(
            err.kind(),
            std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
        ),
    }
}

/// The length of `path`'s directory, with its trailing `/` (0 at the top).
fn dir_len(path: &[u8]) -> usize {
    memchr::memrchr(b'/', path).map_or(0, |at| at + 1)
}

/// The length of the longest directory both directories `a` and `b` are in (each ends with
/// `/`, or is empty).
fn common_dir_len(a: &[u8], b: &[u8]) -> usize {
    let same = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    dir_len(&a[..same])
}

/// A global source of attributes or end-of-line conversion may apply to any path.
fn converts_everywhere(repo: &Repository) -> bool {
    let Ok(config) = repo.config() else {
        return true;
    };
    // The repository was opened from the environment (`Repo::open`), so this holds the files
    // `GIT_CONFIG_GLOBAL` and `GIT_CONFIG_SYSTEM` name, as git reads them (libgit2's
    // `config_path_global`); reading them again cost six system calls a run. git hands
    // `git -c` settings to hooks in other variables, which libgit2 does not read.
    if config_converts(&config) {
        return true;
    }
    if std::env::var_os("GIT_ATTR_SOURCE").is_some() || command_line_converts() {
        return true;
    }
    attribute_files(repo).iter().any(|file| file.exists())
}

/// `core.autocrlf` other than false, or any attributes file or tree named in `config`.
fn config_converts(config: &Config) -> bool {
    GLOBAL_KEYS.iter().any(|key| match config.get_entry(key) {
        Err(err) => err.code() != ErrorCode::NotFound,
        Ok(_) if *key == "core.autocrlf" => config.get_bool(key).unwrap_or(true),
        Ok(_) => true,
    })
}

/// `git -c` settings, which git hands to hooks in the environment (`GIT_CONFIG_PARAMETERS`,
/// and `GIT_CONFIG_KEY_<n>`, numbered from 0, that `GIT_CONFIG_COUNT` makes git read). Looked
/// up by name: copying out the whole environment was a tenth of this stage's start.
fn command_line_converts() -> bool {
    let names = (0..)
        .map(|n| format!("GIT_CONFIG_KEY_{n}"))
        .map(std::env::var_os)
        .take_while(Option::is_some);
    std::iter::once(std::env::var_os("GIT_CONFIG_PARAMETERS"))
        .chain(names)
        .flatten()
        .any(|value| {
            let value = value.to_string_lossy().to_ascii_lowercase();
            GLOBAL_KEYS.iter().any(|key| value.contains(key))
        })
}

/// The attributes files git reads besides `.gitattributes`: the repository's own, the user's
/// (XDG) and the system's.
fn attribute_files(repo: &Repository) -> Vec<PathBuf> {
    let mut files = vec![repo.commondir().join("info/attributes")];
    let xdg = std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty());
    match (xdg, std::env::var_os("HOME")) {
        (Some(xdg), _) => files.push(Path::new(&xdg).join("git/attributes")),
        (None, Some(home)) => files.push(Path::new(&home).join(".config/git/attributes")),
        (None, None) => {}
    }
    if std::env::var_os("GIT_ATTR_NOSYSTEM").is_none() {
        for prefix in ["/etc", "/usr/etc", "/usr/local/etc"] {
            files.push(Path::new(prefix).join("gitattributes"));
        }
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::helper::NoHelper;

    fn conversion(dirs: &[(&str, bool)]) -> Conversion {
        Conversion {
            everywhere: false,
            workdir: PathBuf::from("/nonexistent-tokenguard-test"),
            dirs: dirs
                .iter()
                .map(|(dir, present)| (dir.as_bytes().to_vec(), *present))
                .collect(),
            last: None,
        }
    }

    #[test]
    fn directories_in_common_are_the_shared_whole_directories() {
        assert_eq!(common_dir_len(b"a/b/", b"a/b/c/"), 4);
        assert_eq!(common_dir_len(b"a/bc/", b"a/bd/"), 2);
        assert_eq!(common_dir_len(b"ab/", b"a/"), 0);
        assert_eq!(common_dir_len(b"", b"a/"), 0);
        assert_eq!(common_dir_len(b"a/", b"a/"), 2);
    }

    /// Paths in index order: what the last directory tells of its ancestors is kept, and
    /// nothing is taken from a sibling.
    #[test]
    fn paths_in_order_keep_their_answers() {
        let mut known = conversion(&[("a/b/", true), ("a/c/", false), ("a/", false)]);
        let answers: Vec<bool> = [
            &b"a/b/x"[..],
            b"a/b/d/x",
            b"a/c/x",
            b"a/c/d/x",
            b"a/ca/x",
            b"a/b/y",
            b"b/x",
        ]
        .iter()
        .map(|path| known.may_convert(path))
        .collect();
        assert_eq!(answers, [true, true, false, false, false, true, false]);
    }

    /// Runs each job lent on a thread of its own, as a scan's early thread would.
    struct OnThread;

    impl Helper for OnThread {
        fn lend(&self, job: Job) -> std::result::Result<(), Job> {
            std::thread::spawn(job);
            Ok(())
        }
    }

    /// Many directories are looked up on two threads (one of the look-ups' own, or the
    /// helper's): both halves' answers are kept (asked after the files are gone, they come
    /// from the look-up), and a directory the index already answers for is not asked about
    /// again.
    #[test]
    fn directories_looked_up_at_once_keep_every_answer() {
        let helpers: [&dyn Helper; 2] = [&NoHelper, &OnThread];
        for helper in helpers {
            let dir = tempfile::tempdir().unwrap();
            let mut paths = Vec::new();
            for i in 0..2 * PARALLEL_LOOK_UPS {
                std::fs::create_dir_all(dir.path().join(format!("d{i:03}/sub"))).unwrap();
                paths.push(format!("d{i:03}/sub/x.txt").into_bytes());
            }
            let with_attributes = ["d003/", &format!("d{:03}/sub/", 2 * PARALLEL_LOOK_UPS - 2)];
            for found in with_attributes {
                std::fs::write(dir.path().join(found).join(".gitattributes"), "").unwrap();
            }
            let mut known = conversion(&[("d005/", true)]);
            known.workdir = dir.path().to_path_buf();
            known.look_up(paths.iter().map(|path| &path[..]), helper);
            assert_eq!(known.dirs.len(), 1 + 2 * (2 * PARALLEL_LOOK_UPS) - 1);
            for found in with_attributes {
                std::fs::remove_file(dir.path().join(found).join(".gitattributes")).unwrap();
            }
            let converted: Vec<usize> = (0..paths.len())
                .filter(|&i| known.may_convert(&paths[i]))
                .collect();
            assert_eq!(converted, [3, 5, 2 * PARALLEL_LOOK_UPS - 2]);
        }
    }

    #[test]
    fn an_attributes_file_covers_its_directory_and_below_only() {
        let mut known = conversion(&[("a/", true)]);
        assert!(known.may_convert(b"a/x.txt"));
        assert!(known.may_convert(b"a/b/c/x.txt"));
        assert!(!known.may_convert(b"b/x.txt"));
        assert!(!known.may_convert(b"ab/x.txt"));
        assert!(!known.may_convert(b"x.txt"));
        let mut root = conversion(&[("", true)]);
        assert!(root.may_convert(b"x.txt"));
        assert!(root.may_convert(b"deep/er/x.txt"));
    }
}
