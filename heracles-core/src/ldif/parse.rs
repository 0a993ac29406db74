//! The LDIF parser: physical lines -> logical lines (unfolded, comments dropped) -> records.

use std::fmt;
use std::io::{BufRead, Read};

use base64ct::{Base64, Encoding as _};

use super::{is_attribute_description, shown, syntax_error, Kind, LdifRecord};
use crate::directory::{Entry, Modification};
use crate::dn::{Dn, Rdn};
use crate::error::{Error, ErrorCode, Result};

/// The largest record [`LdifReader`] accepts by default, in bytes (64 MiB). A record's size
/// is counted after unfolding, without comments, plus 64 bytes for each line (so that a
/// record of many tiny lines cannot use much more memory than the limit). Each single
/// physical line is bounded by the same limit.
pub const DEFAULT_MAX_RECORD_SIZE: usize = 64 * 1024 * 1024;

/// What a logical line costs beyond its text, for the record size limit.
const LINE_OVERHEAD: usize = 64;

/// Parses a whole LDIF file (content or change records).
///
/// ```
/// use heracles_core::ldif::{parse, LdifRecord};
/// use heracles_core::directory::Modification;
///
/// let records = parse(
///     "dn: cn=admins,ou=groups,dc=example,dc=com\n\
///      changetype: modify\n\
///      add: member\n\
///      member: uid=jdoe,ou=people,dc=example,dc=com\n\
///      -\n\
///      delete: description\n\
///      -\n",
/// )?;
/// let LdifRecord::Modify { changes, .. } = &records[0] else { unreachable!() };
/// assert_eq!(changes[1], Modification::delete_all("description"));
/// # Ok::<(), heracles_core::Error>(())
/// ```
pub fn parse(input: &str) -> Result<Vec<LdifRecord>> {
    LdifReader::new(input.as_bytes()).collect()
}

/// Parses a content file (as `ldapsearch -LLL` prints it) into its entries. The entries of
/// `changetype: add` records are accepted too; any other change record is an error.
pub fn parse_entries(input: &str) -> Result<Vec<Entry>> {
    let mut entries = Vec::new();
    let mut reader = LdifReader::new(input.as_bytes());
    while let Some(record) = reader.next() {
        match record? {
            LdifRecord::Content(entry) | LdifRecord::Add(entry) => entries.push(entry),
            _ => {
                return Err(syntax_error(
                    reader.record_line,
                    "unexpected_change",
                    "expected an entry, found a change record other than an add",
                ))
            }
        }
    }
    Ok(entries)
}

/// A streaming LDIF reader: an iterator of records over any [`BufRead`], holding one record
/// at a time.
///
/// After a syntax error in a record, the iterator goes on with the next record (the rest of
/// the faulty record is skipped), so every error of a file can be reported. After an I/O
/// error (code `INTERNAL`, reason `io_error`) or a record larger than the limit (code
/// `PAYLOAD_TOO_LARGE`, reason `record_too_large`), it ends.
///
/// ```
/// use std::io::BufReader;
/// use heracles_core::ldif::LdifReader;
///
/// let file = "dn: dc=example,dc=com\ndc: example\n\ndn: ou=people,dc=example,dc=com\nou: people\n";
/// let mut count = 0;
/// for record in LdifReader::new(BufReader::new(file.as_bytes())) {
///     let record = record?;
///     assert!(!record.is_change());
///     count += 1;
/// }
/// assert_eq!(count, 2);
/// # Ok::<(), heracles_core::Error>(())
/// ```
pub struct LdifReader<R> {
    inner: R,
    /// Physical lines read so far.
    line_no: usize,
    /// First line of the last record returned (or failed).
    record_line: usize,
    max_record_size: usize,
    /// Content or change file, once the first record told.
    kind: Option<Kind>,
    /// No record seen yet: a `version` line may come.
    at_start: bool,
    done: bool,
}

impl<R> fmt::Debug for LdifReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LdifReader")
            .field("line", &self.line_no)
            .field("max_record_size", &self.max_record_size)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

/// A logical line: unfolded, without its line end.
struct Line {
    /// 1-based number of its first physical line.
    no: usize,
    text: Vec<u8>,
}

/// The lines of one record, or the first error met while collecting them.
struct Block {
    lines: Vec<Line>,
    error: Option<Error>,
}

