//! Build time, regex half: for each built-in rule's regex, a DFA that answers "may this regex
//! match anywhere in this text?", written as a table (build/gate_table.rs) that
//! `src/detect/prebuilt_dfa.rs` walks in place. A clean line that names a provider then costs a DFA walk instead of compiling the
//! rule's regex (0.2 to 3 M instructions each, most of a small commit's time).

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::Path;

use regex_automata::MatchKind;
use regex_automata::dfa::{StartKind, dense, sparse};
use regex_automata::nfa::thompson;
use regex_automata::util::syntax;
use regex_syntax::hir::literal::{ExtractKind, Extractor};
use regex_syntax::hir::{Class, ClassBytes, ClassBytesRange, Hir, HirKind, Look, Repetition};

#[path = "gate_table.rs"]
mod gate_table;

/// A DFA's prefilter holds at most this many literals: building one over the 256 case
/// variants of a case-insensitive name (an Aho-Corasick automaton) cost 1 M instructions.
const MAX_NEEDLES: usize = 16;

/// A split gate's head matches at least this many bytes (see [`split`]).
const HEAD_BYTES: usize = 4;

/// Classes with more non-ASCII members than this match any run of non-ASCII bytes instead
/// (see [`widen`]); smaller ones (`(?i:k)` holds the Kelvin sign) stay as they are, since a
/// loop over non-ASCII bytes in the middle of a word multiplied the DFA's states.
const WIDE_CLASS: u32 = 64;

/// A rule whose DFA would be larger than this keeps compiling its regex at first use: the
/// binary carries every DFA (its sparse size stands for the table's, which is about as large).
const DFA_SIZE_LIMIT: usize = 8 * 1024;

/// A split gate's anchored tail may be this large: it is only searched from where a head
/// ends, so its size costs loading alone, and at [`DFA_SIZE_LIMIT`] the tail of
/// `generic-api-token-variable` had to count its 20-character value only up to 4, so that
/// `Client(api_token=api_token)` woke the regex (2.7 M instructions to compile, a third of a
/// small commit that names providers). Loading it validated 16 KB (0.4 M instructions) until
/// the gates became tables that load without validation (build/gate_table.rs).
const TAIL_SIZE_LIMIT: usize = 2 * DFA_SIZE_LIMIT;

/// The dense DFA the sparse one is made from (a hundred byte classes make it up to eight times
/// larger).
const DENSE_SIZE_FACTOR: usize = 8;

/// Working memory allowed while determinizing one regex: the build's time stays bounded
/// when a regex blows up (bounded repetitions after an unanchored start do).
const DETERMINIZE_SIZE_LIMIT: usize = 2 * 1024 * 1024;

/// How far repetitions are counted (see [`widen`]), tried in turn until the DFA fits: a
/// repetition that can restart inside itself (`YC[A-Za-z0-9_-]{38}` after `.*?`) needs a
/// state per set of counts in flight, 2^16 of them at 16.
const COUNTS: [u32; 3] = [16, 4, 1];

