//! Jupyter notebooks (nbformat 4 JSON): which cell, which output and which line of it a byte
//! of an `.ipynb` belongs to, so a finding can name the place as Jupyter shows it. serde_json
//! gives no byte offsets, so a small JSON walker records the span of every field of every cell
//! and output. A notebook that is not well-formed JSON of that shape yields no locations.

use std::fmt;
use std::ops::Range;

use serde::Serialize;

/// Where in a notebook a byte is: the cell, the output, the field and the line in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CellLocation {
    /// 1-based position in `cells`, as Jupyter numbers cells (not the execution count).
    pub index: u64,
    /// The cell's `cell_type`: `code`, `markdown` or `raw` (`unknown` when missing).
    pub kind: String,
    /// The output that holds it; none for the cell's own fields.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<OutputLocation>,
    /// The field: `source`, `metadata`, `attachments` in a cell; `text`, `traceback`,
    /// `data/text/plain`, ... in an output.
    pub field: String,
    /// 1-based line in the field's text, when the field is text (a string or a list of
    /// strings, joined as Jupyter joins them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
}

/// One output of a code cell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutputLocation {
    /// 1-based position in the cell's `outputs`.
    pub index: u64,
    /// `output_type`: `stream`, `execute_result`, `display_data` or `error`.
    #[serde(rename = "type")]
    pub output_type: String,
}

impl fmt::Display for CellLocation {
    /// `cell 3, code, line 2`; `cell 3, output 1 (stream), line 1`;
    /// `cell 4, output 1 (execute_result, text/plain), line 3`; `cell 2, markdown, metadata`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cell {}, ", self.index)?;
        match &self.output {
            Some(output) => {
                write!(f, "output {} ({}", output.index, output.output_type)?;
                // The field that holds an output's text goes without saying.
                match self.field.as_str() {
                    "text" | "traceback" | "" => {}
                    field => write!(f, ", {}", field.strip_prefix("data/").unwrap_or(field))?,
                }
                write!(f, ")")?;
            }
            None => {
                write!(f, "{}", self.kind)?;
                if self.field != "source" && !self.field.is_empty() {
                    write!(f, ", {}", self.field)?;
                }
            }
        }
        match self.line {
            Some(line) => write!(f, ", line {line}"),
            None => Ok(()),
        }
    }
}

impl CellLocation {
    /// Passes every name taken from the notebook (kind, output type, field) through
    /// `redact`: a crafted notebook can put a token where a name is expected.
    pub fn redact_names(&mut self, redact: impl Fn(&str) -> String) {
        self.kind = redact(&self.kind);
        self.field = redact(&self.field);
        if let Some(output) = &mut self.output {
            output.output_type = redact(&output.output_type);
        }
    }
}

/// A name from the notebook as a report may print it: the characters of cell types, output
/// types and MIME types, else `unknown`, so a crafted notebook cannot put terminal escapes
/// or line breaks into a report.
fn printable(name: &str) -> String {
    let plain = (1..=100).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-+./".contains(&b));
    if plain {
        name.to_string()
    } else {
        "unknown".to_string()
    }
}

/// A notebook's layout: the byte spans of its cells, their fields and outputs.
#[derive(Debug, Default)]
pub struct Notebook {
    cells: Vec<Cell>,
}

#[derive(Debug)]
struct Cell {
    span: Range<usize>,
    kind: String,
    fields: Vec<Field>,
    outputs: Vec<Output>,
}

#[derive(Debug)]
struct Output {
    span: Range<usize>,
    output_type: String,
    fields: Vec<Field>,
}

/// A member of a cell or output: its span from the key to the end of the value, and when the
/// value is text, the contents (between the quotes) of its strings in order.
#[derive(Debug)]
struct Field {
    name: String,
    span: Range<usize>,
    strings: Option<Vec<Range<usize>>>,
}

impl Notebook {
    /// The layout of `bytes`, or `None` when they are not a JSON object with a `cells` array
    /// of objects (not a notebook, malformed, truncated, UTF-16, nested absurdly deep).
    pub fn parse(bytes: &[u8]) -> Option<Notebook> {
        let mut reader = Reader { bytes, at: 0 };
        if bytes.starts_with(b"\xEF\xBB\xBF") {
            reader.at = 3;
        }
        let mut cells = None;
        reader.object(0, &mut |reader, key, _| {
            if key == "cells" {
                cells = Some(reader.array(1, &mut |reader| reader.cell())?);
                Some(())
            } else {
                reader.skip_value(1)
            }
        })?;
        reader.whitespace();
        (reader.at == bytes.len()).then_some(())?;
        Some(Notebook { cells: cells? })
    }

