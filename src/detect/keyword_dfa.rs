//! The prefilter's automaton for big changes: an Aho-Corasick DFA over every keyword, with
//! ASCII case folded into its byte classes, walked over four quarters of a text at once.
//!
//! Why not the aho-corasick crate: its overlapping search (the only one that reports every
//! keyword) goes through a generic loop at about 10 cycles a byte, and needed the text
//! lowercased into a buffer first. Here a byte costs two loads, an addition and a bounds check
//! that is also the test for a match (match states are numbered last); the walk is bound by
//! the latency of those loads, so four independent walks run in about the time of one. Every
//! keyword is a pattern, the long ones too, so a match needs no second look at the text.

use std::borrow::Cow;

/// The automaton. A state is the offset of its row in `next` (row length `stride`), so that a
/// step is one addition and one load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeywordDfa {
    /// Byte -> column; upper-case ASCII shares its lower-case letter's column.
    classes: [u8; 256],
    stride: usize,
    /// Borrowed from the binary for the built-in keywords ([`KeywordDfa::from_static`]).
    next: Cow<'static, [u32]>,
    /// States from this one on end at least one keyword (match states are numbered last, so
    /// that a step from one indexes past the rows of the others: see `walk_quarters`).
    match_from: u32,
    /// Per match state (its row number counted from `match_from`), where its keywords start
    /// in `ends`, and one more number: where the last state's keywords end.
    ends_at: Cow<'static, [u32]>,
    /// The keywords that end in each match state, one state's after another's.
    ends: Cow<'static, [u32]>,
    start: u32,
    /// Bytes of the longest keyword: how far each quarter's walk goes into the next one.
    longest: usize,
}

/// What [`KeywordDfa::read`] checks of the tables besides their lengths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Checks {
    /// The header and the tables' lengths: for the bytes build.rs wrote into the binary.
    Lengths,
    /// Also that every transition is within the table and the match states' keyword ranges
    /// ascend, so that no walk panics: for bytes from anywhere else.
    EveryTransition,
}

/// Below this, one walk: four would not pay for the bytes the quarters share.
const WALKS_FROM: usize = 512;

/// Bytes of [`KeywordDfa::to_bytes`]' six numbers; the byte classes follow them, then the
/// tables of numbers, each at a multiple of four bytes.
const HEADER: usize = 24;

/// Where the tables of numbers start in [`KeywordDfa::to_bytes`]: after the byte classes, at
/// a multiple of 64, so that in bytes placed at a cache line the transitions' rows start at
/// one too when their length is a multiple of 64 bytes (the built-in keywords' 48 columns).
pub const TABLES_FROM: usize = (HEADER + 256).next_multiple_of(64);

impl KeywordDfa {
    /// An automaton reporting each of `keywords` (lowercase, non-empty) by its index.
    pub fn new<K: AsRef<str>>(keywords: &[K]) -> KeywordDfa {
        let classes = byte_classes(keywords);
        let stride = usize::from(classes.iter().copied().max().unwrap_or(0)) + 1;
        let trie = Trie::new(keywords, &classes, stride);
        let (next, ends, start) = trie.into_dfa(stride);
        let mut ends_at = vec![0];
        ends_at.extend(ends.iter().scan(0, |at, keywords| {
            *at += keywords.len() as u32;
            Some(*at)
        }));
        KeywordDfa {
            classes,
            stride,
            match_from: (next.len() - ends.len() * stride) as u32,
            next: Cow::Owned(next),
            ends_at: Cow::Owned(ends_at),
            ends: Cow::Owned(ends.concat()),
            start,
            longest: keywords.iter().map(|k| k.as_ref().len()).max().unwrap_or(0),
        }
    }