/// Writes `dfas.bin` (the serialized DFAs one after the other) and `dfas.rs` (a table of the
/// patterns, sorted, each with whether its gate is one DFA, and its DFAs: the one DFA, or per
/// pair an anchored tail and then its heads, each as where it starts and ends in the blob and
/// the literals every match starts with) into `out`. Patterns whose gate cannot be built
/// within the limits are left out and listed in `dfas-skipped.txt`.
pub fn write<'a>(patterns: impl IntoIterator<Item = &'a str>, out: &Path) {
    println!("cargo:rerun-if-changed=build/dfa.rs");
    let unique: BTreeSet<&str> = patterns.into_iter().collect();
    let unique: Vec<&str> = unique.into_iter().collect();
    let mut blob: Vec<u8> = Vec::new();
    // Patterns and literals, named by byte range: a table of `&'static` pointers would be
    // relocated at every start, `--version` too.
    let mut texts: Vec<u8> = Vec::new();
    let mut text = |bytes: &[u8]| {
        let start = texts.len();
        texts.extend_from_slice(bytes);
        format!("({start}, {})", texts.len())
    };
    let (mut places, mut needles, mut pair_list, mut index) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut skipped = String::new();
    let mut written: HashMap<Vec<u8>, (usize, usize)> = HashMap::new();
    for (pattern, gate) in unique.iter().zip(build_all(&unique)) {
        let (whole, pairs) = match gate {
            Ok(Gate::Whole(dfa)) => (true, vec![vec![*dfa]]),
            Ok(Gate::Split(pairs)) => {
                let pairs = pairs.into_iter().map(|Pair { heads, tail }| {
                    std::iter::once(tail).chain(heads).collect::<Vec<Dfa>>()
                });
                (false, pairs.collect())
            }
            Err(why) => {
                let _ = writeln!(skipped, "{pattern}\t{why}");
                continue;
            }
        };
        let pairs_from = pair_list.len();
        for dfas in &pairs {
            let places_from = places.len();
            for dfa in dfas {
                // Equal tables are written once (the named keys' tails).
                let (start, end) = *written.entry(dfa.table.clone()).or_insert_with(|| {
                    blob.extend(&dfa.table);
                    (blob.len() - dfa.table.len(), blob.len())
                });
                let needles_from = needles.len();
                needles.extend(dfa.needles.iter().map(|needle| text(needle)));
                places.push(format!(
                    "({start}, {end}, ({needles_from}, {}))",
                    needles.len()
                ));
            }
            pair_list.push(format!("({places_from}, {})", places.len()));
        }
        let pattern = text(pattern.as_bytes());
        index.push(format!(
            "({pattern}, {whole}, ({pairs_from}, {}))",
            pair_list.len()
        ));
    }
    let list = |items: &[String]| format!("&[{}]", items.join(", "));
    let table = format!(
        "(\n{},\n{},\n{},\n{},\n)",
        list(&index),
        list(&pair_list),
        list(&places),
        list(&needles)
    );
    std::fs::write(out.join("dfas.bin"), blob).expect("OUT_DIR is writable");
    std::fs::write(out.join("dfa-texts.bin"), texts).expect("OUT_DIR is writable");
    std::fs::write(out.join("dfas.rs"), table).expect("OUT_DIR is writable");
    std::fs::write(out.join("dfas-skipped.txt"), skipped).expect("OUT_DIR is writable");
}

/// What answers for one pattern: one DFA, or pairs of the DFAs of a match's head (every place
/// one ends) and an anchored one of the rest, tried from each of those places.
enum Gate {
    Whole(Box<Dfa>),
    Split(Vec<Pair>),
}

/// Heads (DFAs reporting every place a match's head ends) and the anchored DFA of the rest.
struct Pair {
    heads: Vec<Dfa>,
    tail: Dfa,
}

/// A DFA as the table the runtime walks (build/gate_table.rs), and the literals every match of
/// an unanchored one starts with (none: unknown), for the runtime to skip to: the heads of
/// split gates cross whole files.
struct Dfa {
    table: Vec<u8>,
    needles: Vec<Vec<u8>>,
}

/// [`build`] of each pattern, in order, on every core (a few seconds' work in all).
fn build_all(patterns: &[&str]) -> Vec<Result<Gate, String>> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let chunk = patterns.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let workers: Vec<_> = patterns
            .chunks(chunk)
            .map(|chunk| scope.spawn(|| chunk.iter().map(|p| build(p)).collect::<Vec<_>>()))
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| worker.join().expect("a DFA build does not panic"))
            .collect()
    })
}

