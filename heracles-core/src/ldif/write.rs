//! The LDIF writer.

use std::fmt;
use std::io;

use base64ct::{Base64, Encoding as _};

use super::{is_attribute_description, shown, Kind, LdifRecord, LINE_WIDTH};
use crate::directory::{Entry, Modification};
use crate::error::{Error, ErrorCode, Result};

/// Writes one entry as a content record (`dn`, `objectClass`, the other attributes),
/// followed by an empty line.
///
/// ```
/// use heracles_core::directory::Entry;
/// use heracles_core::dn::Dn;
/// use heracles_core::ldif::write_entry;
///
/// let entry = Entry::new(Dn::parse("cn=Zoë,dc=example,dc=com")?)
///     .with("cn", ["Zoë"])
///     .with("objectClass", ["person"])
///     .with("sn", [" padded"]);
/// let mut out = String::new();
/// write_entry(&mut out, &entry)?;
/// assert_eq!(
///     out,
///     "dn:: Y249Wm/DqyxkYz1leGFtcGxlLGRjPWNvbQ==\n\
///      objectClass: person\n\
///      cn:: Wm/Dqw==\n\
///      sn:: IHBhZGRlZA==\n\n"
/// );
/// # Ok::<(), heracles_core::Error>(())
/// ```
pub fn write_entry(out: &mut impl fmt::Write, entry: &Entry) -> Result<()> {
    check_entry(entry)?;
    write_dn_and_attributes(out, entry, None).map_err(|_| fmt_error())
}

/// Writes one record (a content record or a change record), followed by an empty line.
///
/// ```
/// use heracles_core::dn::{Dn, Rdn};
/// use heracles_core::ldif::{write_record, LdifRecord};
///
/// let record = LdifRecord::ModRdn {
///     dn: Dn::parse("uid=jdoe,ou=people,dc=example,dc=com")?,
///     new_rdn: Rdn::new("uid", "john")?,
///     delete_old_rdn: true,
///     new_superior: None,
/// };
/// let mut out = String::new();
/// write_record(&mut out, &record)?;
/// assert_eq!(
///     out,
///     "dn: uid=jdoe,ou=people,dc=example,dc=com\n\
///      changetype: modrdn\n\
///      newrdn: uid=john\n\
///      deleteoldrdn: 1\n\n"
/// );
/// # Ok::<(), heracles_core::Error>(())
/// ```
pub fn write_record(out: &mut impl fmt::Write, record: &LdifRecord) -> Result<()> {
    check_record(record)?;
    write_checked(out, record).map_err(|_| fmt_error())
}

/// A whole content file: `version: 1` and the entries (an empty string for no entries).
pub fn to_string<'a>(entries: impl IntoIterator<Item = &'a Entry>) -> Result<String> {
    let mut out = String::new();
    for (i, entry) in entries.into_iter().enumerate() {
        check_entry(entry)?;
        if i == 0 {
            out.push_str("version: 1\n\n");
        }
        write_dn_and_attributes(&mut out, entry, None).map_err(|_| fmt_error())?;
    }
    Ok(out)
}

/// A whole file of records: `version: 1` and the records (an empty string for no records).
/// Content records and change records cannot be mixed (RFC 2849).
pub fn records_to_string<'a>(records: impl IntoIterator<Item = &'a LdifRecord>) -> Result<String> {
    let mut out = String::new();
    let mut kind = None;
    for record in records {
        check_record(record)?;
        check_kind(&mut kind, record)?;
        if out.is_empty() {
            out.push_str("version: 1\n\n");
        }
        write_checked(&mut out, record).map_err(|_| fmt_error())?;
    }
    Ok(out)
}

/// Streams records into an [`io::Write`]: `version: 1` before the first record, then each
/// record as it is given. Buffer the underlying writer (`BufWriter`) for files.
///
/// ```
/// use heracles_core::directory::Entry;
/// use heracles_core::dn::Dn;
/// use heracles_core::ldif::LdifWriter;
///
/// let mut writer = LdifWriter::new(Vec::new());
/// writer.write_entry(&Entry::new(Dn::parse("dc=example,dc=com")?).with("dc", ["example"]))?;
/// let bytes = writer.into_inner()?;
/// assert_eq!(bytes, b"version: 1\n\ndn: dc=example,dc=com\ndc: example\n\n");
/// # Ok::<(), heracles_core::Error>(())
/// ```
pub struct LdifWriter<W: io::Write> {
    out: W,
    buf: String,
    kind: Option<Kind>,
    records: usize,
}

