//! Build time, regex half: a gate's DFA (build/dfa.rs) rewritten as a table of states by byte
//! class, the form `src/detect/prebuilt_dfa/table.rs` walks in place. regex-automata's own
//! serialized DFAs must be validated when loaded (a set look-up per transition: 0.43 M
//! instructions for the gates one small change that names providers wakes) unless read with
//! `unsafe`; a table read with checked indexing needs no validation.
//!
//! Layout, numbers as u16 little-endian: the row length (byte classes plus end of input), the
//! number of states, the last match state, the last start state, the last state with skips,
//! the start states after text start, `\n`, `\r`, a word byte and any other byte; then the
//! class of each of the 256 bytes (one byte each); then per start state and state with skips,
//! how many bytes leave it (0 to 3, or 0 when more do) and those bytes padded to three; then
//! the rows, each the next state per class, end of input last. State 0 is the dead state;
//! match states follow it, then the start states that are not matches, then the states that
//! at most three bytes leave (the walk skips to them with `memchr`, as regex-automata's
//! accelerated states do).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use regex_automata::Anchored;
use regex_automata::dfa::{Automaton, sparse};
use regex_automata::util::primitives::StateID;
use regex_automata::util::start;

/// Bytes before the skips: ten numbers and the class map.
const HEADER: usize = 20 + 256;

/// The look-behind bytes the start states are kept for; any other byte starts as one of them
/// (checked in [`encode`]).
const LOOK_BEHIND: [Option<u8>; 5] = [None, Some(b'\n'), Some(b'\r'), Some(b'a'), Some(b' ')];

/// `dfa` as a table (see the module's comment), searching anchored or not as it was built.
pub fn encode(dfa: &sparse::DFA<Vec<u8>>, anchored: bool) -> Result<Vec<u8>, String> {
    let mode = if anchored {
        Anchored::Yes
    } else {
        Anchored::No
    };
    let start_of = |look_behind: Option<u8>| {
        dfa.start_state(&start::Config::new().anchored(mode).look_behind(look_behind))
            .map_err(|err| err.to_string())
    };
    let starts: Vec<StateID> = LOOK_BEHIND
        .iter()
        .map(|&b| start_of(b))
        .collect::<Result<_, _>>()?;
    for byte in 0..=255u8 {
        if start_of(Some(byte))? != starts[kind_of(byte)] {
            return Err(format!("start state after byte {byte} is its own"));
        }
    }
    let classes = dfa.byte_classes();
    let stride = classes.alphabet_len();
    let mut representative = vec![None; stride - 1];
    for byte in (0..=255u8).rev() {
        representative[usize::from(classes.get(byte))] = Some(byte);
    }
    let next = |id: StateID, class: usize| match representative.get(class) {
        Some(Some(byte)) => dfa.next_state(id, *byte),
        _ => dfa.next_eoi_state(id),
    };
    let seen = reachable(dfa, &starts, stride, &next)?;
    // The bytes that leave a state, when there are at most three: the walk skips to them.
    let escapes = |id: StateID| {
        let leave = (0..=255u8).filter(|&byte| dfa.next_state(id, byte) != id);
        let leave: Vec<u8> = leave.take(4).collect();
        (leave.len() <= 3).then_some(leave)
    };
    // Numbered dead, matches, starts, states with skips, the rest.
    let rank = |id: StateID| match () {
        () if dfa.is_dead_state(id) => 0,
        () if dfa.is_match_state(id) => 1,
        () if starts.contains(&id) => 2,
        () if escapes(id).is_some() => 3,
        () => 4,
    };
    let mut order: Vec<(u8, StateID)> = seen.into_iter().map(|id| (rank(id), id)).collect();
    order.sort_unstable();
    if order[0].0 != 0 {
        return Err("the DFA has no dead state".to_string());
    }
    let number: BTreeMap<StateID, u16> = (order.iter().enumerate())
        .map(|(at, &(_, id))| Ok((id, u16::try_from(at).map_err(|_| "too many states")?)))
        .collect::<Result<_, &str>>()?;
    let last_of = |most: u8| {
        order
            .iter()
            .rposition(|&(rank, _)| rank <= most)
            .unwrap_or(0) as u16
    };
    let (last_match, last_start, last_skip) = (last_of(1), last_of(2), last_of(3));
    let header = [
        stride as u16,
        order.len() as u16,
        last_match,
        last_start,
        last_skip,
    ];
    let header = header.into_iter().chain(starts.iter().map(|id| number[id]));
    let mut table = Vec::with_capacity(HEADER + 2 * order.len() * stride);
    header.for_each(|n| table.extend(n.to_le_bytes()));
    table.extend((0..=255u8).map(|byte| classes.get(byte)));
    for &(_, id) in &order[usize::from(last_match) + 1..=usize::from(last_skip.max(last_match))] {
        let leave = escapes(id).unwrap_or_default();
        table.push(leave.len() as u8);
        table.extend(leave.iter().chain(&[0; 3]).take(3));
    }
    for &(_, id) in &order {
        for class in 0..stride {
            table.extend(number[&next(id, class)].to_le_bytes());
        }
    }
    Ok(table)
}

/// Every state reachable from `starts` (and the dead state); an error if one is a quit state
/// (the gates' DFAs have none: they give up on no byte).
fn reachable(
    dfa: &sparse::DFA<Vec<u8>>,
    starts: &[StateID],
    stride: usize,
    next: &dyn Fn(StateID, usize) -> StateID,
) -> Result<BTreeSet<StateID>, String> {
    let mut seen: BTreeSet<StateID> = starts.iter().copied().collect();
    seen.insert(StateID::ZERO);
    let mut queue: VecDeque<StateID> = seen.iter().copied().collect();
    while let Some(id) = queue.pop_front() {
        if dfa.is_quit_state(id) {
            return Err("the DFA has a quit state".to_string());
        }
        for class in 0..stride {
            let to = next(id, class);
            if seen.insert(to) {
                queue.push_back(to);
            }
        }
    }
    Ok(seen)
}

/// Which of [`LOOK_BEHIND`] a start after `byte` is (the runtime's `start_kind` too).
fn kind_of(byte: u8) -> usize {
    match byte {
        b'\n' => 1,
        b'\r' => 2,
        b'0'..=b'9' | b'A'..=b'Z' | b'a'..=b'z' | b'_' => 3,
        _ => 4,
    }
}
