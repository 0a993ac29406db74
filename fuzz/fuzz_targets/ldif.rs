//! The LDIF reader (`ldif::parse`, `LdifReader`) and, for what it reads, the writer.
//!
//! Properties (documented in `heracles_core::ldif`): hostile input never panics or hangs,
//! also as raw bytes and with a small record size limit; every error has a known code and a
//! `line` detail inside the input; `parse` agrees with the streaming reader; and the records
//! of a file that parses, when the writer accepts them, are written as ASCII lines of at most
//! `LINE_WIDTH` columns that read back into the same records (same DN strings too), and
//! writing them again gives the same text.
#![no_main]

use heracles_core::ldif::{self, LdifReader, LdifRecord, LINE_WIDTH};
use heracles_core::ErrorCode;
use libfuzzer_sys::fuzz_target;

fn check_error(e: &heracles_core::Error, lines: usize, what: &str) {
    assert!(
        matches!(
            e.code(),
            ErrorCode::ValidationFailed | ErrorCode::PayloadTooLarge
        ),
        "{what}: unexpected error code: {e}"
    );
    let line = e.details().get("line").and_then(|l| l.as_u64());
    assert!(
        line.is_some_and(|l| l >= 1 && l <= lines as u64 + 1),
        "{what}: line detail out of range ({lines} lines): {e}"
    );
}

/// Every result of the streaming reader; it must end.
fn read_all(data: &[u8], max: Option<usize>) -> Vec<heracles_core::Result<LdifRecord>> {
    let mut reader = LdifReader::new(data);
    if let Some(max) = max {
        reader = reader.max_record_size(max);
    }
    let mut out = Vec::new();
    for r in reader {
        out.push(r);
        assert!(out.len() <= data.len() + 1, "the reader does not end");
    }
    out
}

fn dn_strings(records: &[LdifRecord]) -> Vec<String> {
    records.iter().map(|r| r.dn().to_string()).collect()
}

fuzz_target!(|data: &[u8]| {
    let lines = data.split(|&b| b == b'\n').count();
    for max in [None, Some(64)] {
        for r in read_all(data, max) {
            if let Err(e) = r {
                check_error(&e, lines, "reader");
            }
        }
    }
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let records = match ldif::parse(input) {
        Ok(records) => records,
        Err(e) => {
            check_error(&e, lines, "parse");
            return;
        }
    };
    let streamed: Vec<LdifRecord> = read_all(data, None)
        .into_iter()
        .map(|r| r.unwrap_or_else(|e| panic!("parse succeeded, the reader failed: {e}")))
        .collect();
    assert_eq!(streamed, records, "parse and LdifReader disagree");

    let Ok(out) = ldif::records_to_string(&records) else {
        return;
    };
    assert!(out.is_ascii(), "the writer wrote non-ASCII: {out:?}");
    for line in out.lines() {
        assert!(
            line.len() <= LINE_WIDTH,
            "line longer than {LINE_WIDTH}: {line:?}"
        );
    }
    let again = match ldif::parse(&out) {
        Ok(r) => r,
        Err(e) => panic!("{input:?} parsed, the writer's {out:?} does not: {e}"),
    };
    assert_eq!(
        again, records,
        "{input:?} -> {out:?} reads back differently"
    );
    assert_eq!(
        dn_strings(&again),
        dn_strings(&records),
        "{input:?}: DN strings"
    );
    match ldif::records_to_string(&again) {
        Ok(out2) => assert_eq!(out2, out, "{input:?}: writing is not idempotent"),
        Err(e) => panic!("{input:?}: the writer refuses what it wrote: {e}"),
    }
});
