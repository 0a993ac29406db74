//! The server-side sort (RFC 2891) and virtual list view (draft-ietf-ldapext-ldapv3-vlv-09)
//! controls, BER-encoded and decoded here (ldap3 has neither).
//!
//! Only what those controls need of BER: definite lengths, INTEGER, ENUMERATED, BOOLEAN,
//! OCTET STRING, SEQUENCE and context-specific tags. Decoding never panics: truncated or
//! malformed values are `DIRECTORY_ERROR`s naming the control.
//!
//! ```
//! use heracles_core::directory::ldap::controls::{sort_request, SortKeySpec};
//! let value = sort_request(&[SortKeySpec::new("uid").reverse()]);
//! // SEQUENCE { SEQUENCE { "uid", [1] TRUE } }
//! assert_eq!(value, [0x30, 0x0a, 0x30, 0x08, 0x04, 0x03, b'u', b'i', b'd', 0x81, 0x01, 0xff]);
//! ```

use crate::error::{Error, ErrorCode, Result};

/// OID of the sort request control.
pub const SORT_REQUEST_OID: &str = "1.2.840.113556.1.4.473";
/// OID of the sort response control.
pub const SORT_RESPONSE_OID: &str = "1.2.840.113556.1.4.474";
/// OID of the VLV request control.
pub const VLV_REQUEST_OID: &str = "2.16.840.1.113730.3.4.9";
/// OID of the VLV response control.
pub const VLV_RESPONSE_OID: &str = "2.16.840.1.113730.3.4.10";

const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
const OCTET_STRING: u8 = 0x04;
const ENUMERATED: u8 = 0x0a;

/// One sort key of a sort request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortKeySpec {
    /// The attribute.
    pub attribute: String,
    /// An ordering rule (name or OID), for attributes without one of their own.
    pub ordering_rule: Option<String>,
    /// Descending.
    pub reverse: bool,
}

impl SortKeySpec {
    /// Ascending on `attribute`, with its own ordering rule.
    pub fn new(attribute: &str) -> SortKeySpec {
        SortKeySpec {
            attribute: attribute.to_owned(),
            ordering_rule: None,
            reverse: false,
        }
    }

    /// Descending.
    #[must_use]
    pub fn reverse(mut self) -> SortKeySpec {
        self.reverse = true;
        self
    }

    /// With this ordering rule.
    #[must_use]
    pub fn ordering_rule(mut self, rule: &str) -> SortKeySpec {
        self.ordering_rule = Some(rule.to_owned());
        self
    }
}

fn push_length(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        // Short form. `len < 0x80` fits a byte.
        out.push(u8::try_from(len).unwrap_or(0x7f));
        return;
    }
    let bytes = len.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    let significant = &bytes[skip..];
    out.push(0x80 | u8::try_from(significant.len()).unwrap_or(0x7f));
    out.extend_from_slice(significant);
}

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    push_length(&mut out, content.len());
    out.extend_from_slice(content);
    out
}

/// A non-negative INTEGER's content octets (minimal, with a leading zero when the top bit
/// is set).
fn integer_content(n: u64) -> Vec<u8> {
    let bytes = n.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count().min(7);
    let mut out = Vec::with_capacity(9);
    if bytes[skip] & 0x80 != 0 {
        out.push(0);
    }
    out.extend_from_slice(&bytes[skip..]);
    out
}

/// The value of a sort request control for `keys`.
pub fn sort_request(keys: &[SortKeySpec]) -> Vec<u8> {
    let mut list = Vec::new();
    for k in keys {
        let mut key = tlv(OCTET_STRING, k.attribute.as_bytes());
        if let Some(rule) = &k.ordering_rule {
            key.extend(tlv(0x80, rule.as_bytes()));
        }
        if k.reverse {
            key.extend(tlv(0x81, &[0xff]));
        }
        list.extend(tlv(SEQUENCE, &key));
    }
    tlv(SEQUENCE, &list)
}

/// Where a VLV request starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VlvTarget {
    /// By position: `offset` (1-based) out of `content_count` (0: "the server's count").
    ByOffset {
        /// 1-based position of the target entry.
        offset: u64,
        /// The client's idea of the list size (0 when it has none).
        content_count: u64,
    },
    /// The first entry whose sort key is greater than or equal to this value.
    GreaterThanOrEqual(Vec<u8>),
}

