//! Turns `config/rules.toml` into compact binaries (postcard) embedded in the binary, so that
//! start-up decodes the built-in rules instead of parsing TOML (about 1.3 ms of a 7 ms commit
//! hook), with the credential-variable rules already generated from the provider data (another
//! 0.8 ms of string building), and the examples' lines apart. Each rule is encoded on its own,
//! so that the scan decodes only the rules whose keywords a change holds (see
//! `build/startup.rs` for what it reads of the others). The TOML stays the source of truth: a
//! syntax or schema error fails the build.

use std::path::Path;

use crate::schema;

/// The rules file with the credential-variable rules generated.
pub fn load() -> schema::RulesFile {
    println!("cargo:rerun-if-changed=config/rules.toml");
    println!("cargo:rerun-if-changed=src/detect/schema.rs");
    println!("cargo:rerun-if-changed=src/detect/variables.rs");
    let text = std::fs::read_to_string("config/rules.toml").expect("config/rules.toml is readable");
    let mut rules: schema::RulesFile =
        toml::from_str(&text).unwrap_or_else(|err| panic!("config/rules.toml: {err}"));
    let generated = crate::variables::generate(&rules.providers);
    rules.rules.extend(generated);
    rules
}

/// Writes the rules file without its rules and providers (`rules.postcard`), the providers
/// (`providers.postcard`), each rule's spec one after the other (`rule-specs.postcard`, with
/// their byte ranges returned), the example lines and a digest of it all into `out`.
pub fn write(rules: &schema::RulesFile, out: &Path) -> Vec<(usize, usize)> {
    // Example lines go to a blob of their own: only `rules check`, the configuration guards
    // and tests read them, and decoding them cost a tenth of a small commit's scan.
    let mut lines: Vec<(String, Vec<String>, Vec<String>)> = Vec::new();
    let mut specs: Vec<u8> = Vec::new();
    let mut ranges = Vec::with_capacity(rules.rules.len());
    for rule in &rules.rules {
        let mut rule = rule.clone();
        if let Some(examples) = &mut *rule.examples {
            let positive = std::mem::take(&mut examples.positive);
            let negative = std::mem::take(&mut examples.negative);
            lines.push((rule.id.clone(), positive, negative));
        }
        let start = specs.len();
        specs.extend(postcard::to_allocvec(&rule).expect("a rule serializes"));
        ranges.push((start, specs.len()));
    }
    let mut header = rules.clone();
    header.rules = Vec::new();
    let providers = std::mem::take(&mut header.providers);
    let provider_count = providers.len();
    let providers = postcard::to_allocvec(&providers).expect("the providers serialize");
    let header = postcard::to_allocvec(&header).expect("the rules serialize");
    // A digest of the embedded rules for what is remembered about them between runs (the
    // allowlist guard's passes): computed here so that start-up does not hash 600 KB.
    let digest = (header.iter().chain(&providers).chain(&specs))
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, &byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        });
    let write = |name: &str, bytes: &[u8]| {
        std::fs::write(out.join(name), bytes).expect("OUT_DIR is writable");
    };
    write("rules.digest", format!("{digest:#018x}_u64").as_bytes());
    write("rules.postcard", &header);
    write("rule-specs.postcard", &specs);
    write("providers.postcard", &providers);
    write(
        "providers.count",
        format!("{provider_count}_usize").as_bytes(),
    );
    let lines = postcard::to_allocvec(&lines).expect("the example lines serialize");
    write("example-lines.postcard", &lines);
    ranges
}
