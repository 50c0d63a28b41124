//! The decoding layer: other views of a blob in which a token hidden by an encoding shows as
//! plain text, each with a map from its offsets back to the blob's.
//!
//! - String escapes (`\n`, `\t`, `\"`, `\uXXXX`, ...) and URL escapes of separators (`%0A`)
//!   are masked with spaces of the same length, so the escape's letter no longer glues onto
//!   the token after it: offsets stay the blob's own.
//! - A UTF-16 blob (a byte-order mark, or ASCII with every other byte NUL) is decoded one byte
//!   per code unit, so an offset maps back linearly.
//! - Runs of URL escapes and of base64 (standard or URL-safe) are decoded one level, each into
//!   a small window with up to [`WINDOW_CONTEXT`](crate::detect::decode::WINDOW_CONTEXT) bytes of its line on either side (the
//!   context a rule may need, `REPLICATE_API_TOKEN: <base64>`). Base64 that does not decode to
//!   text (images, hashes, random keys) is dropped after its first few bytes.
//!
//! Nothing here knows rules: the scanner asks for views and runs its prefilter over them.

use std::borrow::Cow;
use std::ops::Range;

use wide::i8x16;

use crate::detect::token_runs::in_range;

/// Bytes of the original line kept on each side of a decoded run: more than any rule's
/// context window.
pub const WINDOW_CONTEXT: usize = 128;

/// Shortest base64 run worth decoding: the base64 of the shortest token (20 bytes) is 28
/// characters; runs of 24 hold anything of 18 bytes or more.
const MIN_BASE64_RUN: usize = 24;

/// Decoded bytes looked at before a whole run is decoded, and how many of them must be text.
const BASE64_PROBE_BYTES: usize = 48;
const MIN_TEXT_SHARE: f64 = 0.95;

/// How a view was decoded from the blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Base64,
    Url,
    Utf16Le,
    Utf16Be,
}

impl Encoding {
    /// How a report names it: "base64-encoded", "URL-encoded", "UTF-16LE".
    pub fn label(self) -> &'static str {
        match self {
            Encoding::Base64 => "base64-encoded",
            Encoding::Url => "URL-encoded",
            Encoding::Utf16Le => "UTF-16LE",
            Encoding::Utf16Be => "UTF-16BE",
        }
    }
}

/// A decoded view of a blob.
#[derive(Debug, Clone)]
pub struct View {
    pub text: Vec<u8>,
    pub encoding: Encoding,
    map: Map,
}

#[derive(Debug, Clone)]
enum Map {
    /// The whole blob, one view byte per `stride` blob bytes after `base` (UTF-16).
    Linear { base: usize, stride: usize },
    /// A window: original bytes, the decoded run, original bytes.
    Window {
        /// View offsets where the decoded run starts and ends.
        decoded: (usize, usize),
        /// Blob offset of the window's first byte and of the byte after the run.
        before_start: usize,
        after_start: usize,
        run: RunMap,
    },
}

#[derive(Debug, Clone)]
enum RunMap {
    /// Each 3 decoded bytes come from 4 characters starting at the run's offset.
    Base64 { run_start: usize },
    /// The blob offset of each decoded byte, and last the offset just past the run.
    Exact(Vec<usize>),
}

impl View {
    /// True when `at` lies in what was decoded (not in the original bytes around a window):
    /// only there can a view find what the blob itself does not show.
    pub fn is_decoded(&self, at: usize) -> bool {
        match &self.map {
            Map::Linear { .. } => true,
            Map::Window { decoded, .. } => decoded.0 <= at && at < decoded.1,
        }
    }

    /// True when the view covers the whole blob line by line (its lines are the blob's).
    pub fn is_whole_blob(&self) -> bool {
        matches!(self.map, Map::Linear { .. })
    }

    /// The blob offset of view offset `at`.
    pub fn original(&self, at: usize) -> usize {
        match &self.map {
            Map::Linear { base, stride } => base + at * stride,
            Map::Window {
                decoded,
                before_start,
                after_start,
                run,
            } => {
                if at < decoded.0 {
                    before_start + at
                } else if at >= decoded.1 {
                    after_start + (at - decoded.1)
                } else {
                    let inside = at - decoded.0;
                    match run {
                        RunMap::Base64 { run_start } => run_start + inside / 3 * 4,
                        RunMap::Exact(origins) => origins[inside],
                    }
                }
            }
        }
    }