/// The gate of a pattern that matches wherever `pattern` does, as the scanner's
/// `regex::bytes::Regex` reads it (see `build_regex` in src/detect/rules.rs: Unicode on,
/// case-sensitive, may match invalid UTF-8), sized as sparse DFAs (regex-automata's dense ones
/// were 4 to 8 times larger: case-insensitive words split the bytes into a hundred classes;
/// the tables, with two-byte states and no padding, are about as large as the sparse ones). The regex is
/// [`widen`]ed: exact, counted repetitions (`[^\n]{0,48}?` before a 40-character value) blew
/// most DFAs past any sensible size. An unanchored DFA also follows every match that could
/// start inside another: a provider's variable names restarting inside the value that follows
/// one made the generated rules' DFAs hundreds of kilobytes, so those are split in two, or
/// split with a tail of what fits (see [`split_cut`]). The last resort is a DFA of what the
/// match ends with: a text holding a match holds a match of any part of it.
fn build(pattern: &str) -> Result<Gate, String> {
    let hir = syntax::parse_with(pattern, &syntax::Config::new().utf8(false))
        .map_err(|err| err.to_string().replace('\n', " "))?;
    let mut why = String::new();
    // A split gate is as exact as a whole one: both before counting less far.
    for counted in COUNTS {
        let widened = widen(hir.clone(), counted);
        match unanchored(&widened, MatchKind::LeftmostFirst) {
            Ok(dfa) => return Ok(Gate::Whole(Box::new(dfa))),
            Err(err) => why = err,
        }
        let parts = parts(widened);
        if let Some(pairs) = split(&parts).or_else(|| split_branches(&parts)) {
            return Ok(Gate::Split(pairs));
        }
    }
    // A head and as much of the rest as fits, counted as far as fits best.
    let cuts = COUNTS.map(|counted| split_cut(&parts(widen(hir.clone(), counted))));
    if let Some((_, pairs)) = cuts.into_iter().flatten().rev().max_by_key(|(cut, _)| *cut) {
        return Ok(Gate::Split(pairs));
    }
    // The fewest parts dropped that make one DFA fit.
    let parts = parts(widen(hir, COUNTS[COUNTS.len() - 1]));
    let tail = |from: usize| {
        unanchored(
            &Hir::concat(parts[parts.len() - from..].to_vec()),
            MatchKind::LeftmostFirst,
        )
    };
    match longest_fitting(1, parts.len(), tail) {
        Some((_, dfa)) => Ok(Gate::Whole(Box::new(dfa))),
        None => Err(why),
    }
}

/// The shortest head of `parts` at least [`HEAD_BYTES`] long, and the rest: the head's DFA is
/// small, and each place it ends at is a search of the rest, so it should be rare.
fn split(parts: &[Hir]) -> Option<Vec<Pair>> {
    let long_enough = |end: &usize| {
        let head = Hir::concat(parts[..*end].to_vec());
        head.properties().minimum_len().unwrap_or(0) >= HEAD_BYTES
    };
    let end = (1..parts.len()).find(long_enough)?;
    let head = unanchored(&Hir::concat(parts[..end].to_vec()), MatchKind::All).ok()?;
    let tail = anchored(&Hir::concat(parts[end..].to_vec())).ok()?;
    Some(vec![Pair {
        heads: vec![head],
        tail,
    }])
}

/// [`split`] when the rest is too large for one DFA: a head of the leading characters (a
/// named key's name, `\\b(?i:spotify)`) or [`HEAD_BYTES`], whichever is longer, and an
/// anchored DFA of the longest start of the rest that fits [`DFA_SIZE_LIMIT`] (every match
/// of the rest opens with a match of its start), with the number of parts up to its end. The
/// 329 named-key rules' gates were DFAs of their last parts alone (`=` and 16 letters), which
/// said "maybe" to nearly any text naming the provider; a tail of the name's gap and the
/// credential word (`secret|private|access|token|key`) rules those out, and the tails of most
/// of them are the same table (see [`write`]).
fn split_cut(parts: &[Hir]) -> Option<(usize, Vec<Pair>)> {
    let long_enough = |end: &usize| {
        let head = Hir::concat(parts[..*end].to_vec());
        head.properties().minimum_len().unwrap_or(0) >= HEAD_BYTES
    };
    let character = |part: &&Hir| {
        matches!(
            part.kind(),
            HirKind::Look(_) | HirKind::Class(_) | HirKind::Literal(_)
        )
    };
    let leading = parts.iter().take_while(character).count();
    let end = (1..parts.len())
        .find(long_enough)?
        .max(leading.min(parts.len() - 1));
    let head = unanchored(&Hir::concat(parts[..end].to_vec()), MatchKind::All).ok()?;
    let rest = |cut: usize| {
        let config = dense::Config::new().start_kind(StartKind::Anchored);
        let dfa = sparse_dfa(
            &Hir::concat(parts[end..cut].to_vec()),
            config,
            DFA_SIZE_LIMIT,
        )?;
        Ok(Dfa {
            table: gate_table::encode(&dfa, true)?,
            needles: Vec::new(),
        })
    };
    let (cut, tail) = longest_fitting(end + 1, parts.len() + 1, rest)?;
    Some((
        cut,
        vec![Pair {
            heads: vec![head],
            tail,
        }],
    ))
}

