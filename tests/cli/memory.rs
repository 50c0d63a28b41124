//! Peak memory for a huge modified file: about its two versions (old and new), never the
//! per-line cost of a whole-file diff. The figure is printed (run with --nocapture) and checked
//! against the bound the README states; time is never asserted.

use std::io::Write;

use crate::fixture::{BIN, TestRepo, replicate_token};

/// Writes `megabytes` of short source lines that name a rule keyword (so the line diff is
/// needed), with `middle` as the line halfway through.
fn write_huge(repo: &TestRepo, path: &str, megabytes: usize, middle: &str) -> u64 {
    let file = std::fs::File::create(repo.path().join(path)).unwrap();
    let mut out = std::io::BufWriter::new(file);
    let line = "client = Client(api_key=os.environ['HF_TOKEN'])  # hf_ auth, step\n";
    let lines = megabytes * 1_000_000 / line.len();
    for i in 0..lines {
        let text = if i == lines / 2 { middle } else { line };
        out.write_all(text.as_bytes()).unwrap();
    }
    out.flush().unwrap();
    std::fs::metadata(repo.path().join(path)).unwrap().len()
}

/// Peak RSS in bytes of `tokenguard scan-staged`, by /usr/bin/time -v; `None` without it.
fn peak_rss_of_scan(repo: &TestRepo) -> Option<(u64, crate::fixture::Run)> {
    let time = std::path::Path::new("/usr/bin/time");
    if !time.exists() {
        return None;
    }
    let output = repo
        .command("/usr/bin/time", &repo.path())
        .args(["-v", BIN, "scan-staged"])
        .output()
        .unwrap();
    let run = crate::fixture::Run::from(output);
    let kilobytes: u64 = run
        .stderr
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })
        .and_then(|v| v.trim().parse().ok())
        .expect("time -v reports the peak RSS");
    Some((kilobytes * 1024, run))
}

#[test]
fn a_modified_500_megabyte_file_stays_within_twice_its_size() {
    let megabytes: usize = std::env::var("TOKENGUARD_TEST_HUGE_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let repo = TestRepo::new();
    let size = write_huge(&repo, "huge.py", megabytes, "x = 1\n");
    repo.git(&["add", "huge.py"]);
    repo.commit_unchecked(&[]);
    let token = replicate_token(1230);
    write_huge(
        &repo,
        "huge.py",
        megabytes,
        &format!("REPLICATE_API_TOKEN={token}\n"),
    );
    repo.git(&["add", "huge.py"]);
    let Some((peak, run)) = peak_rss_of_scan(&repo) else {
        eprintln!("skipped the memory figure: /usr/bin/time is not installed");
        repo.tokenguard(&["scan-staged"]).assert_code(1);
        return;
    };
    run.assert_code(1);
    assert!(run.stdout.contains("huge.py:"), "{run:#?}");
    eprintln!(
        "modified {:.0} MB file: peak RSS {:.0} MB ({:.2}x the file)",
        size as f64 / 1e6,
        peak as f64 / 1e6,
        peak as f64 / size as f64
    );
    // The README's bound: the old and new versions of the file plus 64 MB.
    assert!(
        peak < 2 * size + 64_000_000,
        "peak RSS {peak} bytes for a {size}-byte file"
    );
}