    /// The blob offset just past view offset `end` (exclusive): the end of the span a match
    /// ending there covers in the blob.
    pub fn original_end(&self, end: usize) -> usize {
        match &self.map {
            Map::Linear { base, stride } => base + end * stride,
            Map::Window {
                decoded,
                before_start,
                after_start,
                run,
            } => {
                if end <= decoded.0 {
                    before_start + end
                } else if end > decoded.1 {
                    after_start + (end - decoded.1)
                } else {
                    let inside = end - decoded.0;
                    match run {
                        RunMap::Base64 { run_start } => run_start + inside.div_ceil(3) * 4,
                        RunMap::Exact(origins) => origins[inside],
                    }
                }
            }
        }
    }
}

/// `content` with every string escape that ends in a letter or digit (`\n`, `\t`, `\u00e9`)
/// and every URL escape of a separator (`%0A`) replaced by spaces of the same length, so that
/// the escape's last character no longer glues onto a token right after it. Escapes of
/// punctuation (`\"`, `\\`) are separators already and stay. Borrowed when nothing changes.
///
/// ```
/// use tokenguard::detect::decode::mask_escapes;
/// assert_eq!(&*mask_escapes(br#""a:\nb\u00e9 %0Ac\"""#), &br#""a:  b          c\"""#[..]);
/// ```
pub fn mask_escapes(content: &[u8]) -> Cow<'_, [u8]> {
    let mut masked = Vec::new();
    match mask_escapes_into(content, &mut masked) {
        true => Cow::Owned(masked),
        false => Cow::Borrowed(content),
    }
}

/// [`mask_escapes`] into `masked`, a buffer the caller keeps (cleared first): false, and
/// `masked` left empty, when nothing changes.
pub fn mask_escapes_into(content: &[u8], masked: &mut Vec<u8>) -> bool {
    masked.clear();
    let mut at = 0;
    while let Some(found) = memchr::memchr2(b'\\', b'%', &content[at..]) {
        let start = at + found;
        let (len, mask) = escape_at(content, start);
        if mask {
            if masked.is_empty() {
                copy_into(content, masked);
            }
            masked[start..start + len].fill(b' ');
        }
        at = start + len.max(1);
    }
    !masked.is_empty()
}

/// `content` into `masked` (empty): into a fresh allocation when `masked` is too small, as
/// growing it had `realloc` copy the bytes of the last text it held (3 M instructions on a 40
/// MB first commit of PyPI packages).
fn copy_into(content: &[u8], masked: &mut Vec<u8>) {
    if masked.capacity() < content.len() {
        *masked = Vec::with_capacity(content.len());
    }
    masked.extend_from_slice(content);
}

/// The length of the escape at `start` (0: none), and whether it is masked.
///
/// A run of backslashes before an escape letter is one escape, whatever its length: each
/// level of string nesting doubles it (Python's `"\n"` in a notebook cell is stored `\\n`, and
/// once more inside a JSON string held by JSON), and the letter escapes at the level where
/// the run has halved to one backslash. An even run before anything else is escaped
/// backslashes, which separate already.
fn escape_at(content: &[u8], start: usize) -> (usize, bool) {
    if content[start] == b'%' {
        return match url_escape(content, start) {
            Some(byte) if !is_token_byte(byte) => (3, true),
            _ => (0, false),
        };
    }
    let run = content[start..].iter().take_while(|b| **b == b'\\').count();
    match letter_escape_len(content, start + run) {
        Some(len) => (run + len, true),
        // An odd run escapes the punctuation after it (`\"`): the pair stays one unit.
        None if run % 2 == 1
            && content
                .get(start + run)
                .is_some_and(|b| b.is_ascii_punctuation()) =>
        {
            (run + 1, false)
        }
        None => (run, false),
    }
}

/// The length of the escape letter at `at` and the hex digits it takes (`n`: 1, `u00e9`: 5),
/// when it is one that ends in a letter or digit.
fn letter_escape_len(content: &[u8], at: usize) -> Option<usize> {
    let hex_after = |len: usize| content.get(at + 1..at + 1 + len).is_some_and(is_hex_run);
    match content.get(at)? {
        b'n' | b't' | b'r' | b'b' | b'f' | b'v' | b'a' | b'0' => Some(1),
        b'u' if hex_after(4) => Some(5),
        b'U' if hex_after(8) => Some(9),
        b'x' if hex_after(2) => Some(3),
        _ => None,
    }
}

