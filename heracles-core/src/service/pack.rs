//! Entries packed in one buffer each (the cache of reads, the copy of users): lengths as
//! LEB128 varints, so a short value costs one byte of length, not eight.

/// Appends `n` as a LEB128 varint.
pub(crate) fn put_len(buf: &mut Vec<u8>, mut n: usize) {
    loop {
        let low = u8::try_from(n & 0x7f).unwrap_or(0);
        n >>= 7;
        if n == 0 {
            buf.push(low);
            return;
        }
        buf.push(low | 0x80);
    }
}

/// Takes a varint off the front of `rest` (`None` if it is cut short or too long).
pub(crate) fn take_len(rest: &mut &[u8]) -> Option<usize> {
    let mut n = 0usize;
    for shift in (0..usize::BITS).step_by(7) {
        let (&b, tail) = rest.split_first()?;
        *rest = tail;
        let bits = usize::from(b & 0x7f);
        if shift > 0 && bits >> (usize::BITS - shift) != 0 {
            return None;
        }
        n |= bits << shift;
        if b & 0x80 == 0 {
            return Some(n);
        }
    }
    None
}

/// Appends `bytes` with their length.
pub(crate) fn put_bytes(buf: &mut Vec<u8>, bytes: &[u8]) {
    put_len(buf, bytes.len());
    buf.extend_from_slice(bytes);
}

/// Takes one length-prefixed run of bytes off the front of `rest`.
pub(crate) fn take_bytes<'a>(rest: &mut &'a [u8]) -> Option<&'a [u8]> {
    let len = take_len(rest)?;
    let (bytes, tail) = (rest.get(..len)?, rest.get(len..)?);
    *rest = tail;
    Some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_and_bytes_come_back() {
        for n in [0usize, 1, 127, 128, 300, 16_383, 16_384, usize::MAX] {
            let mut buf = Vec::new();
            put_len(&mut buf, n);
            let mut rest = buf.as_slice();
            assert_eq!(take_len(&mut rest), Some(n));
            assert!(rest.is_empty());
        }
        assert_eq!(take_len(&mut [0x80u8].as_slice()), None, "cut short");
        let too_long = [0xffu8; 11];
        assert_eq!(
            take_len(&mut too_long.as_slice()),
            None,
            "more than 64 bits"
        );
        let mut buf = Vec::new();
        put_bytes(&mut buf, b"");
        put_bytes(&mut buf, &[7u8; 200]);
        let mut rest = buf.as_slice();
        assert_eq!(take_bytes(&mut rest), Some(&b""[..]));
        assert_eq!(take_bytes(&mut rest), Some(&[7u8; 200][..]));
        assert!(rest.is_empty());
        assert_eq!(
            take_bytes(&mut &[5u8, 1, 2][..]),
            None,
            "shorter than its length"
        );
    }
}