    /// The automaton as bytes, for build.rs to embed the built-in keywords' one: six numbers
    /// (stride, match_from, start, longest, the lengths of `next` and of `ends`), the 256
    /// byte classes, zeros up to [`TABLES_FROM`], then `next`, `ends_at` and `ends`; numbers
    /// as u32 LE.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(4 * self.next.len() + TABLES_FROM);
        let header = [self.stride, self.match_from as usize, self.start as usize];
        for n in header
            .into_iter()
            .chain([self.longest, self.next.len(), self.ends.len()])
        {
            bytes.extend_from_slice(&(n as u32).to_le_bytes());
        }
        bytes.extend_from_slice(&self.classes);
        bytes.resize(TABLES_FROM, 0);
        let tables = [&self.next, &self.ends_at, &self.ends];
        tables
            .into_iter()
            .flat_map(|t| t.iter())
            .for_each(|&n| bytes.extend_from_slice(&n.to_le_bytes()));
        bytes
    }

    /// The automaton [`KeywordDfa::to_bytes`] wrote, its tables copied. `None` when the
    /// bytes are no such automaton.
    pub fn from_bytes(bytes: &[u8]) -> Option<KeywordDfa> {
        KeywordDfa::read(bytes, Checks::EveryTransition, |words| {
            Cow::Owned(copy_words(words))
        })
    }

    /// [`KeywordDfa::from_bytes`] of bytes in the binary, its tables read in place: copying
    /// the built-in keywords' 1.4 MB table at the first big search cost 11.5 M instructions
    /// and the page faults of a fresh 1.4 MB (trees40). Copied where the bytes are not
    /// aligned for u32 or the target is big-endian.
    ///
    /// Only the header and the tables' lengths are checked, not each transition: the bytes
    /// are the ones build.rs wrote into this binary (a test compares them with the automaton
    /// built at run time), and reading all 1.4 MB to check them cost a commit of 20 lines
    /// 1.4 M instructions and the faults of every page of the table, where a walk over a few
    /// kilobytes touches a few of its rows. A bad transition would still not read outside the
    /// tables: every step's index is bounds-checked, so it would panic.
    pub fn from_static(bytes: &'static [u8]) -> Option<KeywordDfa> {
        KeywordDfa::read(bytes, Checks::Lengths, |words| match in_place(words) {
            Some(words) => Cow::Borrowed(words),
            None => Cow::Owned(copy_words(words)),
        })
    }

    /// The automaton in `bytes`, its tables made by `words` from their bytes. With
    /// [`Checks::EveryTransition`], checks what keeps every step and lookup within the tables
    /// (each transition at most the last row's offset), not that each is a row's offset: a
    /// table build.rs wrote is compared with the one built at run time in a test, and a check
    /// per transition for the rows' multiples cost a division each.
    fn read<'b>(
        bytes: &'b [u8],
        checks: Checks,
        words: impl Fn(&'b [u8]) -> Cow<'static, [u32]>,
    ) -> Option<KeywordDfa> {
        let header = bytes.get(..HEADER)?;
        let number = |at: usize| u32::from_le_bytes([0, 1, 2, 3].map(|i| header[4 * at + i]));
        let [stride, match_from, start, longest, length, keywords] =
            [0, 1, 2, 3, 4, 5].map(|at| number(at) as usize);
        let classes: [u8; 256] = bytes.get(HEADER..HEADER + 256)?.try_into().ok()?;
        let states = (length.checked_sub(match_from)?).checked_div(stride)?;
        let tables = bytes.get(TABLES_FROM..)?;
        let numbers = length.checked_add(states + 1)?.checked_add(keywords)?;
        if Some(tables.len()) != numbers.checked_mul(4) {
            return None;
        }
        let (next, rest) = tables.split_at(4 * length);
        let (ends_at, ends) = rest.split_at(4 * (states + 1));
        let (next, ends_at, ends) = (words(next), words(ends_at), words(ends));
        let last_row = length.checked_sub(stride)?;
        let valid = length.is_multiple_of(stride)
            && match_from.is_multiple_of(stride)
            && start.is_multiple_of(stride)
            && start <= last_row
            && classes.iter().all(|&c| usize::from(c) < stride)
            && ends_at.first() == Some(&0)
            && ends_at.last() == Some(&(keywords as u32))
            && (checks == Checks::Lengths
                || next.iter().max().is_none_or(|&to| to as usize <= last_row)
                    && ends_at.is_sorted());
        valid.then_some(KeywordDfa {
            classes,
            stride,
            next,
            match_from: match_from as u32,
            ends_at,
            ends,
            start: start as u32,
            longest,
        })
    }

    /// Calls `found` with the index of each keyword occurrence in `haystack` (ASCII case
    /// insensitively) and where it ends; an occurrence may be reported more than once, and
    /// not in order.
    pub fn search(&self, haystack: &[u8], mut found: impl FnMut(u32, usize)) {
        self.search_states(haystack, |row, end| {
            for &keyword in self.keywords_ending_in(row) {
                found(keyword, end);
            }
        });
    }

    /// Match states: rows numbered from 0 to this, see [`KeywordDfa::search_states`].
    pub fn match_states(&self) -> usize {
        self.ends_at.len() - 1
    }

    /// The keywords (their indices) that end where the walk is in match state `row`.
    pub fn keywords_ending_in(&self, row: u32) -> &[u32] {
        let row = row as usize;
        &self.ends[self.ends_at[row] as usize..self.ends_at[row + 1] as usize]
    }

    /// [`KeywordDfa::search`] by match state: calls `found` with the row of each match
    /// state the walk enters (its keywords: [`KeywordDfa::keywords_ending_in`]) and where;
    /// the caller keeps one record per state instead of one per keyword.
    pub fn search_states(&self, haystack: &[u8], mut found: impl FnMut(u32, usize)) {
        let mut report = |state: u32, end: usize| {
            found((state - self.match_from) / self.stride as u32, end);
        };
        if haystack.len() < WALKS_FROM.max(4 * self.longest) {
            self.walk(self.start, haystack, 0, &mut report);
            return;
        }
        // Each quarter starts afresh; the walk of the one before goes on until every keyword
        // that starts in it has ended.
        let quarter = haystack.len() / 4;
        let (first, rest) = haystack.split_at(quarter);
        let (second, rest) = rest.split_at(quarter);
        let (third, fourth) = rest.split_at(quarter);
        let lanes = [first, second, third, &fourth[..quarter]];
        let mut states = [self.start; 4];
        let mut from = 0;
        while from < quarter {
            // Walks from `stopped` on are before byte `at`, one of them in a match state.
            let (at, stopped) = self.walk_quarters(&lanes, from, &mut states);
            if at == quarter {
                break;
            }
            for lane in stopped..4 {
                if states[lane] >= self.match_from {
                    report(states[lane], lane * quarter + at);
                }
                states[lane] = self.step(states[lane], lanes[lane][at]);
            }
            from = at + 1;
        }
        // A match state entered at a quarter's last byte.
        for (lane, &state) in states.iter().enumerate() {
            if state >= self.match_from {
                report(state, (lane + 1) * quarter);
            }
        }
        let [a, b, c, d] = states;
        let overlap = self.longest.saturating_sub(1).min(quarter);
        self.walk(a, &second[..overlap], quarter, &mut report);
        self.walk(b, &third[..overlap], 2 * quarter, &mut report);
        self.walk(c, &fourth[..overlap], 3 * quarter, &mut report);
        self.walk(d, &fourth[quarter..], 4 * quarter, &mut report);
    }

    /// Walks the four quarters (of one length) in step from byte `from` until one walk is in
    /// a match state: returns the byte it would read next and which walk it is (the walks
    /// before it have read that byte), or the quarters' length and 4. A step indexes only the
    /// rows of states that are no match, so that one bounds check per step is also the test
    /// for a match: no comparison of the four states at each byte. Out of line, so that the
    /// states and pointers stay in registers (next to the report's closure in `search`, three
    /// states and every pointer went to the stack and back at each byte).
    #[inline(never)]
    fn walk_quarters(
        &self,
        lanes: &[&[u8]; 4],
        from: usize,
        states: &mut [u32; 4],
    ) -> (usize, usize) {
        let [w, x, y, z] = *lanes;
        let length = w.len();
        let (x, y, z) = (&x[..length], &y[..length], &z[..length]);
        let plain = &self.next[..self.match_from as usize];
        let column = |byte: u8| usize::from(self.classes[usize::from(byte)]);
        let [mut a, mut b, mut c, mut d] = states.map(|state| state as usize);
        macro_rules! step {
            ($state:ident, $lane:ident, $index:literal, $at:ident) => {
                match plain.get($state + column($lane[$at])) {
                    Some(&to) => $state = to as usize,
                    None => {
                        *states = [a, b, c, d].map(|state| state as u32);
                        return ($at, $index);
                    }
                }
            };
        }
        for at in from..length {
            step!(a, w, 0, at);
            step!(b, x, 1, at);
            step!(c, y, 2, at);
            step!(d, z, 3, at);
        }
        *states = [a, b, c, d].map(|state| state as u32);
        (length, 4)
    }

    /// Walks `text`, which starts `offset` bytes into the haystack (a match state is
    /// reported when the walk steps out of it, as in `walk_quarters`, or at the end).
    fn walk(
        &self,
        mut state: u32,
        text: &[u8],
        offset: usize,
        report: &mut impl FnMut(u32, usize),
    ) {
        let plain = &self.next[..self.match_from as usize];
        for (at, &byte) in text.iter().enumerate() {
            let index = state as usize + usize::from(self.classes[usize::from(byte)]);
            state = match plain.get(index) {
                Some(&to) => to,
                None => {
                    report(state, offset + at);
                    self.next[index]
                }
            };
        }
        if state >= self.match_from {
            report(state, offset + text.len());
        }
    }

    #[inline(always)]
    fn step(&self, state: u32, byte: u8) -> u32 {
        self.next[state as usize + usize::from(self.classes[usize::from(byte)])]
    }
}

