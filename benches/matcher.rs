//! The matcher alone, in bytes per second on one core: the keyword prefilter and the rules
//! over source text that holds no rule keyword (what almost every staged blob is), and over
//! the same text with a token every 64 KiB. Run with `cargo bench --bench matcher`.

use divan::counter::BytesCount;
use tokenguard::detect::lines::AddedLines;
use tokenguard::detect::rules::RuleSet;
use tokenguard::detect::scanner::Scanner;

fn main() {
    divan::main();
}

/// About 8 MiB of Python-like source built from words that contain no rule keyword.
fn keyword_free_source() -> Vec<u8> {
    let words = [
        "model",
        "predict",
        "tensor",
        "batch",
        "config",
        "client",
        "request",
        "response",
        "weight",
        "layer",
        "logits",
        "embedding",
        "optimizer",
        "scheduler",
        "dataset",
        "loader",
    ];
    let mut text = String::new();
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    while text.len() < 8 << 20 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let a = words[(state % 16) as usize];
        let b = words[((state >> 8) % 16) as usize];
        let n = (state >> 16) % 10_000;
        text.push_str(&format!(
            "def {a}_{n}({b}, scale={n}):\n    \"\"\"Return the {a} of a {b}.\"\"\"\n    return {b}.{a}(scale) * {n}  # {a}\n\n"
        ));
    }
    text.into_bytes()
}

fn scanner() -> Scanner {
    Scanner::new(RuleSet::builtin().expect("built-in rules"))
}

#[divan::bench]
fn prefilter_keyword_free(bencher: divan::Bencher) {
    let text = keyword_free_source();
    let scanner = scanner();
    assert!(
        scanner.candidates(&text).is_empty(),
        "the corpus must hold no keyword"
    );
    bencher
        .counter(BytesCount::new(text.len()))
        .bench(|| scanner.candidates(divan::black_box(&text)));
}

#[divan::bench]
fn prefilter_and_rules_with_a_token_every_64_kib(bencher: divan::Bencher) {
    let mut text = keyword_free_source();
    let token = tokenguard::detect::shape::Shape::parse("r8_[alnum:37]")
        .unwrap()
        .generate(9)
        .token;
    let mut at = 65_536;
    while at + 64 < text.len() {
        let line = format!("\nkey = '{token}'\n");
        text.splice(at..at, line.bytes());
        at += 65_536;
    }
    let scanner = scanner();
    bencher.counter(BytesCount::new(text.len())).bench(|| {
        let candidates = scanner.candidates(divan::black_box(&text));
        scanner
            .scan("bench.py", &text, &AddedLines::All, candidates)
            .matches
            .len()
    });
}
