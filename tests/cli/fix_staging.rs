//! `tokenguard fix` and the index: partial staging is left for the user, a staged `.env` is
//! unstaged and kept, `.gitignore` learns `.env`, an existing `.env` loses nothing, a second
//! run changes nothing, and the blocked-commit report names the fix first.

use std::os::unix::fs::PermissionsExt;

use crate::fix::{assert_no_secret, snapshot};
use crate::fixture::{TestRepo, replicate_token};

fn read(repo: &TestRepo, path: &str) -> String {
    std::fs::read_to_string(repo.path().join(path)).unwrap()
}

fn staged(repo: &TestRepo, path: &str) -> String {
    repo.git(&["show", &format!(":{path}")]).stdout
}

#[test]
fn partially_staged_file_is_fixed_in_the_worktree_and_left_to_stage() {
    let repo = TestRepo::new();
    repo.add("app.py", "import os\nprint('start')\n");
    repo.commit_unchecked(&[]);
    let secret = replicate_token(190);
    // The secret is staged; a later, unstaged edit makes the worktree differ from the index.
    repo.add(
        "app.py",
        format!("import os\nTOKEN = \"{secret}\"\nprint('start')\n"),
    );
    repo.write(
        "app.py",
        format!("import os\nTOKEN = \"{secret}\"\nprint('start')\nprint('unstaged work')\n"),
    );
    let run = repo.tokenguard(&["fix", "--apply"]);
    run.assert_code(1);
    assert_no_secret(&run, &secret);
    assert!(run.stdout.contains("git add -p app.py"), "{run:#?}");
    assert_eq!(
        read(&repo, "app.py"),
        "import os\nTOKEN = os.environ[\"REPLICATE_API_TOKEN\"]\nprint('start')\nprint('unstaged work')\n"
    );
    assert!(
        staged(&repo, "app.py").contains(&secret),
        "the index is the user's to stage"
    );
    assert_eq!(
        repo.commit(&[]).code,
        Some(1),
        "still blocked until the fix is staged"
    );

    // A second run writes nothing and says the worktree is fixed.
    let before = snapshot(&repo);
    let again = repo.tokenguard(&["fix", "--apply"]);
    again.assert_code(1);
    assert!(
        again.stdout.contains("already fixed in the working tree"),
        "{again:#?}"
    );
    assert_eq!(snapshot(&repo), before);

    // Staging only the fix hunk (not the unstaged work) lets the commit through.
    repo.git_with_input(&["add", "-p", "app.py"], "s\ny\nn\n");
    assert!(!staged(&repo, "app.py").contains("unstaged work"));
    assert_eq!(repo.commit(&[]).code, Some(0));
}

#[test]
fn staged_env_is_unstaged_kept_and_ignored() {
    let repo = TestRepo::new();
    let secret = replicate_token(191);
    let env = format!("DEBUG=1\nREPLICATE_API_TOKEN={secret}\n");
    repo.add(".env", &env);
    repo.add("main.py", "print('hi')\n");
    assert_eq!(repo.commit(&[]).code, Some(1));
    let run = repo.tokenguard(&["fix", "--apply"]);
    run.assert_code(0);
    assert_no_secret(&run, &secret);
    assert!(run.stdout.contains(".env: unstage it"), "{run:#?}");
    assert_eq!(read(&repo, ".env"), env, "the content stays on disk");
    assert_eq!(read(&repo, ".gitignore"), ".env\n");
    let status = repo.git(&["status", "--porcelain", "--ignored"]).stdout;
    assert!(status.contains("!! .env"), "{status}");
    assert_eq!(repo.commit(&[]).code, Some(0));
    let tree = repo.git(&["ls-tree", "-r", "--name-only", "HEAD"]).stdout;
    assert_eq!(
        tree, ".gitignore\nmain.py\n",
        "the .gitignore fix is staged too"
    );
}