/// When the match opens with an alternation too large for one DFA (a generated rule's
/// variable names then its SDK calls): its branches in order, as many to a head as fit,
/// followed by the rest; a branch too large alone is [`split`] with the rest appended.
fn split_branches(parts: &[Hir]) -> Option<Vec<Pair>> {
    let HirKind::Alternation(branches) = parts.first()?.kind() else {
        return None;
    };
    let rest = &parts[1..];
    let mut heads = Vec::new();
    let mut pairs = Vec::new();
    let mut from = 0;
    while from < branches.len() {
        let group = |end: usize| {
            unanchored(
                &Hir::alternation(branches[from..end].to_vec()),
                MatchKind::All,
            )
        };
        match longest_fitting(from + 1, branches.len() + 1, group) {
            Some((end, dfa)) => {
                heads.push(dfa);
                from = end;
            }
            None => {
                let mut alone = self::parts(branches[from].clone());
                alone.extend_from_slice(rest);
                pairs.extend(split(&alone)?);
                from += 1;
            }
        }
    }
    if !heads.is_empty() {
        let tail = anchored(&Hir::concat(rest.to_vec())).ok()?;
        pairs.push(Pair { heads, tail });
    }
    Some(pairs)
}

/// The parts of a concatenation, in order.
fn parts(hir: Hir) -> Vec<Hir> {
    match hir.into_kind() {
        HirKind::Concat(parts) => parts,
        kind => vec![Hir::concat(vec![rebuild(kind)])],
    }
}

/// The largest `n` in `low..high` for which `build(n)` succeeds, with its DFA, found by halving
/// (assuming a larger `n` never fits when a smaller one does not).
fn longest_fitting(
    mut low: usize,
    mut high: usize,
    build: impl Fn(usize) -> Result<Dfa, String>,
) -> Option<(usize, Dfa)> {
    let mut best = None;
    while low < high {
        let middle = low + (high - low) / 2;
        match build(middle) {
            Ok(dfa) => {
                best = Some((middle, dfa));
                low = middle + 1;
            }
            Err(_) => high = middle,
        }
    }
    best
}

/// The sparse DFA of `hir`, searching from anywhere, within the size limits.
fn unanchored(hir: &Hir, kind: MatchKind) -> Result<Dfa, String> {
    let config = dense::Config::new()
        .start_kind(StartKind::Unanchored)
        .match_kind(kind);
    let dfa = sparse_dfa(hir, config, DFA_SIZE_LIMIT)?;
    Ok(Dfa {
        table: gate_table::encode(&dfa, false)?,
        needles: needles(hir),
    })
}

/// The sparse DFA of `hir`, matching only from where its search starts.
fn anchored(hir: &Hir) -> Result<Dfa, String> {
    let config = dense::Config::new().start_kind(StartKind::Anchored);
    let dfa = sparse_dfa(hir, config, TAIL_SIZE_LIMIT)?;
    Ok(Dfa {
        table: gate_table::encode(&dfa, true)?,
        needles: Vec::new(),
    })
}

/// The literals every match of `hir` starts with, when there are few enough (see
/// [`MAX_NEEDLES`]) and each is at least 3 bytes long (shorter ones would stop the search
/// everywhere); else their first bytes, as many as keep them few enough (`(?i:spotify)`'s 192
/// spellings start with 12 of `spo`), or none. A gate without literals steps through every
/// byte: a named key's head spent its fuel on the first 16 KB of a text naming it.
fn needles(hir: &Hir) -> Vec<Vec<u8>> {
    let lengths = std::iter::once(usize::MAX).chain((3..=8).rev());
    let mut extractor = Extractor::new();
    lengths
        .filter_map(|length| {
            let prefixes = (extractor.kind(ExtractKind::Prefix))
                .limit_literal_len(length.min(100))
                .extract(hir);
            let literals = prefixes.literals()?;
            (literals.len() <= MAX_NEEDLES && literals.iter().all(|l| l.len() >= 3))
                .then(|| literals.iter().map(|l| l.as_bytes().to_vec()).collect())
        })
        .next()
        .unwrap_or_default()
}