/// A VLV request: `before` entries before the target and `after` after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VlvRequest {
    /// Entries before the target.
    pub before: u64,
    /// Entries after the target.
    pub after: u64,
    /// The target.
    pub target: VlvTarget,
    /// The context id of the server's previous response, if any.
    pub context_id: Option<Vec<u8>>,
}

impl VlvRequest {
    /// One page: `limit` entries from the 0-based `offset`.
    pub fn page(offset: u64, limit: u64) -> VlvRequest {
        VlvRequest {
            before: 0,
            after: limit.saturating_sub(1),
            target: VlvTarget::ByOffset {
                offset: offset.saturating_add(1),
                content_count: 0,
            },
            context_id: None,
        }
    }

    /// The control's value.
    pub fn encode(&self) -> Vec<u8> {
        let mut body = tlv(INTEGER, &integer_content(self.before));
        body.extend(tlv(INTEGER, &integer_content(self.after)));
        match &self.target {
            VlvTarget::ByOffset {
                offset,
                content_count,
            } => {
                let mut inner = tlv(INTEGER, &integer_content(*offset));
                inner.extend(tlv(INTEGER, &integer_content(*content_count)));
                body.extend(tlv(0xa0, &inner));
            }
            VlvTarget::GreaterThanOrEqual(v) => body.extend(tlv(0x81, v)),
        }
        if let Some(id) = &self.context_id {
            body.extend(tlv(OCTET_STRING, id));
        }
        tlv(SEQUENCE, &body)
    }
}

/// A sort response control.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortResult {
    /// The LDAP result code of the sort (0: sorted).
    pub result: u32,
    /// The attribute the server could not sort on, if it says.
    pub attribute: Option<String>,
}

/// A VLV response control.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VlvResponse {
    /// 1-based position of the target entry.
    pub target_position: u64,
    /// The server's count of entries in the list.
    pub content_count: u64,
    /// The LDAP result code of the VLV operation (0: success).
    pub result: u32,
    /// A context id to send back with the next request.
    pub context_id: Option<Vec<u8>>,
}

/// A reader of BER values.
struct Reader<'a> {
    bytes: &'a [u8],
    control: &'static str,
}

impl<'a> Reader<'a> {
    /// A reader of the elements of the SEQUENCE that a `control` value is.
    fn sequence(value: &'a [u8], control: &'static str) -> Result<Reader<'a>> {
        let mut outer = Reader {
            bytes: value,
            control,
        };
        let bytes = outer.expect_tag(SEQUENCE, "a SEQUENCE")?;
        Ok(Reader { bytes, control })
    }

    fn bad(&self, what: &str) -> Error {
        Error::new(
            ErrorCode::DirectoryError,
            format!(
                "the directory sent a malformed {} control: {what}",
                self.control
            ),
        )
        .with_detail("control", self.control)
    }

    fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    fn peek_tag(&self) -> Option<u8> {
        self.bytes.first().copied()
    }

    /// The next TLV: its tag and content.
    fn next(&mut self) -> Result<(u8, &'a [u8])> {
        let (&tag, rest) = self
            .bytes
            .split_first()
            .ok_or_else(|| self.bad("it ends early"))?;
        let (&first, mut rest) = rest
            .split_first()
            .ok_or_else(|| self.bad("a length is missing"))?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 4 || rest.len() < n {
                return Err(self.bad("a length is malformed"));
            }
            let mut len = 0usize;
            for b in &rest[..n] {
                len = (len << 8) | usize::from(*b);
            }
            rest = &rest[n..];
            len
        };
        if rest.len() < len {
            return Err(self.bad("a value is longer than the control"));
        }
        let (content, after) = rest.split_at(len);
        self.bytes = after;
        Ok((tag, content))
    }

    fn expect_tag(&mut self, tag: u8, what: &str) -> Result<&'a [u8]> {
        let (t, content) = self.next()?;
        if t == tag {
            Ok(content)
        } else {
            Err(self.bad(&format!("expected {what}")))
        }
    }

    fn unsigned(&self, content: &[u8]) -> Result<u64> {
        if content.is_empty() || content.len() > 9 || content[0] & 0x80 != 0 {
            return Err(self.bad("an integer is out of range"));
        }
        let mut n: u64 = 0;
        for b in content {
            n = n
                .checked_mul(256)
                .and_then(|n| n.checked_add(u64::from(*b)))
                .ok_or_else(|| self.bad("an integer is out of range"))?;
        }
        Ok(n)
    }
}