fn is_hex_run(bytes: &[u8]) -> bool {
    bytes.iter().all(u8::is_ascii_hexdigit)
}

/// A byte that can be part of a token: letters, digits and the separators tokens use.
fn is_token_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-' | b'+' | b'/' | b'=' | b'.')
}

/// The byte a `%XX` at `start` stands for.
fn url_escape(content: &[u8], start: usize) -> Option<u8> {
    let hex = content.get(start + 1..start + 3)?;
    let digit = |b: u8| (b as char).to_digit(16);
    Some((digit(hex[0])? * 16 + digit(hex[1])?) as u8)
}

/// The UTF-16 decoding of `content`, when it is UTF-16: a byte-order mark, or ASCII text
/// with every other byte NUL. One view byte per code unit: ASCII as is, anything else a space.
pub fn utf16(content: &[u8]) -> Option<View> {
    let (encoding, base) = utf16_encoding(content)?;
    let units = content[base..].chunks_exact(2);
    let text = units
        .map(|pair| {
            let unit = match encoding {
                Encoding::Utf16Le => u16::from_le_bytes([pair[0], pair[1]]),
                _ => u16::from_be_bytes([pair[0], pair[1]]),
            };
            if unit < 0x80 { unit as u8 } else { b' ' }
        })
        .collect();
    Some(View {
        text,
        encoding,
        map: Map::Linear { base, stride: 2 },
    })
}

/// UTF-16 LE or BE, and the length of the byte-order mark; `None` for anything else.
pub fn utf16_encoding(content: &[u8]) -> Option<(Encoding, usize)> {
    // ASCII in UTF-16 has NULs: a mark without one is a Latin-1 text that starts with "ÿþ".
    memchr::memchr(0, &content[..content.len().min(8000)])?;
    match content {
        // FF FE 00 00 is UTF-32 LE's mark.
        [0xFF, 0xFE, 0, 0, ..] => None,
        [0xFF, 0xFE, ..] => Some((Encoding::Utf16Le, 2)),
        [0xFE, 0xFF, ..] => Some((Encoding::Utf16Be, 2)),
        _ => {
            let probe = &content[..content.len().min(4096) & !1];
            let units = probe.len() / 2;
            if units < 8 {
                return None;
            }
            let (even, odd) = nuls_by_parity(probe);
            let mostly = |n: usize| n * 10 >= units * 9;
            let rarely = |n: usize| n * 10 <= units;
            if mostly(odd) && rarely(even) {
                Some((Encoding::Utf16Le, 0))
            } else if mostly(even) && rarely(odd) {
                Some((Encoding::Utf16Be, 0))
            } else {
                None
            }
        }
    }
}

/// How many bytes of `probe` are NUL at even and at odd offsets. Read two bytes a unit, which
/// the compiler vectorizes: every other byte through `step_by` was a loop of a few instructions
/// a byte, 25,000 a probe, and every binary file that has a NUL near its start is probed.
fn nuls_by_parity(probe: &[u8]) -> (usize, usize) {
    let (mut even, mut odd) = (0u32, 0u32);
    for pair in probe.chunks_exact(2) {
        let unit = u16::from_le_bytes([pair[0], pair[1]]);
        even += u32::from(unit & 0x00FF == 0);
        odd += u32::from(unit & 0xFF00 == 0);
    }
    (even as usize, odd as usize)
}

/// Decoded windows over `content`: each run of URL escapes that hides a token byte, and each
/// base64 run that decodes to text. `token_runs` are `content`'s, when listed
/// ([`token_runs`](crate::detect::token_runs::token_runs)): base64 runs lie inside them.
pub fn encoded_views(content: &[u8], token_runs: Option<&[Range<usize>]>) -> Vec<View> {
    let mut views = url_views(content);
    match token_runs {
        Some(token_runs) => views.extend(base64_views(content, token_runs)),
        None => base64_views_in(content, 0..content.len(), &mut views),
    }
    views
}

