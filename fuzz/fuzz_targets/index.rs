//! git's index format on arbitrary bytes (a cloned repository controls its index file):
//! parsed, unsupported or corrupt, never a panic. The input is the index without its trailing
//! checksum, which the target appends, so that mutations get past the checksum check.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sha1::{Digest, Sha1};

fuzz_target!(|body: &[u8]| {
    let mut data = body.to_vec();
    data.extend_from_slice(&Sha1::digest(body));
    let _ = tokenguard::git::index::parse(&data);
});
