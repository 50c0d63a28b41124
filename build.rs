//! Turns `config/rules.toml` into a compact binary (postcard) embedded in the binary, so that
//! start-up decodes the built-in rules instead of parsing TOML (about 1.3 ms of a 7 ms commit
//! hook), with the credential-variable rules already generated from the provider data (another
//! 0.8 ms of string building), and the examples' lines apart. The TOML stays the source of truth: a syntax or schema error
//! fails the build.

#[path = "build/dfa.rs"]
mod dfa;
#[path = "src/detect/schema.rs"]
#[allow(dead_code)]
mod schema;
#[path = "src/detect/variables.rs"]
#[allow(dead_code)]
mod variables;

/// The paths the generator's module uses.
mod detect {
    pub(crate) use super::schema;
}

fn main() {
    println!("cargo:rerun-if-changed=config/rules.toml");
    println!("cargo:rerun-if-changed=src/detect/schema.rs");
    println!("cargo:rerun-if-changed=src/detect/variables.rs");
    let text = std::fs::read_to_string("config/rules.toml").expect("config/rules.toml is readable");
    let mut rules: schema::RulesFile =
        toml::from_str(&text).unwrap_or_else(|err| panic!("config/rules.toml: {err}"));
    let generated = variables::generate(&rules.providers);
    rules.rules.extend(generated);
    // Example lines go to a blob of their own: only `rules check`, the configuration guards
    // and tests read them, and decoding them cost a tenth of a small commit's scan.
    let mut lines: Vec<(String, Vec<String>, Vec<String>)> = Vec::new();
    for rule in &mut rules.rules {
        if let Some(examples) = &mut *rule.examples {
            let positive = std::mem::take(&mut examples.positive);
            let negative = std::mem::take(&mut examples.negative);
            lines.push((rule.id.clone(), positive, negative));
        }
    }
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    dfa::write(rules.rules.iter().map(|rule| rule.regex.as_str()), &out);
    let bytes = postcard::to_allocvec(&rules).expect("the rules serialize");
    // A digest of the embedded rules for what is remembered about them between runs (the
    // allowlist guard's passes): computed here so that start-up does not hash 600 KB.
    let digest = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    });
    std::fs::write(out.join("rules.digest"), format!("{digest:#018x}_u64"))
        .expect("OUT_DIR is writable");
    std::fs::write(out.join("rules.postcard"), bytes).expect("OUT_DIR is writable");
    let bytes = postcard::to_allocvec(&lines).expect("the example lines serialize");
    std::fs::write(out.join("example-lines.postcard"), bytes).expect("OUT_DIR is writable");
}
