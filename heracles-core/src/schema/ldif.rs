//! Reading schema files: cn=config LDIF (`olcAttributeTypes:` ...) and slapd.conf-style
//! `.schema` files (`attributetype ( ... )`), into the definitions they contain.

/// What a statement of a schema file defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StatementKind {
    AttributeType,
    ObjectClass,
    ObjectIdentifier,
}

/// One definition of a schema file, with the line it starts on (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Statement {
    pub kind: StatementKind,
    pub text: String,
    pub line: usize,
}

/// A file could not be read: the line and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReadError {
    pub line: usize,
    pub reason: String,
}

fn err(line: usize, reason: impl Into<String>) -> ReadError {
    ReadError {
        line,
        reason: reason.into(),
    }
}

/// Logical lines: physical lines joined with their continuation lines (those starting with
/// one space or tab, which is removed). Each comes with the number of its first line.
/// `#` comments (with their continuations) and blank lines are dropped.
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out: Vec<(usize, String)> = Vec::new();
    let mut in_comment = false;
    let mut open = false; // the last logical line can still be continued
    for (i, raw) in text.split('\n').enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let n = i + 1;
        if let Some(rest) = line.strip_prefix([' ', '\t']) {
            if in_comment {
                continue;
            }
            if open {
                if let Some(last) = out.last_mut() {
                    last.1.push_str(rest);
                }
                continue;
            }
            if rest.trim().is_empty() {
                continue;
            }
            // A continuation with nothing to continue: keep it as a line of its own so
            // the caller reports it.
            out.push((n, line.to_owned()));
            open = true;
            continue;
        }
        in_comment = false;
        open = false;
        if line.is_empty() {
            continue;
        }
        if line.starts_with('#') {
            in_comment = true;
            continue;
        }
        out.push((n, line.to_owned()));
        open = true;
    }
    out
}

/// Reads the schema definitions of a cn=config (or subschema) LDIF text: the values of
/// `olcAttributeTypes`, `olcObjectClasses`, `olcObjectIdentifier` (and of the subschema
/// forms `attributeTypes`, `objectClasses`). Every other attribute (`dn`, `objectClass`,
/// `cn`, `olcDitContentRules`, ...) is ignored, as are `version:` and `-` lines.
pub(crate) fn read_ldif(text: &str) -> Result<Vec<Statement>, ReadError> {
    let mut out = Vec::new();
    for (n, line) in logical_lines(text) {
        if line == "-" {
            continue;
        }
        let Some((name, rest)) = line.split_once(':') else {
            return Err(err(
                n,
                format!("malformed LDIF line (no ':'): '{}'", shorten(&line)),
            ));
        };
        let name = name.split(';').next().unwrap_or(name);
        if name.starts_with([' ', '\t']) || name.is_empty() {
            return Err(err(
                n,
                "malformed LDIF line: continuation without a line to continue",
            ));
        }
        let kind = match name.to_ascii_lowercase().as_str() {
            "olcattributetypes" | "attributetypes" => StatementKind::AttributeType,
            "olcobjectclasses" | "objectclasses" => StatementKind::ObjectClass,
            "olcobjectidentifier" => StatementKind::ObjectIdentifier,
            _ => continue,
        };
        let value = if let Some(b64) = rest.strip_prefix(':') {
            let bytes = base64_decode(b64.trim())
                .ok_or_else(|| err(n, format!("invalid base64 value of {name}")))?;
            String::from_utf8(bytes).map_err(|_| err(n, format!("value of {name} is not UTF-8")))?
        } else if rest.starts_with('<') {
            return Err(err(n, format!("URL values are not supported ({name}:<)")));
        } else {
            rest.trim_start_matches([' ']).to_owned()
        };
        out.push(Statement {
            kind,
            text: value,
            line: n,
        });
    }
    Ok(out)
}

/// Reads a slapd.conf-style `.schema` text: `attributetype ( ... )`, `objectclass ( ... )`
/// and `objectidentifier NAME OID` directives, continued on lines that start with white
/// space; `#` comments. Any other directive is an error.
pub(crate) fn read_schema_conf(text: &str) -> Result<Vec<Statement>, ReadError> {
    let mut out = Vec::new();
    let mut in_comment = false;
    for (i, raw) in text.split('\n').enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let n = i + 1;
        if line.starts_with([' ', '\t']) {
            if in_comment || line.trim().is_empty() {
                continue;
            }
            match out.last_mut() {
                Some(Statement { text, .. }) => {
                    text.push(' ');
                    text.push_str(line.trim());
                }
                None => return Err(err(n, "continuation line without a directive")),
            }
            continue;
        }
        in_comment = false;
        if line.trim().is_empty() {
            continue;
        }
        if line.starts_with('#') {
            in_comment = true;
            continue;
        }
        let (word, rest) = line
            .split_once(|c: char| c.is_whitespace())
            .unwrap_or((line, ""));
        let kind = match word.to_ascii_lowercase().as_str() {
            "attributetype" | "attributetypes" => StatementKind::AttributeType,
            "objectclass" | "objectclasses" => StatementKind::ObjectClass,
            "objectidentifier" => StatementKind::ObjectIdentifier,
            _ => {
                return Err(err(
                    n,
                    format!("unsupported schema directive '{}'", shorten(word)),
                ))
            }
        };
        out.push(Statement {
            kind,
            text: rest.trim().to_owned(),
            line: n,
        });
    }
    Ok(out)
}

