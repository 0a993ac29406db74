//! Is a point on a NIST prime curve? The check `y² = x³ − 3x + b (mod p)` for P-256, P-384
//! and P-521, as OpenSSH applies it to ECDSA public keys (`ssh-keygen` refuses a point that
//! is not on its curve). Plain schoolbook arithmetic on 64-bit limbs: a handful of
//! multiplications per key, no secret data, so neither speed nor constant time matters.

// The names of the formulas: p, b, x, y, n.
#![allow(clippy::many_single_char_names)]

use std::cmp::Ordering;

/// Limbs of a number below 2^576 (enough for values below 2·p of P-521), least
/// significant first.
const LIMBS: usize = 9;
type Num = [u64; LIMBS];

/// A NIST prime curve `y² = x³ − 3x + b` over the field of `p`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Curve {
    P256,
    P384,
    P521,
}

impl Curve {
    /// Bytes of a coordinate.
    pub(crate) const fn coordinate_len(self) -> usize {
        match self {
            Curve::P256 => 32,
            Curve::P384 => 48,
            Curve::P521 => 66,
        }
    }

    /// The size of the curve in bits (what `ssh-keygen -l` prints).
    pub(crate) const fn bits(self) -> u32 {
        match self {
            Curve::P256 => 256,
            Curve::P384 => 384,
            Curve::P521 => 521,
        }
    }

    fn p_hex(self) -> &'static str {
        match self {
            Curve::P256 => "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff",
            Curve::P384 => {
                "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe\
                 ffffffff0000000000000000ffffffff"
            }
            Curve::P521 => {
                "01ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\
                 ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
            }
        }
    }

    fn b_hex(self) -> &'static str {
        match self {
            Curve::P256 => "5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b",
            Curve::P384 => {
                "b3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875a\
                 c656398d8a2ed19d2a85c8edd3ec2aef"
            }
            Curve::P521 => {
                "0051953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef1\
                 09e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b503f00"
            }
        }
    }

    /// Whether the uncompressed point `04 || X || Y` is a point of the curve (not the point
    /// at infinity, coordinates below p).
    pub(crate) fn contains_uncompressed(self, point: &[u8]) -> bool {
        let n = self.coordinate_len();
        if point.len() != 1 + 2 * n || point[0] != 0x04 {
            return false;
        }
        let (Some(p), Some(b)) = (from_hex(self.p_hex()), from_hex(self.b_hex())) else {
            return false;
        };
        let x = from_be(&point[1..=n]);
        let y = from_be(&point[1 + n..]);
        if cmp(&x, &p) != Ordering::Less || cmp(&y, &p) != Ordering::Less {
            return false;
        }
        if is_zero(&x) && is_zero(&y) {
            return false;
        }
        let lhs = mul_mod(&y, &y, &p);
        let x3 = mul_mod(&mul_mod(&x, &x, &p), &x, &p);
        let three_x = add_mod(&add_mod(&x, &x, &p), &x, &p);
        let rhs = add_mod(&sub_mod(&x3, &three_x, &p), &b, &p);
        lhs == rhs
    }
}

fn from_be(bytes: &[u8]) -> Num {
    let mut out = [0u64; LIMBS];
    for (i, byte) in bytes.iter().rev().enumerate() {
        if let Some(limb) = out.get_mut(i / 8) {
            *limb |= u64::from(*byte) << (8 * (i % 8));
        }
    }
    out
}

fn from_hex(hex: &str) -> Option<Num> {
    let digits: Vec<u8> = hex
        .bytes()
        .filter(|b| !b.is_ascii_whitespace())
        .map(|b| {
            char::from(b)
                .to_digit(16)
                .and_then(|d| u8::try_from(d).ok())
        })
        .collect::<Option<_>>()?;
    let bytes: Vec<u8> = digits
        .chunks(2)
        .map(|c| c.iter().fold(0, |a, d| a * 16 + d))
        .collect();
    Some(from_be(&bytes))
}

fn is_zero(a: &Num) -> bool {
    a.iter().all(|l| *l == 0)
}

fn cmp(a: &[u64], b: &[u64]) -> Ordering {
    for i in (0..a.len().max(b.len())).rev() {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        match x.cmp(&y) {
            Ordering::Equal => {}
            other => return other,
        }
    }
    Ordering::Equal
}

