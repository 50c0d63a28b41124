//! Secret-shaped text in what configuration output and messages quote (allow regexes, values,
//! ignore reasons): replaced by the redacted form, so that neither `tokenguard config` nor an
//! error nor the ignore file repeats a token someone pasted, in any letter case.

use crate::detect::filter::shannon_entropy;
use crate::finding;

/// Shortest word that can be a token.
const MIN_LEN: usize = 16;
/// Entropy (bits per byte) above which a mixed word of letters and digits reads as random.
const MIN_ENTROPY: f64 = 3.0;

/// `text` with every word that looks random redacted: 16 or more letters, digits, `-`, `_`
/// and `.` with high entropy and both letters and digits (or both cases, from 20), in any
/// case, which covers every rule's tokens without compiling the rules' regexes. Fingerprints
/// and object ids (32, 40 or 64 hex digits) stay whole.
pub fn redact_secret_shaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word_start: Option<usize> = None;
    let is_word = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    for (i, c) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        match (is_word(c), word_start) {
            (true, None) => word_start = Some(i),
            (false, Some(start)) => {
                let word = &text[start..i];
                if looks_random(word) {
                    out.push_str(&finding::redact(word.as_bytes()));
                } else {
                    out.push_str(word);
                }
                word_start = None;
                if i < text.len() {
                    out.push(c);
                }
            }
            (false, None) if i < text.len() => out.push(c),
            _ => {}
        }
    }
    out
}

/// True for words that read as a random token rather than a name.
fn looks_random(word: &str) -> bool {
    let hex_id = matches!(word.len(), 32 | 40 | 64) && word.bytes().all(|b| b.is_ascii_hexdigit());
    let has = |pred: fn(&u8) -> bool| word.bytes().any(|b| pred(&b));
    let mixed = has(u8::is_ascii_digit) && has(u8::is_ascii_alphabetic)
        || word.len() >= 20 && has(u8::is_ascii_uppercase) && has(u8::is_ascii_lowercase);
    word.len() >= MIN_LEN && !hex_id && mixed && shannon_entropy(word.as_bytes()) >= MIN_ENTROPY
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_in_any_case_are_redacted_names_are_kept() {
        let token = format!("r8_{}", &"aB3dE5gH7jKq9mTz3LwP".repeat(2)[..37]);
        let lower = token.to_ascii_lowercase();
        for text in [
            format!("^{token}$"),
            format!("(?i)^{lower}$"),
            format!("revoked {lower} last week"),
        ] {
            let redacted = redact_secret_shaped(&text);
            assert!(
                !redacted.to_ascii_lowercase().contains(&lower[3..]),
                "{redacted}"
            );
            assert!(redacted.contains("…(40 chars)"), "{redacted}");
        }
        for kept in [
            "^TEST_[A-Z]+$",
            "mock_client\\(",
            "generic-api-token-variable",
            "939328f0f6332011c07122531155054f",
            "tests/fixtures/v2/keys.json",
            "^sk-test-fixture-[0-9]{4}$",
        ] {
            assert_eq!(redact_secret_shaped(kept), kept);
        }
    }
}