/// Decodes a sort response control's value.
pub fn decode_sort_response(value: &[u8]) -> Result<SortResult> {
    let mut r = Reader::sequence(value, "sort response")?;
    let code = r.expect_tag(ENUMERATED, "the sort result")?;
    let result = u32::try_from(r.unsigned(code)?).map_err(|_| r.bad("the result is too large"))?;
    let attribute = if r.peek_tag() == Some(0x80) {
        let (_, a) = r.next()?;
        Some(String::from_utf8_lossy(a).into_owned())
    } else {
        None
    };
    Ok(SortResult { result, attribute })
}

/// Decodes a VLV response control's value.
pub fn decode_vlv_response(value: &[u8]) -> Result<VlvResponse> {
    let mut r = Reader::sequence(value, "VLV response")?;
    let position = r.expect_tag(INTEGER, "the target position")?;
    let target_position = r.unsigned(position)?;
    let count = r.expect_tag(INTEGER, "the content count")?;
    let content_count = r.unsigned(count)?;
    let code = r.expect_tag(ENUMERATED, "the result")?;
    let result = u32::try_from(r.unsigned(code)?).map_err(|_| r.bad("the result is too large"))?;
    let context_id = if r.is_empty() {
        None
    } else {
        Some(r.expect_tag(OCTET_STRING, "a context id")?.to_vec())
    };
    Ok(VlvResponse {
        target_position,
        content_count,
        result,
        context_id,
    })
}

/// The Sync State response control (RFC 4533), sent with each entry of a content
/// synchronization search.
pub const SYNC_STATE_OID: &str = "1.3.6.1.4.1.4203.1.9.1.2";

/// The state of an entry in a Sync State control.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncEntryState {
    /// Present (refresh phase, no change).
    Present,
    /// Added.
    Add,
    /// Modified (renamed included).
    Modify,
    /// Deleted.
    Delete,
}

