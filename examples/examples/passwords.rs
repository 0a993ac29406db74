//! Password hashing in the schemes slapd verifies on bind, and the password policy.
//!
//! ```sh
//! cargo run -p heracles-examples --example passwords
//! ```

use heracles_core::password::{hash, is_hashed, scheme_of, verify, PasswordPolicy, Scheme};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let password = "Correct-Horse-42";
    for scheme in Scheme::ALL {
        let stored = hash(password, *scheme)?;
        println!(
            "{:<8} {:<60} right={} wrong={}",
            scheme.as_str(),
            if stored.len() > 60 {
                &stored[..60]
            } else {
                &stored
            },
            verify(password, stored.as_bytes())?,
            verify("guess", stored.as_bytes())?
        );
        assert!(is_hashed(stored.as_bytes()));
        assert_eq!(
            scheme_of(stored.as_bytes())
                .map(str::to_ascii_lowercase)
                .as_deref(),
            Some(scheme.as_str())
        );
    }
    let policy = PasswordPolicy::default();
    for candidate in ["short", "alllowercaseletters", "Correct-Horse-42"] {
        match policy.check(candidate) {
            Ok(()) => println!("policy: {candidate:?} accepted"),
            Err(e) => println!("policy: {candidate:?} -> {} ({})", e.code(), e.message()),
        }
    }
    Ok(())
}