/// `bytes` as the u32s they hold, in place: `None` where they are not aligned for u32 or the
/// target is big-endian (the tables are little-endian).
fn in_place(bytes: &[u8]) -> Option<&[u32]> {
    match cfg!(target_endian = "little") {
        true => bytemuck::try_cast_slice(bytes).ok(),
        false => None,
    }
}

/// The u32s (little-endian) `bytes` hold, copied.
fn copy_words(bytes: &[u8]) -> Vec<u32> {
    let word = |four: &[u8]| u32::from_le_bytes([four[0], four[1], four[2], four[3]]);
    bytes.chunks_exact(4).map(word).collect()
}

/// Bytes by how often source text holds them, the commonest first (upper case counted as
/// lower; measured over the bench's two corpora of Python packages, and much the same in any
/// source text).
const COMMON_FIRST: &[u8] = b" etasrinoldcpum.,fh\n_()g=b\"y:vx0w1k2-/3456879qj>z$~";

/// A column per byte that occurs in a keyword (upper case folded onto lower), column 0 for
/// every other byte: a few dozen columns instead of 256. The commonest bytes get the first
/// columns, so that a walk over source text mostly reads the first cache line of a row (the
/// built-in table is far bigger than the first-level cache).
fn byte_classes<K: AsRef<str>>(keywords: &[K]) -> [u8; 256] {
    let mut used = [false; 256];
    for keyword in keywords {
        for &byte in keyword.as_ref().as_bytes() {
            used[usize::from(byte)] = true;
        }
    }
    let rest = (keywords.iter()).flat_map(|keyword| keyword.as_ref().as_bytes().iter().copied());
    let mut classes = [0u8; 256];
    let mut columns = 0u8;
    for byte in COMMON_FIRST.iter().copied().chain(rest) {
        if used[usize::from(byte)] && classes[usize::from(byte)] == 0 {
            columns += 1;
            classes[usize::from(byte)] = columns;
        }
    }
    for upper in b'A'..=b'Z' {
        classes[usize::from(upper)] = classes[usize::from(upper.to_ascii_lowercase())];
    }
    classes
}

