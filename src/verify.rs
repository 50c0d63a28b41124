//! The opt-in live check (`--verify`): is a found token active? Each rule describes its check
//! as data (`verify` in the rules file); this module sends it, with the secret only in a
//! header or the body, over HTTPS to the provider's own host, and classifies the answer.
//! Never run by default: it sends the secret off the machine, and a hook must work offline.
//!
//! HTTP client: ureq, small, synchronous and well kept, with rustls (no OpenSSL to link),
//! proxy settings from `HTTPS_PROXY`/`ALL_PROXY` and `NO_PROXY`, no redirects followed (a
//! redirect could carry the credential to another host).

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::detect::rules::{HttpMethod, VerifySpec};
use crate::finding::{Secret, Status};

/// Default time one check may take.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// Checks running at once: a handful, to stay polite to the providers.
const CONCURRENCY: usize = 4;
/// Largest response body read.
const BODY_LIMIT: u64 = 1 << 20;
/// Test-only: send every check to this base URL (`http://127.0.0.1:PORT`) instead of the
/// provider's host. An environment variable, so a repository's config can never set it, and
/// only a loopback address is accepted.
pub const TEST_BASE_ENV: &str = "TOKENGUARD_TEST_VERIFY_BASE";

/// One token to check: the fingerprint it is reported under, its rule's check, the secret.
pub struct Check<'a> {
    pub fingerprint: String,
    pub spec: Option<&'a VerifySpec>,
    pub secret: Secret,
}

#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub timeout: Duration,
    /// All checks together; checks not started by then are `unknown`.
    pub budget: Duration,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            timeout: DEFAULT_TIMEOUT,
            budget: Duration::from_secs(30),
        }
    }
}

/// Runs every check, one per distinct fingerprint, a few at a time; the status of each.
pub fn verify_all(checks: Vec<Check<'_>>, options: Options) -> HashMap<String, Status> {
    let mut seen = std::collections::HashSet::new();
    let unique: Vec<Check<'_>> = checks
        .into_iter()
        .filter(|check| seen.insert(check.fingerprint.clone()))
        .collect();
    let deadline = Instant::now() + options.budget;
    let next = AtomicUsize::new(0);
    let results = Mutex::new(HashMap::new());
    std::thread::scope(|scope| {
        for _ in 0..CONCURRENCY.min(unique.len()) {
            scope.spawn(|| {
                while let Some(check) = unique.get(next.fetch_add(1, Ordering::Relaxed)) {
                    // A check never outlives the overall budget: its own time-out is cut to
                    // what is left of it.
                    let left = deadline.saturating_duration_since(Instant::now());
                    let status = match check.spec {
                        None => Status::Unknown("this rule has no live check".to_string()),
                        Some(_) if left.is_zero() => Status::Unknown(format!(
                            "the overall verification budget of {}s ran out",
                            options.budget.as_secs()
                        )),
                        Some(spec) => run_check(spec, &check.secret, options.timeout.min(left)),
                    };
                    results
                        .lock()
                        .expect("no thread panics while holding the lock")
                        .insert(check.fingerprint.clone(), status);
                }
            });
        }
    });
    results.into_inner().expect("all threads have finished")
}

/// The check's URL, or the test base with the same path when the test override is set.
fn target_url(spec: &VerifySpec) -> Result<String, String> {
    let Ok(base) = std::env::var(TEST_BASE_ENV) else {
        return Ok(spec.url.clone());
    };
    let loopback = ["http://127.0.0.1:", "http://[::1]:", "http://localhost:"];
    if !loopback.iter().any(|prefix| base.starts_with(prefix)) {
        return Err(format!("{TEST_BASE_ENV} must point at a loopback address"));
    }
    let path = spec
        .url
        .strip_prefix("https://")
        .and_then(|rest| rest.find('/').map(|slash| &rest[slash..]))
        .unwrap_or("/");
    Ok(format!("{}{path}", base.trim_end_matches('/')))
}