#[test]
fn existing_env_and_gitignore_lose_nothing_and_a_second_run_changes_nothing() {
    let repo = TestRepo::new();
    repo.write(".gitignore", "target/\n*.log");
    repo.write(
        ".env",
        "DATABASE_URL=postgres://localhost/db\nREPLICATE_API_TOKEN=an-older-value\n",
    );
    std::fs::set_permissions(
        repo.path().join(".env"),
        std::fs::Permissions::from_mode(0o640),
    )
    .unwrap();
    let secret = replicate_token(192);
    repo.add(
        "predict.py",
        format!("import replicate\nreplicate.Client(api_token=\"{secret}\")\n"),
    );
    // The name holds another value (an older token): nothing is numbered or lost, the user
    // chooses.
    let env_before = read(&repo, ".env");
    let run = repo.tokenguard(&["fix", "--apply"]);
    run.assert_code(1);
    assert_no_secret(&run, &secret);
    assert!(run.stdout.contains("--replace-env"), "{run:#?}");
    assert!(!run.all().contains("REPLICATE_API_TOKEN_2"), "{run:#?}");
    assert_eq!(read(&repo, ".env"), env_before);
    assert!(
        read(&repo, "predict.py").contains(&secret),
        "left for the user"
    );
    let run = repo.tokenguard(&["fix", "--apply", "--replace-env"]);
    run.assert_code(0);
    assert_no_secret(&run, &secret);
    assert_eq!(
        read(&repo, ".env"),
        format!(
            "DATABASE_URL=postgres://localhost/db\n# replaced by tokenguard fix: REPLICATE_API_TOKEN=an-older-value\nREPLICATE_API_TOKEN={secret}\n"
        )
    );
    let mode = std::fs::metadata(repo.path().join(".env"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o640, "an existing .env keeps its mode");
    assert!(read(&repo, "predict.py").contains("os.environ[\"REPLICATE_API_TOKEN\"]"));
    assert_eq!(read(&repo, ".gitignore"), "target/\n*.log\n.env\n");
    assert!(
        staged(&repo, "predict.py").contains("REPLICATE_API_TOKEN"),
        "re-staged"
    );

    let before = snapshot(&repo);
    let again = repo.tokenguard(&["fix", "--apply"]);
    again.assert_code(0);
    assert!(again.stdout.contains("nothing to fix"), "{again:#?}");
    assert_eq!(snapshot(&repo), before, "the second run changes nothing");
    assert_eq!(repo.commit(&[]).code, Some(0));
}

#[test]
fn new_env_is_private_and_written_once_for_a_repeated_secret() {
    let repo = TestRepo::new();
    let secret = replicate_token(193);
    repo.add("a.py", format!("token = \"{secret}\"\n"));
    repo.add("b.js", format!("const REPLICATE_API_TOKEN = '{secret}';\n"));
    repo.tokenguard(&["fix", "--apply"]).assert_code(0);
    let mode = std::fs::metadata(repo.path().join(".env"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let env = read(&repo, ".env");
    assert_eq!(
        env,
        format!("REPLICATE_API_TOKEN={secret}\n"),
        "appended once"
    );
}

#[test]
fn fix_paths_fixes_files_on_disk() {
    let repo = TestRepo::new();
    let secret = replicate_token(194);
    repo.write("tools/sync.py", format!("KEY = '{secret}'\n"));
    let run = repo.tokenguard(&["fix", "tools", "--apply"]);
    run.assert_code(0);
    assert!(run.stdout.contains("not staged"), "{run:#?}");
    assert_eq!(
        read(&repo, "tools/sync.py"),
        "import os\nKEY = os.environ[\"REPLICATE_API_TOKEN\"]\n"
    );
    let index = repo.git(&["ls-files"]).stdout;
    assert_eq!(index, "", "fix PATHS stages nothing that was not staged");
}

#[test]
fn blocked_commit_names_tokenguard_fix_first() {
    let repo = TestRepo::new();
    repo.add("app.py", format!("T = \"{}\"\n", replicate_token(195)));
    let run = repo.commit(&[]);
    assert_eq!(run.code, Some(1));
    assert!(
        run.all().contains("Fix:     tokenguard fix --apply"),
        "{run:#?}"
    );

    // No fix for a file tokenguard cannot edit: the report keeps the manual steps.
    let other = TestRepo::new();
    other.add(
        "settings.yaml",
        format!("token: {}\n", replicate_token(196)),
    );
    let run = other.commit(&[]);
    assert!(!run.all().contains("tokenguard fix"), "{run:#?}");
    assert!(
        run.all()
            .contains("Fix:     read the value from an environment variable in settings.yaml"),
        "{run:#?}"
    );
}

#[test]
fn nothing_staged_means_nothing_to_fix() {
    let repo = TestRepo::new();
    let run = repo.tokenguard(&["fix"]);
    run.assert_code(0);
    assert!(run.stdout.contains("nothing to fix"), "{run:#?}");
}