impl<R: BufRead> LdifReader<R> {
    /// A reader with the default record size limit, [`DEFAULT_MAX_RECORD_SIZE`].
    pub fn new(inner: R) -> Self {
        LdifReader {
            inner,
            line_no: 0,
            record_line: 0,
            max_record_size: DEFAULT_MAX_RECORD_SIZE,
            kind: None,
            at_start: true,
            done: false,
        }
    }

    /// Builder: refuse records (and lines) larger than `bytes`.
    #[must_use]
    pub fn max_record_size(mut self, bytes: usize) -> Self {
        self.max_record_size = bytes;
        self
    }

    /// The number of lines read so far.
    pub fn line(&self) -> usize {
        self.line_no
    }

    /// The underlying reader.
    pub fn into_inner(self) -> R {
        self.inner
    }

    fn too_large(&self, line: usize) -> Error {
        Error::new(
            ErrorCode::PayloadTooLarge,
            format!(
                "invalid LDIF at line {line}: the record is larger than {} bytes",
                self.max_record_size
            ),
        )
        .with_detail("line", line)
        .with_detail("reason", "record_too_large")
        .with_detail("limit", self.max_record_size)
    }

    /// The next physical line without its line end, `None` at the end of the input. Errors
    /// are fatal.
    fn read_physical(&mut self) -> Result<Option<Vec<u8>>> {
        let mut buf = Vec::new();
        // Room for the longest allowed line and its CRLF, plus one byte to detect excess.
        let limit = u64::try_from(self.max_record_size)
            .unwrap_or(u64::MAX)
            .saturating_add(3);
        let n = (&mut self.inner)
            .take(limit)
            .read_until(b'\n', &mut buf)
            .map_err(|e| {
                Error::new(
                    ErrorCode::Internal,
                    format!("reading LDIF failed after line {}: {e}", self.line_no),
                )
                .with_detail("line", self.line_no + 1)
                .with_detail("reason", "io_error")
            })?;
        if n == 0 {
            return Ok(None);
        }
        self.line_no += 1;
        if buf.last() == Some(&b'\n') {
            buf.pop();
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
        }
        if buf.len() > self.max_record_size {
            return Err(self.too_large(self.line_no));
        }
        if self.line_no == 1 && buf.starts_with(b"\xEF\xBB\xBF") {
            buf.drain(..3);
        }
        Ok(Some(buf))
    }

    /// Collects the logical lines of the next record; `None` at the end of the input.
    /// Errors are fatal; a syntax error is kept in the block, whose lines are all read.
    fn read_block(&mut self) -> Result<Option<Block>> {
        let mut block = Block {
            lines: Vec::new(),
            error: None,
        };
        let mut in_comment = false;
        let mut size = 0usize;
        while let Some(text) = self.read_physical()? {
            let no = self.line_no;
            match text.first() {
                None if block.lines.is_empty() && block.error.is_none() => in_comment = false,
                None => break,
                Some(b' ') => {
                    if in_comment {
                        continue;
                    }
                    if let Some(last) = block.lines.last_mut() {
                        size = size.saturating_add(text.len() - 1);
                        if size > self.max_record_size {
                            return Err(self.too_large(last.no));
                        }
                        last.text
                            .extend_from_slice(text.get(1..).unwrap_or_default());
                    } else if text.iter().all(|&b| b == b' ') {
                        // Only spaces, with nothing to continue: as good as an empty line.
                    } else if block.error.is_none() {
                        block.error = Some(syntax_error(
                            no,
                            "orphan_continuation",
                            "a continuation line (starting with a space) with no line before \
                             it to continue",
                        ));
                    }
                }
                Some(b'#') => in_comment = true,
                Some(_) => {
                    in_comment = false;
                    size = size.saturating_add(text.len() + LINE_OVERHEAD);
                    if size > self.max_record_size {
                        return Err(self.too_large(block.lines.first().map_or(no, |l| l.no)));
                    }
                    block.lines.push(Line { no, text });
                }
            }
        }
        if block.lines.is_empty() && block.error.is_none() {
            return Ok(None);
        }
        Ok(Some(block))
    }