/// `true` if the text looks like a slapd.conf-style schema file rather than LDIF.
pub(crate) fn looks_like_schema_conf(text: &str) -> bool {
    text.lines()
        .map(str::trim_end)
        .find(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with([' ', '\t']))
        .is_some_and(|l| {
            let w = l
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_ascii_lowercase();
            matches!(
                w.as_str(),
                "attributetype"
                    | "attributetypes"
                    | "objectclass"
                    | "objectclasses"
                    | "objectidentifier"
            )
        })
}

fn shorten(s: &str) -> String {
    let mut out: String = s.chars().take(60).collect();
    if out.len() < s.len() {
        out.push_str("...");
    }
    out
}

/// Decodes standard base64 (RFC 4648, with or without padding; white space ignored).
pub(crate) fn base64_decode(s: &str) -> Option<Vec<u8>> {
    fn val(c: u8) -> Option<u32> {
        match c {
            b'A'..=b'Z' => Some(u32::from(c - b'A')),
            b'a'..=b'z' => Some(u32::from(c - b'a') + 26),
            b'0'..=b'9' => Some(u32::from(c - b'0') + 52),
            b'+' => Some(62),
            b'/' => Some(63),
            _ => None,
        }
    }
    let clean: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let body = clean
        .strip_suffix(b"==")
        .or_else(|| clean.strip_suffix(b"="))
        .unwrap_or(&clean);
    if body.len() % 4 == 1 || body.contains(&b'=') {
        return None;
    }
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    for chunk in body.chunks(4) {
        let mut acc = 0u32;
        for &c in chunk {
            acc = acc << 6 | val(c)?;
        }
        let bits = chunk.len() * 6;
        acc <<= 24 - bits;
        let bytes = acc.to_be_bytes();
        out.extend_from_slice(&bytes[1..=(bits / 8)]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_ldif_with_comments_and_prefixes() {
        let text = "# comment\n#  continued comment\n dn: not really\n\
            dn: cn=x,cn=schema,cn=config\r\nobjectClass: olcSchemaConfig\ncn: x\n\
            olcObjectIdentifier: {0}Base 1.2.3\n\
            olcAttributeTypes: {0}( Base:1 NAME 'a'\n  DESC 'folded'\n  SYNTAX 1.2 )\n\
            #olcAttributeTypes: ( 9.9 NAME 'commented' )\n\
            olcObjectClasses:: KCAxLjIuMy4yIE5BTUUgJ2InICk=\n";
        let st = read_ldif(text).unwrap();
        assert_eq!(st.len(), 3);
        assert_eq!(st[0].kind, StatementKind::ObjectIdentifier);
        assert_eq!(st[1].kind, StatementKind::AttributeType);
        assert_eq!(
            st[1].text,
            "{0}( Base:1 NAME 'a' DESC 'folded' SYNTAX 1.2 )"
        );
        assert_eq!(st[1].line, 8);
        assert_eq!(st[2].text, "( 1.2.3.2 NAME 'b' )");
    }

    #[test]
    fn ldif_errors() {
        assert_eq!(read_ldif("dn: x\nnot a line\n").unwrap_err().line, 2);
        assert!(read_ldif("olcAttributeTypes:< file:///x\n").is_err());
        assert!(read_ldif("olcAttributeTypes:: !!!\n").is_err());
        assert!(read_ldif("olcAttributeTypes:: /w==\n").is_err());
        assert!(read_ldif(" leading continuation\n").is_err());
    }

    #[test]
    fn schema_conf() {
        let text = "# x\nobjectidentifier Base 1.2.3\nattributetype ( Base:1 NAME 'a'\n\tSYNTAX 1.2 )\n\nobjectClass ( 1.2.3.2 NAME 'b'\n    MAY a )\n";
        assert!(looks_like_schema_conf(text));
        assert!(!looks_like_schema_conf(
            "dn: cn=x\nolcAttributeTypes: ( 1 )\n"
        ));
        let st = read_schema_conf(text).unwrap();
        assert_eq!(st.len(), 3);
        assert_eq!(st[1].text, "( Base:1 NAME 'a' SYNTAX 1.2 )");
        assert_eq!(st[2].kind, StatementKind::ObjectClass);
        assert_eq!(read_schema_conf("include foo\n").unwrap_err().line, 1);
        assert!(read_schema_conf("  ( 1.2 )\n").is_err());
    }

    #[test]
    fn base64() {
        assert_eq!(base64_decode("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(base64_decode("aGVsbG8").unwrap(), b"hello");
        assert_eq!(base64_decode("").unwrap(), b"");
        assert_eq!(base64_decode("IA==").unwrap(), b" ");
        assert!(base64_decode("a").is_none());
        assert!(base64_decode("a=b=").is_none());
    }
}