/// Windows around whitespace-free runs holding a `%XX` of a token byte (which never needs
/// escaping, so it hides something), fully URL-decoded.
fn url_views(content: &[u8]) -> Vec<View> {
    let mut views = Vec::new();
    let mut at = 0;
    while let Some(found) = memchr::memchr(b'%', &content[at..]) {
        let start = at + found;
        if !url_escape(content, start).is_some_and(is_token_byte) {
            at = start + 1;
            continue;
        }
        let is_space = |b: &u8| b.is_ascii_whitespace() || matches!(b, b'"' | b'\'' | b'<');
        let run_start = content[..start]
            .iter()
            .rposition(is_space)
            .map_or(0, |i| i + 1);
        let run_end = content[start..]
            .iter()
            .position(is_space)
            .map_or(content.len(), |i| start + i);
        let mut decoded = Vec::with_capacity(run_end - run_start);
        let mut origins = Vec::with_capacity(run_end - run_start);
        let mut i = run_start;
        while i < run_end {
            match url_escape(content, i).filter(|_| content[i] == b'%' && i + 3 <= run_end) {
                Some(byte) => {
                    decoded.push(if is_token_byte(byte) { byte } else { b' ' });
                    origins.push(i);
                    i += 3;
                }
                None => {
                    decoded.push(content[i]);
                    origins.push(i);
                    i += 1;
                }
            }
        }
        origins.push(run_end);
        views.push(window(
            content,
            run_start,
            run_end,
            decoded,
            RunMap::Exact(origins),
            Encoding::Url,
        ));
        at = run_end;
    }
    views
}

/// Marks bytes that are no base64 character in [`BASE64_VALUES`].
const NOT_BASE64: u8 = 0xFF;

/// The value of each byte as a base64 character, standard (`+/`) or URL-safe (`-_`): a table,
/// since every byte of a blob may be looked up.
const BASE64_VALUES: [u8; 256] = {
    let mut table = [NOT_BASE64; 256];
    let mut i = 0;
    while i < 26 {
        table[b'A' as usize + i] = i as u8;
        table[b'a' as usize + i] = 26 + i as u8;
        i += 1;
    }
    let mut d = 0;
    while d < 10 {
        table[b'0' as usize + d] = 52 + d as u8;
        d += 1;
    }
    table[b'+' as usize] = 62;
    table[b'-' as usize] = 62;
    table[b'/' as usize] = 63;
    table[b'_' as usize] = 63;
    table
};

/// The value of a base64 character, standard (`+/`) or URL-safe (`-_`).
fn base64_value(byte: u8) -> Option<u8> {
    let value = BASE64_VALUES[byte as usize];
    (value != NOT_BASE64).then_some(value)
}

/// True when a run can be base64 of text: encoded text of this length holds upper and lower
/// case letters and digits (all three missing from 24+ characters has odds below one in a
/// thousand), while identifiers (`snake_case`, `CONSTANT_CASE`), words and paths lack one.
///
/// Every token run of 24 bytes or more is looked through (most to their end, lacking a kind):
/// 16 bytes are tested at a time in SSE2 registers, where a table lookup a byte cost four
/// instructions a byte.
fn mixes_letters_and_digits(run: &[u8]) -> bool {
    let mut seen = LettersAndDigits::default();
    if run.len() < 16 {
        let mut padded = [b' '; 16];
        padded[..run.len()].copy_from_slice(run);
        seen.add(&padded);
        return seen.mixes();
    }
    let mut sixteens = run.chunks_exact(16);
    for sixteen in &mut sixteens {
        seen.add(sixteen.try_into().expect("16 bytes"));
        if seen.mixes() {
            return true;
        }
    }
    // The last bytes, as part of the 16 that end the run: bytes seen twice change nothing.
    if !sixteens.remainder().is_empty() {
        seen.add(run[run.len() - 16..].try_into().expect("16 bytes"));
    }
    seen.mixes()
}

/// Where upper-case letters, lower-case letters and digits were met, as set bytes of three
/// registers of 16 (a byte set when some byte at that place of some 16 was one).
#[derive(Default)]
struct LettersAndDigits {
    upper: i8x16,
    lower: i8x16,
    digits: i8x16,
}

impl LettersAndDigits {
    fn add(&mut self, sixteen: &[u8; 16]) {
        let bytes = i8x16::new(sixteen.map(|byte| byte as i8));
        self.upper |= in_range(bytes, b'A', 26);
        self.lower |= in_range(bytes, b'a', 26);
        self.digits |= in_range(bytes, b'0', 10);
    }

    fn mixes(&self) -> bool {
        [self.upper, self.lower, self.digits]
            .iter()
            .all(|kind| kind.move_mask() != 0)
    }
}