    /// Turns a block into a record; `None` for a block holding only the version line.
    fn parse_block(&mut self, block: Block) -> Result<Option<LdifRecord>> {
        let at_start = std::mem::replace(&mut self.at_start, false);
        self.record_line = block.lines.first().map_or(self.line_no, |l| l.no);
        if let Some(error) = block.error {
            return Err(error);
        }
        let mut lines = block.lines.as_slice();
        if let Some((first, rest)) = lines.split_first() {
            let field = Field::split(first)?;
            if field.is("version") {
                if !at_start {
                    return Err(syntax_error(
                        first.no,
                        "misplaced_version",
                        "a 'version' line may only start the file",
                    ));
                }
                if !matches!(field.value, Value::Plain(v) if trim_end(v) == b"1") {
                    return Err(syntax_error(
                        first.no,
                        "unsupported_version",
                        "only LDIF version 1 is supported",
                    ));
                }
                if rest.is_empty() {
                    return Ok(None);
                }
                lines = rest;
                self.record_line = rest.first().map_or(self.record_line, |l| l.no);
            }
        }
        self.parse_record(lines).map(Some)
    }

    fn parse_record(&mut self, lines: &[Line]) -> Result<LdifRecord> {
        let Some((dn_line, rest)) = lines.split_first() else {
            return Err(syntax_error(self.record_line, "missing_dn", "empty record"));
        };
        let field = Field::split(dn_line)?;
        if !field.is("dn") {
            return Err(syntax_error(
                dn_line.no,
                "missing_dn",
                format!(
                    "a record must start with a 'dn' line, found {}",
                    shown(field.name)
                ),
            ));
        }
        let dn = parse_dn(&field)?;
        let next = rest.first().map(Field::split).transpose()?;
        if let Some(f) = next.as_ref().filter(|f| f.is("control")) {
            return Err(syntax_error(
                f.no,
                "controls_not_supported",
                "LDIF controls are not supported",
            ));
        }
        let change = next.filter(|f| f.is("changetype"));
        let kind = if change.is_some() {
            Kind::Change
        } else {
            Kind::Content
        };
        match self.kind {
            None => self.kind = Some(kind),
            Some(k) if k != kind => {
                return Err(syntax_error(
                    dn_line.no,
                    "mixed_records",
                    "content records and change records cannot be mixed in one LDIF file",
                ))
            }
            Some(_) => {}
        }
        let Some(change) = change else {
            return Ok(LdifRecord::Content(parse_attributes(dn, rest)?));
        };
        let body = rest.get(1..).unwrap_or_default();
        let op = keyword(&change)?;
        match op.to_ascii_lowercase().as_slice() {
            b"add" => {
                let entry = parse_attributes(dn, body)?;
                if entry.attrs.is_empty() {
                    return Err(syntax_error(
                        dn_line.no,
                        "missing_attributes",
                        "an add record needs at least one attribute",
                    ));
                }
                Ok(LdifRecord::Add(entry))
            }
            b"delete" => {
                no_more_lines(body, "delete")?;
                Ok(LdifRecord::Delete { dn })
            }
            b"modify" => Ok(LdifRecord::Modify {
                dn,
                changes: parse_modifications(body)?,
            }),
            b"modrdn" | b"moddn" => parse_modrdn(dn, dn_line.no, body),
            _ => Err(syntax_error(
                change.no,
                "unknown_changetype",
                format!(
                    "unknown changetype {} (expected add, delete, modify, modrdn or moddn)",
                    shown(op)
                ),
            )),
        }
    }
}

impl<R: BufRead> Iterator for LdifReader<R> {
    type Item = Result<LdifRecord>;

    fn next(&mut self) -> Option<Result<LdifRecord>> {
        while !self.done {
            let block = match self.read_block() {
                Ok(Some(block)) => block,
                Ok(None) => break,
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            };
            match self.parse_block(block) {
                Ok(None) => {}
                Ok(Some(record)) => return Some(Ok(record)),
                Err(e) => return Some(Err(e)),
            }
        }
        self.done = true;
        None
    }
}

/// The value part of a line.
#[derive(Clone, Copy)]
enum Value<'a> {
    /// `name: value` (leading spaces removed).
    Plain(&'a [u8]),
    /// `name:: base64` (spaces around removed), not yet decoded.
    Base64(&'a [u8]),
    /// `name:< url`.
    Url,
}

/// A logical line split into name and value.
struct Field<'a> {
    no: usize,
    name: &'a [u8],
    value: Value<'a>,
}

