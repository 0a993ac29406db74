//! LDAP's three-valued logic (RFC 4511 §4.5.1.7): a filter item is true, false or
//! undefined, and `&`, `|`, `!` combine them as Kleene's logic does. The embedded
//! directory evaluates filters with it; the change log uses it for what is known of an
//! entry from its object classes alone (undefined: not known).

/// True, false or undefined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tri {
    True,
    False,
    Undefined,
}

impl From<bool> for Tri {
    fn from(b: bool) -> Self {
        if b {
            Tri::True
        } else {
            Tri::False
        }
    }
}

impl Tri {
    /// `&` of `items`: false as soon as one is false (the rest are not evaluated).
    pub(crate) fn all(items: impl IntoIterator<Item = Tri>) -> Tri {
        let mut out = Tri::True;
        for t in items {
            match t {
                Tri::False => return Tri::False,
                Tri::Undefined => out = Tri::Undefined,
                Tri::True => {}
            }
        }
        out
    }

    /// `|` of `items`: true as soon as one is true (the rest are not evaluated). De
    /// Morgan's law holds in Kleene's logic: `|` is `!` of the `&` of the negations.
    pub(crate) fn any(items: impl IntoIterator<Item = Tri>) -> Tri {
        Tri::all(items.into_iter().map(Tri::not)).not()
    }

    /// `!`: undefined stays undefined.
    pub(crate) fn not(self) -> Tri {
        match self {
            Tri::True => Tri::False,
            Tri::False => Tri::True,
            Tri::Undefined => Tri::Undefined,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Tri::{False, True, Undefined};
    use super::*;

    #[test]
    fn kleene_logic_and_short_circuits() {
        assert_eq!(Tri::all([]), True);
        assert_eq!(Tri::all([True, Undefined]), Undefined);
        assert_eq!(Tri::all([Undefined, False]), False);
        assert_eq!(Tri::any([]), False);
        assert_eq!(Tri::any([False, Undefined]), Undefined);
        assert_eq!(Tri::any([Undefined, True]), True);
        assert_eq!(
            [True.not(), False.not(), Undefined.not()],
            [False, True, Undefined]
        );
        // Items after the deciding one are not evaluated.
        let mut seen = 0;
        let decided = Tri::all([False, True].into_iter().inspect(|_| seen += 1));
        assert_eq!((decided, seen), (False, 1));
    }
}