    /// Where byte `offset` of the notebook is; `None` outside every cell (the notebook's own
    /// metadata, the JSON punctuation between cells).
    pub fn locate(&self, bytes: &[u8], offset: usize) -> Option<CellLocation> {
        let position = self
            .cells
            .iter()
            .position(|cell| cell.span.contains(&offset))?;
        let cell = &self.cells[position];
        let mut location = CellLocation {
            index: position as u64 + 1,
            kind: printable(&cell.kind),
            output: None,
            field: String::new(),
            line: None,
        };
        let fields = match cell
            .outputs
            .iter()
            .position(|output| output.span.contains(&offset))
        {
            Some(i) => {
                let output = &cell.outputs[i];
                location.output = Some(OutputLocation {
                    index: i as u64 + 1,
                    output_type: printable(&output.output_type),
                });
                &output.fields
            }
            None => &cell.fields,
        };
        if let Some(field) = fields.iter().find(|field| field.span.contains(&offset)) {
            location.field = printable(&field.name);
            location.line = field
                .strings
                .as_deref()
                .and_then(|strings| line_in(bytes, strings, offset));
        }
        Some(location)
    }
}

/// The 1-based line of `offset` in the text the strings make when joined, counting the `\n`
/// escapes before it; `None` when `offset` is in none of them.
fn line_in(bytes: &[u8], strings: &[Range<usize>], offset: usize) -> Option<u64> {
    let mut newlines = 0;
    for string in strings {
        if string.contains(&offset) {
            return Some(newlines + escaped_newlines(&bytes[string.start..offset]) + 1);
        }
        newlines += escaped_newlines(&bytes[string.clone()]);
    }
    None
}

/// How many newlines a JSON string's raw contents encode (`\n`, `\u000a`).
fn escaped_newlines(raw: &[u8]) -> u64 {
    let mut count = 0;
    let mut i = 0;
    while i < raw.len() {
        if raw[i] != b'\\' {
            i += 1;
            continue;
        }
        match raw.get(i + 1) {
            Some(b'n') => count += 1,
            Some(b'u')
                if raw
                    .get(i + 2..i + 6)
                    .is_some_and(|h| h.eq_ignore_ascii_case(b"000a")) =>
            {
                count += 1;
            }
            _ => {}
        }
        i += if raw.get(i + 1) == Some(&b'u') { 6 } else { 2 };
    }
    count
}

/// Nesting deeper than this is no notebook; the walker gives up rather than recurse on.
const MAX_DEPTH: usize = 128;