/// The keywords' trie, in columns.
struct Trie {
    /// Per node, its children by column (`NONE` where there is none).
    children: Vec<Vec<u32>>,
    /// Per node, the keywords that end exactly there.
    ends: Vec<Vec<u32>>,
}

const NONE: u32 = u32::MAX;

impl Trie {
    fn new<K: AsRef<str>>(keywords: &[K], classes: &[u8; 256], stride: usize) -> Trie {
        let mut trie = Trie {
            children: vec![vec![NONE; stride]],
            ends: vec![Vec::new()],
        };
        for (index, keyword) in keywords.iter().enumerate() {
            let mut node = 0;
            for &byte in keyword.as_ref().as_bytes() {
                let column = usize::from(classes[usize::from(byte)]);
                node = match trie.children[node][column] {
                    NONE => {
                        trie.children.push(vec![NONE; stride]);
                        trie.ends.push(Vec::new());
                        let child = trie.children.len() - 1;
                        trie.children[node][column] = child as u32;
                        child
                    }
                    child => child as usize,
                };
            }
            trie.ends[node].push(index as u32);
        }
        trie
    }

    /// The DFA: every node's transitions filled in from its failure link (breadth first, so
    /// the link's row is complete first), each node's keywords joined by its link's, then the
    /// nodes renumbered match states last and premultiplied by `stride`. Returns the table,
    /// the keywords per match state and the start state.
    ///
    /// Numbered breadth first among the plain states and among the match states:
    /// a walk spends most of its steps within a few bytes of the start, and those rows are
    /// then next to each other, on fewer pages and spread over the cache's sets, instead of
    /// scattered over the table by the keywords' order.
    fn into_dfa(self, stride: usize) -> (Vec<u32>, Vec<Vec<u32>>, u32) {
        debug_assert!(self.children.iter().all(|row| row.len() == stride));
        let Trie {
            children: mut next,
            mut ends,
        } = self;
        let nodes = next.len();
        let mut fail = vec![0u32; nodes];
        let mut queue = std::collections::VecDeque::new();
        let mut breadth_first = vec![0];
        for slot in next[0].iter_mut() {
            match *slot {
                NONE => *slot = 0,
                child => queue.push_back(child),
            }
        }
        while let Some(node) = queue.pop_front() {
            let node = node as usize;
            breadth_first.push(node);
            let link = fail[node] as usize;
            let inherited = ends[link].clone();
            ends[node].extend(inherited);
            let link_row = next[link].clone();
            for (slot, &from_link) in next[node].iter_mut().zip(&link_row) {
                match *slot {
                    NONE => *slot = from_link,
                    child => {
                        fail[child as usize] = from_link;
                        queue.push_back(child);
                    }
                }
            }
        }
        // Renumber: match states last.
        let is_plain = |node: &usize| ends[*node].is_empty();
        let mut order: Vec<usize> = breadth_first.iter().copied().filter(is_plain).collect();
        let plain = order.len();
        order.extend(breadth_first.iter().copied().filter(|node| !is_plain(node)));
        let mut id = vec![0u32; nodes];
        for (new, &old) in order.iter().enumerate() {
            id[old] = (new * stride) as u32;
        }
        let table = order
            .iter()
            .flat_map(|&old| next[old].iter().map(|&to| id[to as usize]))
            .collect();
        let match_ends = order[plain..]
            .iter()
            .map(|&old| std::mem::take(&mut ends[old]))
            .collect();
        (table, match_ends, id[0])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(keywords: &[&str], text: &str) -> Vec<u32> {
        let keywords: Vec<String> = keywords.iter().map(|k| k.to_string()).collect();
        let dfa = KeywordDfa::new(&keywords);
        let mut got = Vec::new();
        dfa.search(text.as_bytes(), |k, end| {
            let length = keywords[k as usize].len();
            assert!(
                text[..end]
                    .to_ascii_lowercase()
                    .ends_with(&keywords[k as usize])
            );
            assert!(end >= length);
            got.push(k)
        });
        got.sort_unstable();
        got.dedup();
        got
    }

    #[test]
    fn an_automaton_reads_back_from_its_bytes_and_bad_bytes_are_refused() {
        let keywords: Vec<String> = ["sk-", "sk-ant-", "hf_", "r8_"].map(String::from).to_vec();
        let dfa = KeywordDfa::new(&keywords);
        let bytes = dfa.to_bytes();
        assert_eq!(KeywordDfa::from_bytes(&bytes), Some(dfa));
        assert_eq!(KeywordDfa::from_bytes(&bytes[..bytes.len() - 1]), None);
        assert_eq!(
            KeywordDfa::from_bytes(&[bytes.as_slice(), &[0; 4]].concat()),
            None
        );
        assert_eq!(KeywordDfa::from_bytes(&bytes[..100]), None);
    }

    /// `bytes` at an address four bytes apart from a multiple of four plus `offset`, for
    /// ever (as the binary's bytes are).
    fn leaked_at(bytes: &[u8], offset: usize) -> &'static [u8] {
        let words = vec![0u32; bytes.len().div_ceil(4) + 1].leak();
        let place = &mut bytemuck::cast_slice_mut::<u32, u8>(words)[offset..][..bytes.len()];
        place.copy_from_slice(bytes);
        place
    }

