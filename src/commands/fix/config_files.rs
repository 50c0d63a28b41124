//! Configuration files: docker compose and GitHub Actions interpolate a reference in place of
//! the value (`${X}` from the environment or the `.env` beside the compose file;
//! `${{ secrets.X }}` from the repository's secrets). Other configuration formats are read
//! by programs tokenguard cannot know, so the step is the user's.

use super::plan::Edit;

/// The secret at `start..end` becomes `reference`, wherever it sits in the value.
pub(super) fn replace(start: usize, end: usize, reference: &str) -> Vec<Edit> {
    vec![Edit {
        start,
        end,
        text: reference.to_string(),
    }]
}

/// Why a configuration file is left to the user, and what to do.
pub(super) fn manual_reason(var: &str) -> String {
    format!(
        "tokenguard cannot tell whether the program that reads this file expands environment \
         variables: replace the value by hand with a reference it understands (such as ${{{var}}}) \
         or have it read {var} from the environment or a secret manager"
    )
}