/// A cursor over JSON bytes. Every method returns `None` on malformed input.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn whitespace(&mut self) {
        while self
            .bytes
            .get(self.at)
            .is_some_and(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        {
            self.at += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.whitespace();
        self.bytes.get(self.at).copied()
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.at += 1)
    }

    /// A string; returns the span of its contents (between the quotes).
    fn string(&mut self) -> Option<Range<usize>> {
        self.eat(b'"')?;
        let start = self.at;
        loop {
            // Jump over plain text to the next quote or escape: notebooks are mostly strings.
            let plain = memchr::memchr2(b'"', b'\\', &self.bytes[self.at..])?;
            let run = &self.bytes[self.at..self.at + plain];
            if run.iter().any(|&b| b < 0x20) {
                return None;
            }
            self.at += plain;
            if self.bytes[self.at] == b'"' {
                break;
            }
            // A backslash: the escapes JSON allows, nothing else.
            self.at += match *self.bytes.get(self.at + 1)? {
                b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => 2,
                b'u' => {
                    let hex = self.bytes.get(self.at + 2..self.at + 6)?;
                    hex.iter().all(u8::is_ascii_hexdigit).then_some(6)?
                }
                _ => return None,
            };
        }
        let end = self.at;
        self.at += 1;
        Some(start..end)
    }

    /// A string's decoded value (keys, `cell_type`, `output_type`: short).
    fn decoded(&self, contents: Range<usize>) -> Option<String> {
        let raw = &self.bytes[contents.clone()];
        if !raw.contains(&b'\\') {
            return std::str::from_utf8(raw).ok().map(str::to_string);
        }
        serde_json::from_slice(&self.bytes[contents.start - 1..contents.end + 1]).ok()
    }

    /// An object, handing each member's key and the key's start to `member`, which reads
    /// the value.
    fn object(
        &mut self,
        depth: usize,
        member: &mut dyn FnMut(&mut Self, String, usize) -> Option<()>,
    ) -> Option<()> {
        (depth < MAX_DEPTH).then_some(())?;
        self.eat(b'{')?;
        if self.eat(b'}').is_some() {
            return Some(());
        }
        loop {
            self.whitespace();
            let key_start = self.at;
            let key = self.string()?;
            let key = self.decoded(key)?;
            self.eat(b':')?;
            member(self, key, key_start)?;
            if self.eat(b',').is_none() {
                return self.eat(b'}');
            }
        }
    }

    /// An array, reading each element with `element`.
    fn array<T>(
        &mut self,
        depth: usize,
        element: &mut dyn FnMut(&mut Self) -> Option<T>,
    ) -> Option<Vec<T>> {
        (depth < MAX_DEPTH).then_some(())?;
        self.eat(b'[')?;
        let mut out = Vec::new();
        if self.eat(b']').is_some() {
            return Some(out);
        }
        loop {
            out.push(element(self)?);
            if self.eat(b',').is_none() {
                self.eat(b']')?;
                return Some(out);
            }
        }
    }

    /// Any value, checked and skipped.
    fn skip_value(&mut self, depth: usize) -> Option<()> {
        match self.peek()? {
            b'{' => self.object(depth + 1, &mut |reader, _, _| reader.skip_value(depth + 1)),
            b'[' => self
                .array(depth + 1, &mut |reader| reader.skip_value(depth + 1))
                .map(drop),
            b'"' => self.string().map(drop),
            _ => {
                let start = self.at;
                while self
                    .bytes
                    .get(self.at)
                    .is_some_and(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'+' | b'.'))
                {
                    self.at += 1;
                }
                (self.at > start).then_some(())
            }
        }
    }

    /// A member's value as a [`Field`]: text when it is a string or a list of strings.
    fn field(&mut self, name: String, key_start: usize, depth: usize) -> Option<Field> {
        let strings = match self.peek()? {
            b'"' => Some(vec![self.string()?]),
            b'[' => {
                let mut all_strings = true;
                let strings = self.array(depth + 1, &mut |reader| {
                    if reader.peek()? == b'"' {
                        reader.string().map(Some)
                    } else {
                        all_strings = false;
                        reader.skip_value(depth + 1).map(|()| None)
                    }
                })?;
                all_strings.then(|| strings.into_iter().flatten().collect())
            }
            _ => {
                self.skip_value(depth)?;
                None
            }
        };
        Some(Field {
            name,
            span: key_start..self.at,
            strings,
        })
    }

    /// One element of `cells`.
    fn cell(&mut self) -> Option<Cell> {
        self.whitespace();
        let start = self.at;
        let mut kind = None;
        let mut fields = Vec::new();
        let mut outputs = Vec::new();
        self.object(2, &mut |reader, key, key_start| {
            match key.as_str() {
                "outputs" => outputs = reader.array(3, &mut |reader| reader.output())?,
                "cell_type" if reader.peek()? == b'"' => {
                    let value = reader.string()?;
                    kind = Some(reader.decoded(value)?);
                }
                _ => fields.push(reader.field(key, key_start, 3)?),
            }
            Some(())
        })?;
        Some(Cell {
            span: start..self.at,
            kind: kind.unwrap_or_else(|| "unknown".to_string()),
            fields,
            outputs,
        })
    }

    /// One element of a cell's `outputs`; each MIME type of `data` is a field of its own.
    fn output(&mut self) -> Option<Output> {
        self.whitespace();
        let start = self.at;
        let mut output_type = None;
        let mut fields = Vec::new();
        self.object(4, &mut |reader, key, key_start| {
            match key.as_str() {
                "output_type" if reader.peek()? == b'"' => {
                    let value = reader.string()?;
                    output_type = Some(reader.decoded(value)?);
                }
                "data" if reader.peek()? == b'{' => {
                    reader.object(5, &mut |reader, mime, mime_start| {
                        fields.push(reader.field(format!("data/{mime}"), mime_start, 6)?);
                        Some(())
                    })?;
                }
                _ => fields.push(reader.field(key, key_start, 5)?),
            }
            Some(())
        })?;
        Some(Output {
            span: start..self.at,
            output_type: output_type.unwrap_or_else(|| "unknown".to_string()),
            fields,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where the first `needle` in `text` is, as a location's display.
    fn at(text: &str, needle: &str) -> Option<String> {
        let offset = text.find(needle).expect("needle in text");
        let notebook = Notebook::parse(text.as_bytes())?;
        notebook
            .locate(text.as_bytes(), offset)
            .map(|l| l.to_string())
    }

    const PRETTY: &str = r##"{
 "cells": [
  {
   "cell_type": "markdown",
   "metadata": {},
   "source": [
    "# Demo\n",
    "Uses MARKDOWN_SECRET here"
   ]
  },
  {
   "cell_type": "code",
   "execution_count": 3,
   "id": "a1b2c3",
   "metadata": {"tags": ["TAG_SECRET"]},
   "outputs": [
    {
     "name": "stdout",
     "output_type": "stream",
     "text": [
      "loading\n",
      "token is STREAM_SECRET\n"
     ]
    },
    {
     "data": {
      "text/html": ["<b>HTML_SECRET</b>"],
      "text/plain": ["line one\n", "line two\n", "PLAIN_SECRET"]
     },
     "execution_count": 3,
     "metadata": {},
     "output_type": "execute_result"
    },
    {
     "ename": "ValueError",
     "evalue": "bad EVALUE_SECRET",
     "output_type": "error",
     "traceback": ["Traceback\n", "  File x\nTRACE_SECRET"]
    }
   ],
   "source": [
    "import os\n",
    "key = \"SOURCE_SECRET\"\n"
   ]
  },
  {
   "cell_type": "raw",
   "metadata": {},
   "source": "first\nsecond\nRAW_SECRET"
  }
 ],
 "metadata": {"kernelspec": {"name": "NOTEBOOK_SECRET"}},
 "nbformat": 4,
 "nbformat_minor": 5
}
"##;

    #[test]
    fn a_pretty_printed_notebook_names_cells_outputs_and_lines() {
        let cases = [
            ("MARKDOWN_SECRET", Some("cell 1, markdown, line 2")),
            ("SOURCE_SECRET", Some("cell 2, code, line 2")),
            ("TAG_SECRET", Some("cell 2, code, metadata")),
            ("STREAM_SECRET", Some("cell 2, output 1 (stream), line 2")),
            (
                "HTML_SECRET",
                Some("cell 2, output 2 (execute_result, text/html), line 1"),
            ),
            (
                "PLAIN_SECRET",
                Some("cell 2, output 2 (execute_result, text/plain), line 3"),
            ),
            (
                "EVALUE_SECRET",
                Some("cell 2, output 3 (error, evalue), line 1"),
            ),
            ("TRACE_SECRET", Some("cell 2, output 3 (error), line 3")),
            ("RAW_SECRET", Some("cell 3, raw, line 3")),
            // The notebook's own metadata is in no cell.
            ("NOTEBOOK_SECRET", None),
        ];
        for (needle, expected) in cases {
            assert_eq!(at(PRETTY, needle).as_deref(), expected, "{needle}");
        }
    }

    #[test]
    fn a_minified_notebook_is_read_the_same() {
        let value: serde_json::Value = serde_json::from_str(PRETTY).unwrap();
        let minified = serde_json::to_string(&value).unwrap();
        assert_eq!(minified.lines().count(), 1);
        for (needle, expected) in [
            ("SOURCE_SECRET", "cell 2, code, line 2"),
            ("STREAM_SECRET", "cell 2, output 1 (stream), line 2"),
            ("TRACE_SECRET", "cell 2, output 3 (error), line 3"),
            ("RAW_SECRET", "cell 3, raw, line 3"),
        ] {
            assert_eq!(at(&minified, needle).as_deref(), Some(expected), "{needle}");
        }
    }

    #[test]
    fn a_one_string_source_counts_its_newline_escapes() {
        let text = r#"{"cells": [{"cell_type": "code", "source": "import os\n# a \\n is no newline\nx = \"\\tSECRET\"\u000ay = SECOND", "outputs": [{"output_type": "stream", "text": "Saved token:\nOUT"}]}]}"#;
        assert_eq!(at(text, "SECRET").as_deref(), Some("cell 1, code, line 3"));
        assert_eq!(at(text, "SECOND").as_deref(), Some("cell 1, code, line 4"));
        assert_eq!(
            at(text, "OUT").as_deref(),
            Some("cell 1, output 1 (stream), line 2")
        );
    }

    #[test]
    fn a_token_right_after_a_newline_escape_is_on_the_next_line() {
        let text = r#"{"cells": [{"cell_type": "code", "source": ["a\nSECRET"]}]}"#;
        assert_eq!(at(text, "SECRET").as_deref(), Some("cell 1, code, line 2"));
    }

    #[test]
    fn locations_serialize_with_what_is_known() {
        let notebook = Notebook::parse(PRETTY.as_bytes()).unwrap();
        let json = |needle: &str| {
            let location = notebook
                .locate(PRETTY.as_bytes(), PRETTY.find(needle).unwrap())
                .unwrap();
            serde_json::to_string(&location).unwrap()
        };
        assert_eq!(
            json("SOURCE_SECRET"),
            r#"{"index":2,"kind":"code","field":"source","line":2}"#
        );
        assert_eq!(
            json("STREAM_SECRET"),
            r#"{"index":2,"kind":"code","output":{"index":1,"type":"stream"},"field":"text","line":2}"#
        );
        assert_eq!(
            json("TAG_SECRET"),
            r#"{"index":2,"kind":"code","field":"metadata"}"#
        );
    }

    #[test]
    fn malformed_notebooks_yield_no_layout() {
        let deep = format!(
            r#"{{"cells": [{{"cell_type": "code", "metadata": {}SECRET{}}}]}}"#,
            "[".repeat(1000),
            "]".repeat(1000)
        );
        let utf16: Vec<u8> = PRETTY.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let cases: Vec<Vec<u8>> = vec![
            b"".to_vec(),
            b"not json SECRET".to_vec(),
            b"[\"SECRET\"]".to_vec(),
            br#"{"cells": "SECRET"}"#.to_vec(),
            br#"{"metadata": {"x": "SECRET"}}"#.to_vec(),
            br#"{"cells": [{"cell_type": "code", "source": ["SECRET"]"#.to_vec(),
            br#"{"cells": [{"source": ["bad \q SECRET"]}]}"#.to_vec(),
            br#"{"cells": [{"source": ["SECRET"]}]} trailing"#.to_vec(),
            br#"{"cells": [{"source": ["SECRET"],}]}"#.to_vec(),
            PRETTY.as_bytes()[..PRETTY.len() / 2].to_vec(),
            deep.into_bytes(),
            utf16,
        ];
        for case in cases {
            assert!(
                Notebook::parse(&case).is_none(),
                "{}",
                String::from_utf8_lossy(&case)
            );
        }
    }

    #[test]
    fn odd_but_valid_notebooks_still_locate() {
        // A byte-order mark, a cell without cell_type, non-string list items, CRLF.
        let text = "\u{feff}{\r\n\"cells\": [{\"source\": [\"a\\n\", 1, \"SECRET\"]}, {\"cell_type\": \"code\", \"outputs\": [{\"text\": \"OUT\"}], \"source\": []}], \"x\": [true, null, -1.5e3]}";
        assert_eq!(at(text, "SECRET").as_deref(), Some("cell 1, unknown"));
        assert_eq!(
            at(text, "OUT").as_deref(),
            Some("cell 2, output 1 (unknown), line 1")
        );
    }

    #[test]
    fn names_from_the_notebook_are_printable() {
        let text = r#"{"cells": [{"cell_type": "\u001b[2J", "source": "SECRET", "outputs": [{"output_type": "a\nb", "data": {"text/plain\r": "OUT"}}]}]}"#;
        assert_eq!(
            at(text, "SECRET").as_deref(),
            Some("cell 1, unknown, line 1")
        );
        assert_eq!(
            at(text, "OUT").as_deref(),
            Some("cell 1, output 1 (unknown, unknown), line 1")
        );
    }

    #[test]
    fn every_prefix_and_every_offset_is_safe() {
        // Truncations and every byte of a real layout: never a panic, and a location only
        // inside a cell.
        let bytes = PRETTY.as_bytes();
        for end in 0..bytes.len() {
            let _ = Notebook::parse(&bytes[..end]);
        }
        let notebook = Notebook::parse(bytes).unwrap();
        for offset in 0..bytes.len() + 2 {
            if let Some(location) = notebook.locate(bytes, offset) {
                assert!((1..=3).contains(&location.index));
            }
        }
    }
}