impl<'a> Field<'a> {
    fn split(line: &'a Line) -> Result<Field<'a>> {
        let text = line.text.as_slice();
        let Some(colon) = text.iter().position(|&b| b == b':') else {
            return Err(syntax_error(
                line.no,
                "bad_line",
                "expected 'name: value', found a line without ':'",
            ));
        };
        let (name, rest) = text.split_at(colon);
        if !is_attribute_description(name) {
            return Err(syntax_error(
                line.no,
                "bad_attribute_name",
                format!("{} is not a valid attribute description", shown(name)),
            ));
        }
        let rest = rest.get(1..).unwrap_or_default();
        let value = match rest.split_first() {
            Some((b':', b64)) => Value::Base64(trim_end(trim_start(b64))),
            Some((b'<', _)) => Value::Url,
            _ => Value::Plain(trim_start(rest)),
        };
        Ok(Field {
            no: line.no,
            name,
            value,
        })
    }

    fn is(&self, keyword: &str) -> bool {
        self.name.eq_ignore_ascii_case(keyword.as_bytes())
    }

    /// The value as bytes.
    fn bytes(&self) -> Result<Vec<u8>> {
        match self.value {
            Value::Plain(v) => {
                if v.iter().any(|&b| b == 0 || b == b'\r') {
                    return Err(syntax_error(
                        self.no,
                        "unsafe_value",
                        format!(
                            "the value of {} contains a NUL or CR character; such values \
                             must be base64-encoded ('name:: ...')",
                            shown(self.name)
                        ),
                    ));
                }
                Ok(v.to_vec())
            }
            Value::Base64(b64) => std::str::from_utf8(b64)
                .ok()
                .and_then(|text| Base64::decode_vec(text).ok())
                .ok_or_else(|| {
                    syntax_error(
                        self.no,
                        "bad_base64",
                        format!(
                            "the value of {} is not valid base64 (standard alphabet, padded)",
                            shown(self.name)
                        ),
                    )
                }),
            Value::Url => Err(syntax_error(
                self.no,
                "url_not_supported",
                format!(
                    "URL values ('{}:<') are not supported; give the value inline, as \
                     base64 with '{}::'",
                    String::from_utf8_lossy(self.name),
                    String::from_utf8_lossy(self.name)
                ),
            )),
        }
    }

    /// The value as UTF-8 text.
    fn text(&self) -> Result<String> {
        String::from_utf8(self.bytes()?).map_err(|_| {
            syntax_error(
                self.no,
                "invalid_utf8",
                format!("the value of {} is not valid UTF-8", shown(self.name)),
            )
        })
    }
}

fn trim_start(v: &[u8]) -> &[u8] {
    let n = v.iter().take_while(|&&b| b == b' ').count();
    v.get(n..).unwrap_or_default()
}

fn trim_end(v: &[u8]) -> &[u8] {
    let n = v.iter().rev().take_while(|&&b| b == b' ').count();
    v.get(..v.len() - n).unwrap_or_default()
}

/// The value of a keyword line (`changetype: modify`, `add: cn`): plain, without trailing
/// spaces.
fn keyword<'a>(field: &Field<'a>) -> Result<&'a [u8]> {
    match field.value {
        Value::Plain(v) => Ok(trim_end(v)),
        _ => Err(syntax_error(
            field.no,
            "bad_line",
            format!("the value of {} must be written plainly", shown(field.name)),
        )),
    }
}

fn parse_dn(field: &Field<'_>) -> Result<Dn> {
    let text = field.text()?;
    Dn::parse(&text).map_err(|e| dn_error(field.no, "invalid_dn", &e))
}

fn dn_error(line: usize, reason: &'static str, e: &Error) -> Error {
    let mut err = syntax_error(line, reason, e.message());
    if let Some(r) = e.details().get("reason") {
        err = err.with_detail("dn_reason", r.clone());
    }
    err
}

fn parse_attributes(dn: Dn, lines: &[Line]) -> Result<Entry> {
    let mut entry = Entry::new(dn);
    for line in lines {
        let field = Field::split(line)?;
        if field.is("dn") {
            return Err(syntax_error(
                line.no,
                "unexpected_dn",
                "a second 'dn' line in one record (records must be separated by an empty line)",
            ));
        }
        if field.is("changetype") {
            return Err(syntax_error(
                line.no,
                "misplaced_changetype",
                "a 'changetype' line must come right after the 'dn' line",
            ));
        }
        let value = field.bytes()?;
        // The name is ASCII: it passed is_attribute_description.
        entry.add_value(&String::from_utf8_lossy(field.name), value);
    }
    Ok(entry)
}

fn is_separator(line: &Line) -> bool {
    line.text.first() == Some(&b'-') && trim_end(&line.text).len() == 1
}