impl<W: io::Write> fmt::Debug for LdifWriter<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LdifWriter")
            .field("records", &self.records)
            .finish_non_exhaustive()
    }
}

impl<W: io::Write> LdifWriter<W> {
    /// A writer into `out`.
    pub fn new(out: W) -> Self {
        LdifWriter {
            out,
            buf: String::new(),
            kind: None,
            records: 0,
        }
    }

    /// Writes an entry as a content record.
    pub fn write_entry(&mut self, entry: &Entry) -> Result<()> {
        check_entry(entry)?;
        self.start(Kind::Content)?;
        write_dn_and_attributes(&mut self.buf, entry, None).map_err(|_| fmt_error())?;
        self.emit()
    }

    /// Writes a record. Content records and change records cannot be mixed in one file.
    pub fn write_record(&mut self, record: &LdifRecord) -> Result<()> {
        check_record(record)?;
        self.start(record.kind())?;
        write_checked(&mut self.buf, record).map_err(|_| fmt_error())?;
        self.emit()
    }

    /// The number of records written so far.
    pub fn records(&self) -> usize {
        self.records
    }

    /// Flushes and returns the underlying writer.
    pub fn into_inner(mut self) -> Result<W> {
        self.out.flush().map_err(|e| io_error(&e))?;
        Ok(self.out)
    }

    fn start(&mut self, kind: Kind) -> Result<()> {
        check_kind_of(&mut self.kind, kind)?;
        self.buf.clear();
        if self.records == 0 {
            self.buf.push_str("version: 1\n\n");
        }
        Ok(())
    }

    fn emit(&mut self) -> Result<()> {
        self.out
            .write_all(self.buf.as_bytes())
            .map_err(|e| io_error(&e))?;
        self.buf.clear();
        self.records += 1;
        Ok(())
    }
}

fn io_error(e: &io::Error) -> Error {
    Error::new(ErrorCode::Internal, format!("writing LDIF failed: {e}"))
        .with_detail("reason", "io_error")
}

fn fmt_error() -> Error {
    Error::new(ErrorCode::Internal, "writing LDIF failed: formatter error")
        .with_detail("reason", "fmt_error")
}

fn invalid(reason: &'static str, message: impl fmt::Display) -> Error {
    Error::new(
        ErrorCode::ValidationFailed,
        format!("cannot write LDIF: {message}"),
    )
    .with_detail("reason", reason)
}

fn check_kind(kind: &mut Option<Kind>, record: &LdifRecord) -> Result<()> {
    check_kind_of(kind, record.kind())
}

fn check_kind_of(kind: &mut Option<Kind>, new: Kind) -> Result<()> {
    match *kind {
        Some(k) if k != new => Err(invalid(
            "mixed_records",
            "content records and change records cannot be mixed in one LDIF file",
        )),
        _ => {
            *kind = Some(new);
            Ok(())
        }
    }
}

fn check_name(name: &str) -> Result<()> {
    if is_attribute_description(name.as_bytes()) {
        Ok(())
    } else {
        Err(invalid(
            "bad_attribute_name",
            format_args!(
                "{} is not a valid attribute description",
                shown(name.as_bytes())
            ),
        )
        .with_detail("attribute", shown(name.as_bytes())))
    }
}

fn check_entry(entry: &Entry) -> Result<()> {
    for attr in entry.attrs.iter() {
        let name = attr.name();
        check_name(name)?;
        if ["dn", "changetype", "control"]
            .iter()
            .any(|k| name.eq_ignore_ascii_case(k))
        {
            return Err(invalid(
                "reserved_attribute_name",
                format_args!("an entry attribute cannot be named {name:?} in LDIF"),
            )
            .with_detail("attribute", name));
        }
    }
    Ok(())
}

fn check_record(record: &LdifRecord) -> Result<()> {
    match record {
        LdifRecord::Content(entry) => check_entry(entry),
        LdifRecord::Add(entry) => {
            if entry.attrs.is_empty() {
                return Err(invalid(
                    "missing_attributes",
                    "an add record needs at least one attribute",
                ));
            }
            check_entry(entry)
        }
        LdifRecord::Modify { changes, .. } => {
            for change in changes {
                check_name(change.attr())?;
                if let Modification::Add { attr, values } = change {
                    if values.is_empty() {
                        return Err(invalid(
                            "missing_values",
                            format_args!("an 'add' of {attr:?} needs at least one value"),
                        )
                        .with_detail("attribute", attr.as_str()));
                    }
                }
            }
            Ok(())
        }
        LdifRecord::Delete { .. } | LdifRecord::ModRdn { .. } => Ok(()),
    }
}