/// Decodes a Sync State control's value: `SEQUENCE { state ENUMERATED, entryUUID OCTET
/// STRING, cookie OCTET STRING OPTIONAL }`; only the state is kept.
pub fn decode_sync_state(value: &[u8]) -> Result<SyncEntryState> {
    let mut r = Reader::sequence(value, "sync state")?;
    let code = r.expect_tag(ENUMERATED, "the state")?;
    let state = match r.unsigned(code)? {
        0 => SyncEntryState::Present,
        1 => SyncEntryState::Add,
        2 => SyncEntryState::Modify,
        3 => SyncEntryState::Delete,
        _ => return Err(r.bad("unknown state")),
    };
    r.expect_tag(OCTET_STRING, "the entryUUID")?;
    Ok(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sync_states() {
        // Captured from slapd (`ldapsearch -E sync=rp`): modified, with a cookie; added,
        // without one.
        let modified = [
            0x30, 0x4b, 0x0a, 0x01, 0x02, 0x04, 0x10, 0x54, 0xdb, 0xdb, 0x9c, 0x84, 0xaf, 0x10,
            0x41, 0x88, 0x39, 0x37, 0x48, 0x68, 0xd6, 0xf7, 0xdc, 0x04, 0x34, 0x72, 0x69, 0x64,
            0x3d, 0x30, 0x30, 0x30, 0x2c, 0x63, 0x73, 0x6e, 0x3d, 0x32, 0x30, 0x32, 0x36, 0x31,
            0x32, 0x30, 0x35, 0x30, 0x34, 0x32, 0x33, 0x31, 0x33, 0x2e, 0x39, 0x31, 0x31, 0x31,
            0x38, 0x31, 0x5a, 0x23, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x23, 0x30, 0x30, 0x30,
            0x23, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30,
        ];
        assert_eq!(
            decode_sync_state(&modified).unwrap(),
            SyncEntryState::Modify
        );
        let mut added = vec![0x30, 0x15, 0x0a, 0x01, 0x01, 0x04, 0x10];
        added.extend([7u8; 16]);
        assert_eq!(decode_sync_state(&added).unwrap(), SyncEntryState::Add);
        let mut deleted = added.clone();
        deleted[4] = 3;
        assert_eq!(decode_sync_state(&deleted).unwrap(), SyncEntryState::Delete);
        for bad in [
            &[][..],
            &[0x30, 0x03, 0x0a, 0x01, 0x09][..],
            &[0x30, 0x03, 0x0a, 0x01, 0x01][..],
            &[0x30, 0x05, 0x02, 0x01, 0x01, 0x04, 0x00][..],
            &added[..10],
        ] {
            let e = decode_sync_state(bad).unwrap_err();
            assert_eq!(e.code(), ErrorCode::DirectoryError, "{bad:?}");
        }
    }

    #[test]
    fn sort_requests() {
        assert_eq!(
            sort_request(&[SortKeySpec::new("cn")]),
            [0x30, 0x06, 0x30, 0x04, 0x04, 0x02, b'c', b'n']
        );
        let two = sort_request(&[
            SortKeySpec::new("sn").ordering_rule("caseIgnoreOrderingMatch"),
            SortKeySpec::new("uid").reverse(),
        ]);
        let mut want = vec![0x30, 0x29];
        want.extend([0x30, 0x1d, 0x04, 0x02, b's', b'n', 0x80, 0x17]);
        want.extend(b"caseIgnoreOrderingMatch");
        want.extend([0x30, 0x08, 0x04, 0x03, b'u', b'i', b'd', 0x81, 0x01, 0xff]);
        assert_eq!(two, want);
        // Long-form lengths past 127 bytes.
        let long = sort_request(&[SortKeySpec::new(&"a".repeat(200))]);
        assert_eq!(&long[..4], &[0x30, 0x81, 0xce, 0x30]);
    }

    #[test]
    fn vlv_requests() {
        // Page of 50 from offset 99950: before 0, after 49, byOffset {99951, 0}.
        let v = VlvRequest::page(99_950, 50).encode();
        assert_eq!(
            v,
            [
                0x30, 0x10, 0x02, 0x01, 0x00, 0x02, 0x01, 0x31, 0xa0, 0x08, 0x02, 0x03, 0x01, 0x86,
                0x6f, 0x02, 0x01, 0x00
            ]
        );
        let v = VlvRequest {
            before: 1,
            after: 128,
            target: VlvTarget::GreaterThanOrEqual(b"jd".to_vec()),
            context_id: Some(vec![7]),
        }
        .encode();
        assert_eq!(
            v,
            [
                0x30, 0x0e, 0x02, 0x01, 0x01, 0x02, 0x02, 0x00, 0x80, 0x81, 0x02, b'j', b'd', 0x04,
                0x01, 0x07
            ]
        );
    }

    #[test]
    fn responses() {
        assert_eq!(
            decode_sort_response(&[0x30, 0x03, 0x0a, 0x01, 0x00]).unwrap(),
            SortResult {
                result: 0,
                attribute: None
            }
        );
        assert_eq!(
            decode_sort_response(&[0x30, 0x07, 0x0a, 0x01, 0x10, 0x80, 0x02, b's', b'n']).unwrap(),
            SortResult {
                result: 16,
                attribute: Some("sn".into())
            }
        );
        let r = decode_vlv_response(&[
            0x30, 0x0e, 0x02, 0x03, 0x01, 0x86, 0x6f, 0x02, 0x03, 0x01, 0x86, 0xa0, 0x0a, 0x01,
            0x00, 0x04, 0x00,
        ]);
        // The declared SEQUENCE length is one short of the content: the context id's
        // length byte would be outside it.
        assert!(r.is_err());
        let r = decode_vlv_response(&[
            0x30, 0x10, 0x02, 0x03, 0x01, 0x86, 0x6f, 0x02, 0x03, 0x01, 0x86, 0xa0, 0x0a, 0x01,
            0x00, 0x04, 0x01, 0x2a,
        ])
        .unwrap();
        assert_eq!(
            r,
            VlvResponse {
                target_position: 99_951,
                content_count: 100_000,
                result: 0,
                context_id: Some(vec![0x2a])
            }
        );
    }

    #[test]
    fn malformed_responses_are_errors_not_panics() {
        for bad in [
            &[][..],
            &[0x30],
            &[0x30, 0x05, 0x0a, 0x01],
            &[0x31, 0x03, 0x0a, 0x01, 0x00],
            &[0x30, 0x03, 0x02, 0x01, 0x00],
            &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff],
            &[0x30, 0x03, 0x0a, 0x01, 0x80],
        ] {
            let e = decode_sort_response(bad).unwrap_err();
            assert_eq!(e.code(), ErrorCode::DirectoryError, "{bad:?}");
            assert!(decode_vlv_response(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn integers_are_minimal() {
        assert_eq!(integer_content(0), [0]);
        assert_eq!(integer_content(127), [0x7f]);
        assert_eq!(integer_content(128), [0x00, 0x80]);
        assert_eq!(integer_content(256), [0x01, 0x00]);
        assert_eq!(
            integer_content(u64::MAX),
            [0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
        );
    }
}