fn parse_modifications(lines: &[Line]) -> Result<Vec<Modification>> {
    let mut changes = Vec::new();
    let mut rest = lines;
    while let Some((op_line, tail)) = rest.split_first() {
        rest = tail;
        if is_separator(op_line) {
            return Err(syntax_error(
                op_line.no,
                "bad_modify",
                "a '-' line with no modification before it",
            ));
        }
        let field = Field::split(op_line)?;
        let attr_bytes = keyword(&field)?;
        if !is_attribute_description(attr_bytes) {
            return Err(syntax_error(
                op_line.no,
                "bad_attribute_name",
                format!("{} is not a valid attribute description", shown(attr_bytes)),
            ));
        }
        let attr = String::from_utf8_lossy(attr_bytes).into_owned();
        let mut values = Vec::new();
        while let Some((line, tail)) = rest.split_first() {
            rest = tail;
            if is_separator(line) {
                break;
            }
            let value = Field::split(line)?;
            if !value.name.eq_ignore_ascii_case(attr_bytes) {
                return Err(syntax_error(
                    line.no,
                    "attribute_mismatch",
                    format!(
                        "a value of {} inside the modification of {} (a '-' line must end \
                         each modification)",
                        shown(value.name),
                        shown(attr_bytes)
                    ),
                ));
            }
            values.push(value.bytes()?);
        }
        let change = match field.name.to_ascii_lowercase().as_slice() {
            b"add" if values.is_empty() => {
                return Err(syntax_error(
                    op_line.no,
                    "missing_values",
                    format!("'add: {attr}' needs at least one value"),
                ))
            }
            b"add" => Modification::Add { attr, values },
            b"delete" => Modification::Delete { attr, values },
            b"replace" => Modification::Replace { attr, values },
            b"increment" => {
                return Err(syntax_error(
                    op_line.no,
                    "unsupported_modification",
                    "'increment' modifications are not supported",
                ))
            }
            _ => {
                return Err(syntax_error(
                    op_line.no,
                    "bad_modify",
                    format!(
                        "expected 'add:', 'delete:' or 'replace:', found {}",
                        shown(field.name)
                    ),
                ))
            }
        };
        changes.push(change);
    }
    Ok(changes)
}

fn no_more_lines(lines: &[Line], what: &str) -> Result<()> {
    match lines.first() {
        None => Ok(()),
        Some(line) => Err(syntax_error(
            line.no,
            "unexpected_line",
            format!("unexpected line in a {what} record"),
        )),
    }
}

fn parse_modrdn(dn: Dn, dn_line: usize, lines: &[Line]) -> Result<LdifRecord> {
    let mut fields = lines.iter();
    let missing = |keyword: &str| {
        syntax_error(
            dn_line,
            "bad_modrdn",
            format!("a modrdn record needs a '{keyword}:' line"),
        )
    };
    let new_rdn_field = expect(&mut fields, "newrdn")?.ok_or_else(|| missing("newrdn"))?;
    let new_rdn = Rdn::parse(&new_rdn_field.text()?)
        .map_err(|e| dn_error(new_rdn_field.no, "invalid_rdn", &e))?;
    let delete_field =
        expect(&mut fields, "deleteoldrdn")?.ok_or_else(|| missing("deleteoldrdn"))?;
    let delete_old_rdn = match keyword(&delete_field)? {
        b"0" => false,
        b"1" => true,
        _ => {
            return Err(syntax_error(
                delete_field.no,
                "bad_modrdn",
                "'deleteoldrdn' must be 0 or 1",
            ))
        }
    };
    let new_superior = match expect(&mut fields, "newsuperior")? {
        Some(field) => Some(parse_dn(&field)?),
        None => None,
    };
    no_more_lines(fields.as_slice(), "modrdn")?;
    Ok(LdifRecord::ModRdn {
        dn,
        new_rdn,
        delete_old_rdn,
        new_superior,
    })
}

/// The next line of a modrdn record, which must be `keyword:`; `None` at the end.
fn expect<'a>(lines: &mut std::slice::Iter<'a, Line>, keyword: &str) -> Result<Option<Field<'a>>> {
    let Some(line) = lines.next() else {
        return Ok(None);
    };
    let field = Field::split(line)?;
    if field.is(keyword) {
        Ok(Some(field))
    } else {
        Err(syntax_error(
            line.no,
            "bad_modrdn",
            format!(
                "expected '{keyword}:' in a modrdn record, found {}",
                shown(field.name)
            ),
        ))
    }
}