/// Writes a record that passed [`check_record`].
fn write_checked(out: &mut impl fmt::Write, record: &LdifRecord) -> fmt::Result {
    match record {
        LdifRecord::Content(entry) => write_dn_and_attributes(out, entry, None),
        LdifRecord::Add(entry) => write_dn_and_attributes(out, entry, Some("add")),
        LdifRecord::Modify { dn, changes } => {
            write_line(out, "dn", dn.to_string().as_bytes())?;
            write_line(out, "changetype", b"modify")?;
            for change in changes {
                let (op, attr, values) = match change {
                    Modification::Add { attr, values } => ("add", attr, values),
                    Modification::Delete { attr, values } => ("delete", attr, values),
                    Modification::Replace { attr, values } => ("replace", attr, values),
                };
                write_line(out, op, attr.as_bytes())?;
                for value in values {
                    write_line(out, attr, value)?;
                }
                out.write_str("-\n")?;
            }
            out.write_char('\n')
        }
        LdifRecord::Delete { dn } => {
            write_line(out, "dn", dn.to_string().as_bytes())?;
            write_line(out, "changetype", b"delete")?;
            out.write_char('\n')
        }
        LdifRecord::ModRdn {
            dn,
            new_rdn,
            delete_old_rdn,
            new_superior,
        } => {
            write_line(out, "dn", dn.to_string().as_bytes())?;
            write_line(out, "changetype", b"modrdn")?;
            write_line(out, "newrdn", new_rdn.to_string().as_bytes())?;
            write_line(
                out,
                "deleteoldrdn",
                if *delete_old_rdn { b"1" } else { b"0" },
            )?;
            if let Some(sup) = new_superior {
                write_line(out, "newsuperior", sup.to_string().as_bytes())?;
            }
            out.write_char('\n')
        }
    }
}

/// Writes an entry that passed [`check_entry`], with a `changetype` line if given.
fn write_dn_and_attributes(
    out: &mut impl fmt::Write,
    entry: &Entry,
    changetype: Option<&str>,
) -> fmt::Result {
    write_line(out, "dn", entry.dn.to_string().as_bytes())?;
    if let Some(change) = changetype {
        write_line(out, "changetype", change.as_bytes())?;
    }
    let is_object_class = |name: &str| name.eq_ignore_ascii_case("objectClass");
    let object_classes = entry.attrs.iter().filter(|a| is_object_class(a.name()));
    let others = entry.attrs.iter().filter(|a| !is_object_class(a.name()));
    for attr in object_classes.chain(others) {
        for value in attr.values() {
            write_line(out, attr.name(), value)?;
        }
    }
    out.write_char('\n')
}

/// Whether `value` may be written as is (RFC 2849 SAFE-STRING, and not ending with a space).
pub(super) fn is_safe(value: &[u8]) -> bool {
    let (Some(first), Some(last)) = (value.first(), value.last()) else {
        return true;
    };
    !matches!(first, b' ' | b':' | b'<')
        && *last != b' '
        && value
            .iter()
            .all(|&b| b != 0 && b != b'\r' && b != b'\n' && b.is_ascii())
}

/// Writes `name: value` or `name:: base64`, folded.
fn write_line(out: &mut impl fmt::Write, name: &str, value: &[u8]) -> fmt::Result {
    let mut line = String::with_capacity(name.len() + 3 + value.len() * 4 / 3 + 4);
    line.push_str(name);
    if value.is_empty() {
        line.push(':');
    } else if is_safe(value) {
        line.push_str(": ");
        // Safe values are ASCII: each byte is one char.
        line.extend(value.iter().map(|&b| char::from(b)));
    } else {
        line.push_str(":: ");
        line.push_str(&Base64::encode_string(value));
    }
    write_folded(out, &line)
}

/// Writes `line` and a line end, folded at [`LINE_WIDTH`] columns: continuation lines start
/// with a space. Never splits a character (the output is ASCII anyway).
fn write_folded(out: &mut impl fmt::Write, line: &str) -> fmt::Result {
    let mut rest = line;
    let mut width = LINE_WIDTH;
    loop {
        if rest.len() <= width {
            out.write_str(rest)?;
            return out.write_char('\n');
        }
        let mut cut = width;
        while cut > 0 && !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        if cut == 0 {
            cut = rest.chars().next().map_or(rest.len(), char::len_utf8);
        }
        let (head, tail) = rest.split_at(cut);
        out.write_str(head)?;
        out.write_str("\n ")?;
        rest = tail;
        width = LINE_WIDTH - 1;
    }
}