    /// Bytes in the binary (aligned, little-endian) are read in place; bytes at an odd
    /// address are copied, as on a big-endian target; both are the automaton written.
    #[test]
    fn an_automaton_reads_in_place_where_aligned_and_copies_elsewhere() {
        let keywords = ["sk-", "sk-ant-", "hf_", "r8_"];
        let dfa = KeywordDfa::new(&keywords);
        let bytes = dfa.to_bytes();
        let aligned = KeywordDfa::from_static(leaked_at(&bytes, 0)).expect("reads");
        assert_eq!(aligned, dfa);
        let borrowed = [&aligned.next, &aligned.ends_at, &aligned.ends]
            .map(|table| matches!(table, Cow::Borrowed(_)));
        assert_eq!(borrowed, [cfg!(target_endian = "little"); 3]);
        let odd = KeywordDfa::from_static(leaked_at(&bytes, 1)).expect("reads");
        assert_eq!(odd, dfa);
        assert!(matches!(odd.next, Cow::Owned(_)));
        let mut got = Vec::new();
        odd.search(b"x SK-ANT-y hf_", |keyword, end| got.push((keyword, end)));
        got.sort_unstable();
        assert_eq!(got, [(0, 5), (1, 9), (2, 14)]);
    }

    /// A transition past the last row, a class past the last column or keyword lists that do
    /// not add up are refused: a walk over them would index past the tables.
    #[test]
    fn tables_that_would_index_past_their_end_are_refused() {
        let dfa = KeywordDfa::new(&["ab", "bc"]);
        let bytes = dfa.to_bytes();
        let word = |at: usize| TABLES_FROM + 4 * at;
        let edits: [(usize, u32); 4] = [
            (word(0), dfa.next.len() as u32),
            (word(1), (dfa.next.len() - dfa.stride + 1) as u32),
            (word(dfa.next.len()), 1),
            (word(dfa.next.len() + dfa.ends_at.len() - 1), 9),
        ];
        for (at, number) in edits {
            let mut bad = bytes.clone();
            bad[at..at + 4].copy_from_slice(&number.to_le_bytes());
            assert_eq!(KeywordDfa::from_bytes(&bad), None, "{at}");
        }
        let mut bad = bytes.clone();
        bad[HEADER + usize::from(b'a')] = dfa.stride as u8;
        assert_eq!(KeywordDfa::from_bytes(&bad), None);
        assert_eq!(KeywordDfa::from_bytes(&bytes), Some(dfa));
    }

