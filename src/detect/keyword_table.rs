//! The prefilter's keyword list: every rule's keywords in lower case, sorted and distinct, with
//! the rules each one makes candidates. build.rs includes this file to write the built-in
//! rules' list into the binary; a config that adds rules has it built at run time.

/// Keywords (lowercase, sorted, distinct) and, per keyword, the indices of the rules that have
/// it (ascending).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeywordTable {
    pub keywords: Vec<String>,
    pub owners: Vec<Vec<u32>>,
}

impl KeywordTable {
    /// The table of `rules`' keywords, the rules numbered in the order given.
    pub fn of<'a>(rules: impl IntoIterator<Item = &'a [String]>) -> KeywordTable {
        let mut uses: Vec<(String, u32)> = rules
            .into_iter()
            .enumerate()
            .flat_map(|(index, keywords)| {
                keywords
                    .iter()
                    .map(move |k| (k.to_ascii_lowercase(), index as u32))
            })
            .collect();
        uses.sort_unstable();
        uses.dedup();
        let mut table = KeywordTable::default();
        for (keyword, index) in uses {
            if table.keywords.last() != Some(&keyword) {
                table.keywords.push(keyword);
                table.owners.push(Vec::new());
            }
            table.owners.last_mut().expect("pushed above").push(index);
        }
        table
    }
}