/// Windows around base64 runs that decode to text. Base64 characters are token bytes, so a run
/// lies inside one of `token_runs` (those of `content`), which non-token bytes border.
///
/// A base64 run that mixes letters and digits lies in a token run that does, and most token
/// runs (identifiers, paths, lowercase hex) do not: checking the token run first spares
/// looking through it for base64 runs.
fn base64_views(content: &[u8], token_runs: &[Range<usize>]) -> Vec<View> {
    let mut views = Vec::new();
    let worth_looking = |run: &&Range<usize>| {
        // Token runs are never empty: their length is the difference (`len()` makes sure).
        run.end - run.start >= MIN_BASE64_RUN && mixes_letters_and_digits(&content[(*run).clone()])
    };
    for token_run in token_runs.iter().filter(worth_looking) {
        base64_views_in(content, token_run.clone(), &mut views);
    }
    views
}

/// [`base64_views`] of the runs inside `within`, a token run of `content`.
fn base64_views_in(content: &[u8], within: Range<usize>, views: &mut Vec<View>) {
    let mut from = within.start;
    while let Some((start, run_end)) = next_base64_run(&content[..within.end], from) {
        // Padding belongs to the run.
        let end = run_end
            + content[run_end..]
                .iter()
                .take(2)
                .take_while(|b| **b == b'=')
                .count();
        if mixes_letters_and_digits(&content[start..end])
            && let Some(decoded) = decode_base64_text(&content[start..end])
        {
            views.push(window(
                content,
                start,
                end,
                decoded,
                RunMap::Base64 { run_start: start },
                Encoding::Base64,
            ));
        }
        from = end;
    }
}

/// The next run of at least [`MIN_BASE64_RUN`] base64 characters at or after `from`, as
/// (start, end). A window of that length is checked from its last byte backwards: the first
/// other byte met rules out every run starting at or before it, so the next window starts
/// after it, and the bytes already seen are not looked at again. Ordinary text, where such
/// bytes come every few characters, is crossed looking at a fraction of its bytes.
fn next_base64_run(content: &[u8], from: usize) -> Option<(usize, usize)> {
    let mut start = from;
    // content[start..checked] is known to be base64.
    let mut checked = from;
    loop {
        let end = start + MIN_BASE64_RUN;
        if end > content.len() {
            return None;
        }
        match content[checked..end].iter().rposition(|b| !is_base64(*b)) {
            Some(i) => {
                start = checked + i + 1;
                checked = end;
            }
            None => {
                let run_end = content[end..]
                    .iter()
                    .position(|b| !is_base64(*b))
                    .map_or(content.len(), |i| end + i);
                return Some((start, run_end));
            }
        }
    }
}

fn is_base64(byte: u8) -> bool {
    BASE64_VALUES[byte as usize] != NOT_BASE64
}

/// The decoding of a base64 run when it is text; `None` for binary (an image, a hash, a key).
fn decode_base64_text(run: &[u8]) -> Option<Vec<u8>> {
    let probe = decode_base64(&run[..run.len().min(BASE64_PROBE_BYTES / 3 * 4)]);
    if !is_text(&probe) {
        return None;
    }
    let decoded = decode_base64(run);
    is_text(&decoded).then_some(decoded)
}

/// Mostly printable ASCII and whitespace.
fn is_text(bytes: &[u8]) -> bool {
    let printable = bytes
        .iter()
        .filter(|b| matches!(b, 0x20..=0x7E | b'\t' | b'\n' | b'\r'))
        .count();
    !bytes.is_empty() && printable as f64 >= bytes.len() as f64 * MIN_TEXT_SHARE
}

/// Lenient base64: both alphabets, no padding needed, a trailing partial group dropped.
pub fn decode_base64(run: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(run.len() / 4 * 3 + 2);
    for group in run.chunks(4) {
        let (mut bits, mut count) = (0u32, 0usize);
        for value in group.iter().filter_map(|b| base64_value(*b)) {
            bits = bits << 6 | u32::from(value);
            count += 1;
        }
        bits <<= 6 * (4 - count);
        let bytes = [(bits >> 16) as u8, (bits >> 8) as u8, bits as u8];
        out.extend_from_slice(&bytes[..count.saturating_sub(1)]);
    }
    out
}