    /// The commonest bytes of source text take the first columns (a row's first cache line),
    /// whatever order the keywords hold them in; bytes the ranking lacks come after them.
    #[test]
    fn the_commonest_bytes_take_the_first_columns() {
        let dfa = KeywordDfa::new(&["zz\u{7f}", "t e", "qe"]);
        let column = |byte: u8| dfa.classes[usize::from(byte)];
        let got = [b' ', b'e', b't', b'q', b'z', 0x7f].map(column);
        assert_eq!(got, [1, 2, 3, 4, 5, 6]);
        assert_eq!(column(b'E'), 2);
        assert_eq!([b'a', b'\n', 0x80].map(column), [0; 3]);
        let text = "x T EQE zz\u{7f}";
        let mut ends = Vec::new();
        dfa.search(text.as_bytes(), |keyword, end| ends.push((keyword, end)));
        ends.sort_unstable();
        assert_eq!(ends, [(0, 11), (1, 5), (2, 7)]);
    }

    /// States are numbered breadth first within the plain ones and the match ones: the rows a
    /// walk visits most, a byte or two from the start, lie next to each other.
    #[test]
    fn states_are_numbered_by_their_depth() {
        let dfa = KeywordDfa::new(&["abcd", "xyzw", "ab"]);
        let after = |text: &[u8]| {
            text.iter()
                .fold(dfa.start, |state, &byte| dfa.step(state, byte))
        };
        let row = |text: &[u8]| after(text) / dfa.stride as u32;
        assert_eq!(row(b""), 0);
        let (a, x, xy, abc, xyz) = (row(b"a"), row(b"x"), row(b"xy"), row(b"abc"), row(b"xyz"));
        assert!(a.max(x) < xy.min(abc), "{a} {x} {xy} {abc}");
        assert!(xy.max(abc) < xyz, "{xy} {abc} {xyz}");
        // Match states stay last, breadth first among themselves.
        assert!(after(b"ab") >= dfa.match_from && after(b"ab") < after(b"abcd"));
        assert!(after(b"xyz") < dfa.match_from);
    }