/// `a - b` in place; `a >= b`.
fn sub_in_place(a: &mut Num, b: &Num) {
    let mut borrow = false;
    for (x, y) in a.iter_mut().zip(b) {
        let (d, o1) = x.overflowing_sub(*y);
        let (d, o2) = d.overflowing_sub(u64::from(borrow));
        *x = d;
        borrow = o1 || o2;
    }
}

/// `a + b`; both below 2^575, so no carry out.
fn add(a: &Num, b: &Num) -> Num {
    let mut out = [0u64; LIMBS];
    let mut carry = false;
    for i in 0..LIMBS {
        let (s, o1) = a[i].overflowing_add(b[i]);
        let (s, o2) = s.overflowing_add(u64::from(carry));
        out[i] = s;
        carry = o1 || o2;
    }
    out
}

fn add_mod(a: &Num, b: &Num, p: &Num) -> Num {
    let mut s = add(a, b);
    if cmp(&s, p) != Ordering::Less {
        sub_in_place(&mut s, p);
    }
    s
}

fn sub_mod(a: &Num, b: &Num, p: &Num) -> Num {
    if cmp(a, b) == Ordering::Less {
        let mut s = add(a, p);
        sub_in_place(&mut s, b);
        s
    } else {
        let mut s = *a;
        sub_in_place(&mut s, b);
        s
    }
}

/// `a · b mod p` for `a, b < p`: the full product, then reduced bit by bit (binary long
/// division keeping only the remainder).
#[allow(clippy::cast_possible_truncation)] // `as u64` keeps the low limb on purpose
fn mul_mod(a: &Num, b: &Num, p: &Num) -> Num {
    let mut wide = [0u64; 2 * LIMBS];
    for i in 0..LIMBS {
        let mut carry: u128 = 0;
        for j in 0..LIMBS {
            let t = u128::from(a[i]) * u128::from(b[j]) + u128::from(wide[i + j]) + carry;
            wide[i + j] = t as u64; // low half; the high half carries
            carry = t >> 64;
        }
        let mut k = i + LIMBS;
        while carry != 0 && k < wide.len() {
            let t = u128::from(wide[k]) + carry;
            wide[k] = t as u64;
            carry = t >> 64;
            k += 1;
        }
    }
    let mut r = [0u64; LIMBS];
    for bit in (0..64 * 2 * LIMBS).rev() {
        // r = 2r + bit; r < p < 2^575 before, so 2r + 1 < 2^576: no overflow.
        let mut carry = (wide[bit / 64] >> (bit % 64)) & 1;
        for limb in &mut r {
            let next = *limb >> 63;
            *limb = (*limb << 1) | carry;
            carry = next;
        }
        if cmp(&r, p) != Ordering::Less {
            sub_in_place(&mut r, p);
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic() {
        let p = from_hex("17").unwrap(); // 23
        let a = from_hex("0f").unwrap(); // 15
        let b = from_hex("0a").unwrap(); // 10
        assert_eq!(mul_mod(&a, &b, &p)[0], 150 % 23);
        assert_eq!(add_mod(&a, &b, &p)[0], 2);
        assert_eq!(sub_mod(&b, &a, &p)[0], 18);
        let big = from_hex(Curve::P521.p_hex()).unwrap();
        let mut minus_one = big;
        sub_in_place(&mut minus_one, &from_be(&[1]));
        // (p-1)² = 1 mod p
        assert_eq!(mul_mod(&minus_one, &minus_one, &big), from_be(&[1]));
    }

    #[test]
    fn generators_are_on_their_curves() {
        let g256 = "046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296\
                    4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5";
        let hex: String = g256.chars().filter(|c| !c.is_whitespace()).collect();
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        assert!(Curve::P256.contains_uncompressed(&bytes));
        let mut bad = bytes.clone();
        bad[64] ^= 1;
        assert!(!Curve::P256.contains_uncompressed(&bad));
        assert!(!Curve::P384.contains_uncompressed(&bytes));
        let mut compressed = bytes;
        compressed[0] = 0x02;
        assert!(!Curve::P256.contains_uncompressed(&compressed));
        assert!(!Curve::P256.contains_uncompressed(&[0x04; 65][..]));
    }
}