/// A view made of the run's line around it (at most [`WINDOW_CONTEXT`] bytes each side)
/// with the decoded run in its place. Newlines in the decoded run become spaces: the window
/// stands for one line of the blob.
fn window(
    content: &[u8],
    start: usize,
    end: usize,
    mut decoded: Vec<u8>,
    run: RunMap,
    encoding: Encoding,
) -> View {
    let floor = start.saturating_sub(WINDOW_CONTEXT);
    let before_start =
        memchr::memrchr(b'\n', &content[floor..start]).map_or(floor, |i| floor + i + 1);
    let ceiling = (end + WINDOW_CONTEXT).min(content.len());
    let after_end = memchr::memchr(b'\n', &content[end..ceiling]).map_or(ceiling, |i| end + i);
    for byte in &mut decoded {
        if *byte == b'\n' || *byte == b'\r' {
            *byte = b' ';
        }
    }
    let mut text = content[before_start..start].to_vec();
    let decoded_range = (text.len(), text.len() + decoded.len());
    text.extend_from_slice(&decoded);
    text.extend_from_slice(&content[end..after_end]);
    View {
        text,
        encoding,
        map: Map::Window {
            decoded: decoded_range,
            before_start,
            after_start: end,
            run,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::token_runs::token_runs;

    fn views_of(content: &[u8]) -> Vec<View> {
        encoded_views(content, Some(&token_runs(content)))
    }

    fn encode_base64(bytes: &[u8]) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for group in bytes.chunks(3) {
            let mut buf = [0u8; 3];
            buf[..group.len()].copy_from_slice(group);
            let bits = u32::from(buf[0]) << 16 | u32::from(buf[1]) << 8 | u32::from(buf[2]);
            for i in 0..=group.len() {
                out.push(ALPHABET[(bits >> (18 - 6 * i) & 63) as usize] as char);
            }
            out.extend(std::iter::repeat_n('=', 3 - group.len()));
        }
        out
    }

    #[test]
    fn escapes_are_masked_in_place() {
        let cases: [(&[u8], &[u8]); 13] = [
            (br"a\nb", b"a  b"),
            // Python's `\n` inside a JSON string, and once more in JSON held by JSON.
            (br"a\\nb", b"a   b"),
            (br"a\\\\tb", b"a     b"),
            (br"a\\u00e9b", b"a       b"),
            (br"a\\x41b\\\\U0001F600c", b"a     b             c"),
            // Escaped backslashes before anything else stay, and so does an escaped quote.
            (br"a\\\\c\\", br"a\\\\c\\"),
            (br#"\\\"x"#, br#"\\\"x"#),
            (br#"x=\"tok\""#, br#"x=\"tok\""#),
            (br"q=%0Ab%41", b"q=   b%41"),
            (br"\u00e9z", b"      z"),
            (b"100% sure", b"100% sure"),
            (br"\q", br"\q"),
            (br"\\q", br"\\q"),
        ];
        for (input, expected) in cases {
            let masked = mask_escapes(input);
            assert_eq!(&*masked, expected, "{}", String::from_utf8_lossy(input));
            assert_eq!(masked.len(), input.len());
        }
        assert!(matches!(mask_escapes(b"plain"), Cow::Borrowed(_)));
    }

    #[test]
    fn a_kept_buffer_holds_only_the_last_masked_text() {
        let mut kept = b"a longer text masked before".to_vec();
        assert!(mask_escapes_into(br"a\nb", &mut kept));
        assert_eq!(kept, b"a  b");
        assert!(!mask_escapes_into(b"plain", &mut kept));
        assert!(kept.is_empty());
        // A text longer than the buffer ever held: copied whole into a new allocation.
        let long = br"x\ty".repeat(40);
        assert!(mask_escapes_into(&long, &mut kept));
        assert_eq!(kept, b"x  y".repeat(40));
        assert!(mask_escapes_into(br"\nz", &mut kept));
        assert_eq!(kept, b"  z");
    }

    /// NULs counted two bytes a unit are those counted one byte at a time, at each parity:
    /// random probes with NULs from rare to almost everywhere, of even and odd lengths.
    #[test]
    fn nuls_by_parity_counts_what_every_other_byte_counts() {
        let mut random = crate::test_support::Xorshift::new(0x2545_f491_4f6c_dd1d);
        for length in (0..300).chain([4095, 4096]) {
            let spread = [1, 2, 3, 10, 1000][random.below(5)];
            let probe: Vec<u8> = (0..length)
                .map(|_| match random.below(spread) {
                    0 => 0,
                    _ => [b'a', 0xFF, 1, 0x80][random.below(4)],
                })
                .collect();
            let nul_at = |parity: usize| probe.iter().skip(parity).step_by(2).filter(|b| **b == 0);
            let (even, odd) = (nul_at(0).count(), nul_at(1).count());
            // A last byte without its pair is not read.
            let odd_tail = usize::from(length % 2 == 1 && probe[length - 1] == 0);
            assert_eq!(nuls_by_parity(&probe), (even - odd_tail, odd), "{probe:?}");
        }
    }

    #[test]
    fn utf16_is_recognised_and_mapped() {
        let text = "key = value\nnext line\n";
        let le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        for (bytes, encoding, base) in [(&le, Encoding::Utf16Le, 2), (&be, Encoding::Utf16Be, 0)] {
            let view = utf16(bytes).unwrap();
            assert_eq!(view.encoding, encoding);
            assert_eq!(view.text, text.as_bytes());
            assert_eq!(view.original(6), base + 12);
            assert_eq!(view.original_end(11), base + 22);
        }
        let not_utf16: [&[u8]; 3] = [
            b"plain text here, long enough",
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
            &[0xFF, 0xFE, 0, 0, 0x41, 0, 0, 0],
        ];
        for bytes in not_utf16 {
            assert!(utf16(bytes).is_none(), "{bytes:?}");
        }
    }

    #[test]
    fn base64_text_is_decoded_with_its_line_around() {
        let secret = "user:some-credential-value-0123456789";
        let encoded = encode_base64(secret.as_bytes());
        let content = format!("first\nauth: {encoded}  # note\nlast\n");
        let views = views_of(content.as_bytes());
        assert_eq!(views.len(), 1);
        let view = &views[0];
        assert_eq!(view.encoding, Encoding::Base64);
        assert_eq!(
            String::from_utf8_lossy(&view.text),
            format!("auth: {secret}  # note")
        );
        let at = view.text.windows(4).position(|w| w == b"some").unwrap();
        assert!(view.is_decoded(at));
        // "some" starts at decoded byte 5: inside the second group of four characters.
        assert_eq!(view.original(at), content.find(&encoded).unwrap() + 4);
        assert!(!view.is_decoded(0));
    }

    #[test]
    fn random_base64_hex_and_identifiers_are_not_decoded() {
        let mut state = crate::test_support::Xorshift::new(0x2545_f491_4f6c_dd1d);
        let random: Vec<u8> = (0..3000).map(|_| state.next_u64() as u8).collect();
        let image = format!("data:image/png;base64,{}", encode_base64(&random));
        let hash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let ident = "some_really_long_python_identifier_name_here = 1";
        for text in [image.as_str(), hash, ident] {
            let text = text.as_bytes();
            assert!(base64_views(text, &token_runs(text)).is_empty());
        }
    }

    #[test]
    fn url_escaped_runs_are_decoded() {
        let content = b"see https://x.test/?k=%72%38%5Fabc&z=1 end";
        let views = views_of(content);
        assert_eq!(views.len(), 1);
        let view = &views[0];
        assert_eq!(view.encoding, Encoding::Url);
        let text = String::from_utf8_lossy(&view.text);
        assert!(text.contains("?k=r8_abc&z=1 end"), "{text}");
        let at = view.text.windows(3).position(|w| w == b"r8_").unwrap();
        assert_eq!(view.original(at), 22);
        assert_eq!(view.original_end(at + 6), 34);
    }

    #[test]
    fn base64_decoding_is_lenient() {
        assert_eq!(decode_base64(b"aGVsbG8"), b"hello");
        assert_eq!(decode_base64(b"aGVsbG8-_w"), b"hello>\xff");
        assert_eq!(encode_base64(b"hello"), "aGVsbG8=");
    }

    #[test]
    fn skipping_finds_the_runs_a_plain_scan_finds() {
        // Runs of every length at every place, against a plain scan.
        let mut seed = 7u32;
        for _ in 0..2000 {
            let content: Vec<u8> = (0..seed as usize % 97)
                .map(|_| {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    if seed >> 16 & 15 == 0 {
                        b' '
                    } else {
                        b'a' + (seed >> 20) as u8 % 26
                    }
                })
                .collect();
            let mut expected = Vec::new();
            let mut at = 0;
            while at < content.len() {
                let len = content[at..].iter().take_while(|b| is_base64(**b)).count();
                if len >= MIN_BASE64_RUN {
                    expected.push((at, at + len));
                }
                at += len.max(1);
            }
            let mut found = Vec::new();
            let mut from = 0;
            while let Some(run) = next_base64_run(&content, from) {
                found.push(run);
                from = run.1;
            }
            assert_eq!(found, expected, "{}", String::from_utf8_lossy(&content));
        }
    }

    /// Whether a run mixes upper and lower case letters and digits, looked up a byte at a time.
    fn mixes_by_table(run: &[u8]) -> bool {
        let kind = |byte: u8| match byte {
            b'A'..=b'Z' => 1,
            b'a'..=b'z' => 2,
            b'0'..=b'9' => 4,
            _ => 0,
        };
        run.iter().fold(0, |seen, &byte| seen | kind(byte)) == 7
    }

    /// Sixteen bytes at a time tell what a byte at a time does: every byte value at every
    /// place of runs up to 40 long, among bytes that hold two of the three kinds (or none),
    /// and random runs.
    #[test]
    fn letters_and_digits_sixteen_at_a_time_are_those_of_a_byte_at_a_time() {
        let mut mixed = 0;
        for length in 1..=40 {
            for at in 0..length {
                for fill in [*b"aB", *b"a7", *b"Z7", *b"_-"] {
                    for byte in 0..=255u8 {
                        let mut run: Vec<u8> = (0..length).map(|i| fill[i % 2]).collect();
                        run[at] = byte;
                        let expected = mixes_by_table(&run);
                        assert_eq!(mixes_letters_and_digits(&run), expected, "{run:?}");
                        mixed += usize::from(expected);
                    }
                }
            }
        }
        assert!(mixed > 1000, "{mixed}");
        let mut random = crate::test_support::Xorshift::new(0x1234_5678_9abc_def1);
        let mut next = move |bound: usize| random.below(bound);
        for _ in 0..20_000 {
            let run: Vec<u8> = (0..next(64))
                .map(|_| match next(8) {
                    0 => next(256) as u8,
                    1 => b"@[`{/:"[next(6)],
                    _ => b"aZ5_-.Q0z9A"[next(11)],
                })
                .collect();
            assert_eq!(
                mixes_letters_and_digits(&run),
                mixes_by_table(&run),
                "{run:?}"
            );
        }
    }

    /// Base64 runs looked for inside the token runs alone give the views a search through the
    /// whole text gives: runs of base64 and other token bytes (`.`, `=` padding, `~`), of text
    /// and of binary, next to each other and to non-token bytes.
    #[test]
    fn views_inside_token_runs_are_those_of_the_whole_text() {
        let mut random = crate::test_support::Xorshift::new(0x2545_f491_4f6c_dd1d);
        let mut next = move |bound: usize| random.below(bound);
        let pieces: Vec<Vec<u8>> = [
            encode_base64(b"user:some-credential-value-0123456789"),
            encode_base64(format!("r8_{}", "k7Qz".repeat(10)).as_bytes()),
            encode_base64(&[0xFF, 0x00, 0x81, 0xFE, 0x10, 0x99].repeat(8)),
            // 24 characters, and 28 with padding: the shortest runs decoded.
            encode_base64(b"Key=0123456789abcd"),
            encode_base64(b"Key=0123456789abcde"),
            "some_long_identifier_name_without_digits".to_string(),
            "x".to_string(),
            "==".to_string(),
            ".".to_string(),
            "~".to_string(),
            " ".to_string(),
            "\n".to_string(),
            ":".to_string(),
            "é".to_string(),
        ]
        .into_iter()
        .map(String::into_bytes)
        .collect();
        let mut decoded = 0;
        for _ in 0..3000 {
            let mut content = Vec::new();
            for _ in 0..next(12) {
                content.extend_from_slice(&pieces[next(pieces.len())]);
            }
            let whole = {
                let mut views = Vec::new();
                base64_views_in(&content, 0..content.len(), &mut views);
                views
            };
            let within = base64_views(&content, &token_runs(&content));
            decoded += whole.len();
            assert_eq!(
                format!("{within:?}"),
                format!("{whole:?}"),
                "{}",
                String::from_utf8_lossy(&content)
            );
        }
        assert!(decoded > 1000, "{decoded}");
    }
}