    #[test]
    fn every_keyword_in_any_case_overlapping_ones_too() {
        let keywords = [
            "sk-",
            "sk-ant-",
            "ant-api",
            "abase",
            "baseten",
            "key",
            "api_key_key",
        ];
        assert_eq!(found(&keywords, "x SK-Ant-api03"), [0, 1, 2]);
        assert_eq!(found(&keywords, "abaseten"), [3, 4]);
        assert_eq!(found(&keywords, "my_api_key_KEY"), [5, 6]);
        assert_eq!(found(&keywords, "nothing here"), Vec::<u32>::new());
        assert_eq!(found(&keywords, ""), Vec::<u32>::new());
    }

    /// Every occurrence of every keyword, with its end, as a byte-by-byte comparison finds
    /// them: random texts of the keywords' own bytes in either case (near misses and
    /// overlaps everywhere), short ones walked once and long ones in quarters, so that
    /// occurrences lie across each seam and at both ends. A missed occurrence or an end off
    /// by one fails.
    #[test]
    fn reports_every_occurrence_with_its_end() {
        let keywords = ["ab", "abc", "bca", "cab_", "c_a", "a_b_c_", "bb"];
        let dfa = KeywordDfa::new(&keywords);
        let alphabet = b"abcABC_.";
        let mut random = crate::test_support::Xorshift::new(0x2545_f491_4f6c_dd1d);
        for length in [
            0,
            1,
            7,
            100,
            WALKS_FROM - 1,
            WALKS_FROM,
            WALKS_FROM + 5,
            3001,
        ] {
            for _ in 0..20 {
                let text: Vec<u8> = (0..length)
                    .map(|_| alphabet[random.below(alphabet.len())])
                    .collect();
                let mut got = std::collections::BTreeSet::new();
                dfa.search(&text, |keyword, end| {
                    got.insert((keyword, end));
                });
                let mut expected = std::collections::BTreeSet::new();
                for (index, keyword) in keywords.iter().enumerate() {
                    for end in keyword.len()..=text.len() {
                        if text[end - keyword.len()..end].eq_ignore_ascii_case(keyword.as_bytes()) {
                            expected.insert((index as u32, end));
                        }
                    }
                }
                assert_eq!(got, expected, "{}", String::from_utf8_lossy(&text));
            }
        }
    }

    /// Four walks: a keyword on either side of where one quarter ends, across it, and at
    /// both ends of the text.
    #[test]
    fn the_quarters_miss_nothing_where_they_meet() {
        let keywords = ["wandb_v1_", "r8_", "hf_"];
        for length in [WALKS_FROM, WALKS_FROM + 3, 3 * WALKS_FROM + 7] {
            let quarter = length / 4;
            for (index, keyword) in keywords.iter().enumerate() {
                let mut places = vec![0, length - keyword.len()];
                for seam in [quarter, 2 * quarter, 3 * quarter] {
                    places.extend(seam - keyword.len() - 1..seam + 2);
                }
                for at in places {
                    let mut text = vec![b'.'; length];
                    text[at..at + keyword.len()].copy_from_slice(keyword.as_bytes());
                    let text = String::from_utf8(text).unwrap();
                    assert_eq!(found(&keywords, &text), [index as u32], "{keyword} at {at}");
                }
            }
        }
    }
}