/// The sparse DFA of `hir`, if it is at most `limit` bytes.
fn sparse_dfa(
    hir: &Hir,
    config: dense::Config,
    limit: usize,
) -> Result<sparse::DFA<Vec<u8>>, String> {
    let nfa = thompson::Compiler::new()
        .configure(
            thompson::Config::new()
                .utf8(false)
                .which_captures(thompson::WhichCaptures::None),
        )
        .build_from_hir(hir)
        .map_err(|err| err.to_string())?;
    let config = config
        .minimize(false)
        .dfa_size_limit(Some(DENSE_SIZE_FACTOR * limit))
        .determinize_size_limit(Some(DETERMINIZE_SIZE_LIMIT));
    let dfa = dense::Builder::new()
        .configure(config)
        .build_from_nfa(&nfa)
        .map_err(|err| err.to_string())?
        .to_sparse()
        .map_err(|err| err.to_string())?;
    if dfa.memory_usage() > limit {
        return Err(format!("{} bytes", dfa.memory_usage()));
    }
    Ok(dfa)
}

/// `hir` made to match more, never less, and to make a small DFA: a repetition of more than
/// `counted` becomes "at least `min(n, counted)`", a class with many non-ASCII members matches
/// its ASCII members or a run of non-ASCII bytes, a Unicode word boundary always holds (DFAs know
/// only ASCII ones), and captures go.
fn widen(hir: Hir, counted: u32) -> Hir {
    match hir.into_kind() {
        HirKind::Class(Class::Unicode(class)) if non_ascii(&class) > WIDE_CLASS => {
            let ascii = (class.ranges().iter())
                .filter(|r| r.start() <= '\x7f')
                .map(|r| ClassBytesRange::new(r.start() as u8, r.end().min('\x7f') as u8));
            let non_ascii = Hir::repetition(Repetition {
                min: 1,
                max: None,
                greedy: true,
                sub: Box::new(Hir::class(Class::Bytes(ClassBytes::new([
                    ClassBytesRange::new(0x80, 0xff),
                ])))),
            });
            Hir::alternation(vec![
                Hir::class(Class::Bytes(ClassBytes::new(ascii))),
                non_ascii,
            ])
        }
        HirKind::Look(
            Look::WordUnicode
            | Look::WordUnicodeNegate
            | Look::WordStartUnicode
            | Look::WordEndUnicode
            | Look::WordStartHalfUnicode
            | Look::WordEndHalfUnicode,
        ) => Hir::empty(),
        HirKind::Repetition(rep) => Hir::repetition(Repetition {
            min: rep.min.min(counted),
            max: rep.max.filter(|&max| max <= counted),
            greedy: rep.greedy,
            sub: Box::new(widen(*rep.sub, counted)),
        }),
        HirKind::Capture(capture) => widen(*capture.sub, counted),
        HirKind::Concat(parts) => {
            Hir::concat(parts.into_iter().map(|part| widen(part, counted)).collect())
        }
        HirKind::Alternation(parts) => {
            Hir::alternation(parts.into_iter().map(|part| widen(part, counted)).collect())
        }
        kind @ (HirKind::Empty | HirKind::Literal(_) | HirKind::Class(_) | HirKind::Look(_)) => {
            rebuild(kind)
        }
    }
}

/// How many members of `class` are not ASCII.
fn non_ascii(class: &regex_syntax::hir::ClassUnicode) -> u32 {
    (class.ranges().iter())
        .filter(|range| range.end() > '\x7f')
        .map(|range| u32::from(range.end()) - u32::from(range.start().max('\u{80}')) + 1)
        .sum()
}

/// A leaf of the syntax tree as it was.
fn rebuild(kind: HirKind) -> Hir {
    match kind {
        HirKind::Literal(literal) => Hir::literal(literal.0),
        HirKind::Class(class) => Hir::class(class),
        HirKind::Look(look) => Hir::look(look),
        _ => Hir::empty(),
    }
}