/// Fills `{secret}` and `{basic:USER}` (HTTP Basic of `USER:secret`) in a template.
fn fill(template: &str, secret: &str) -> String {
    let mut out = template.replace("{secret}", secret);
    while let Some(start) = out.find("{basic:") {
        let Some(len) = out[start..].find('}') else {
            break;
        };
        let user = out[start + "{basic:".len()..start + len].to_string();
        let encoded = base64(format!("{user}:{secret}").as_bytes());
        out.replace_range(start..start + len + 1, &encoded);
    }
    out
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn run_check(spec: &VerifySpec, secret: &Secret, timeout: Duration) -> Status {
    let url = match target_url(spec) {
        Ok(url) => url,
        Err(reason) => return Status::Unknown(reason),
    };
    let Ok(secret) = std::str::from_utf8(&secret.0) else {
        return Status::Unknown("the secret is not text".to_string());
    };
    let config = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .proxy(ureq::Proxy::try_from_env())
        .build();
    let agent: ureq::Agent = config.into();
    let response = match spec.method {
        HttpMethod::Get => {
            let mut request = agent.get(&url);
            for (name, value) in &spec.headers {
                request = request.header(name.as_str(), fill(value, secret));
            }
            request.call()
        }
        HttpMethod::Post => {
            let mut request = agent.post(&url);
            for (name, value) in &spec.headers {
                request = request.header(name.as_str(), fill(value, secret));
            }
            request.send(fill(spec.body.as_deref().unwrap_or(""), secret))
        }
    };
    let mut response = match response {
        Ok(response) => response,
        Err(err) => return Status::Unknown(describe(&err, timeout)),
    };
    let status = response.status().as_u16();
    if spec.invalid.contains(&status) {
        return Status::Invalid;
    }
    if !spec.live.contains(&status) {
        return Status::Unknown(format!("HTTP {status}"));
    }
    if status != 200 || spec.body_keys.is_empty() {
        return Status::Live;
    }
    let body = match response
        .body_mut()
        .with_config()
        .limit(BODY_LIMIT)
        .read_to_vec()
    {
        Ok(body) => body,
        Err(err) => return Status::Unknown(describe(&err, timeout)),
    };
    match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(serde_json::Value::Object(map))
            if spec.body_keys.iter().all(|k| map.contains_key(k)) =>
        {
            Status::Live
        }
        _ => Status::Unknown(format!(
            "HTTP 200 without the expected body ({})",
            spec.body_keys.join(", ")
        )),
    }
}

/// A short reason from a client error, built from its kind only: nothing of the request (and
/// so nothing of the secret) is quoted.
fn describe(err: &ureq::Error, timeout: Duration) -> String {
    match err {
        ureq::Error::Timeout(_) => format!("timed out after {}s", timeout.as_secs_f32()),
        ureq::Error::HostNotFound => "host not found (offline?)".to_string(),
        ureq::Error::Io(io) if offline(io) => NO_NETWORK.to_string(),
        ureq::Error::Io(io) => format!("connection failed ({:?})", io.kind()),
        ureq::Error::ConnectionFailed => "connection failed".to_string(),
        ureq::Error::BodyExceedsLimit(_) => "response body too large".to_string(),
        ureq::Error::Tls(_) | ureq::Error::Rustls(_) => "TLS handshake failed".to_string(),
        _ => "request failed".to_string(),
    }
}

/// What an offline machine (or one whose network blocks the provider) is told.
const NO_NETWORK: &str =
    "no network: the provider could not be reached (--verify needs the internet)";

/// An I/O error that means there is no route out: no network, or no name resolution (the
/// standard library reports a failed `getaddrinfo` as an uncategorized error whose text
/// says "failed to lookup address information").
fn offline(io: &std::io::Error) -> bool {
    use std::io::ErrorKind;
    matches!(
        io.kind(),
        ErrorKind::NetworkUnreachable | ErrorKind::HostUnreachable | ErrorKind::NetworkDown
    ) || io.to_string().contains("lookup address")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_route_out_reads_as_no_network() {
        let timeout = Duration::from_secs(5);
        let lookup = std::io::Error::other(
            "failed to lookup address information: Temporary failure in name resolution",
        );
        let unreachable = std::io::Error::from(std::io::ErrorKind::NetworkUnreachable);
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert_eq!(describe(&ureq::Error::Io(lookup), timeout), NO_NETWORK);
        assert_eq!(describe(&ureq::Error::Io(unreachable), timeout), NO_NETWORK);
        assert_eq!(
            describe(&ureq::Error::Io(refused), timeout),
            "connection failed (ConnectionRefused)"
        );
    }

    #[test]
    fn base64_and_templates() {
        assert_eq!(base64(b"api:key"), "YXBpOmtleQ==");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b"abc"), "YWJj");
        assert_eq!(fill("Bearer {secret}", "s3"), "Bearer s3");
        assert_eq!(fill("Basic {basic:api}", "key"), "Basic YXBpOmtleQ==");
    }

    #[test]
    fn secrets_do_not_debug_print() {
        assert_eq!(
            format!("{:?}", Secret(b"r8_secret".to_vec())),
            "Secret(9 bytes)"
        );
    }
}
