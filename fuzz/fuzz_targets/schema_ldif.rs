//! The schema file reader: `Schema::load_ldif` (cn=config LDIF and slapd.conf-style
//! `.schema` text), onto an empty schema and onto the system and core schema, and the
//! definition parsers `parse_attribute_type` / `parse_object_class`.
//!
//! Properties (documented on `Schema::load_ldif`): no panic or hang; errors are
//! `INVALID_CONFIG` with `source` and a `line` inside the text; a file loads completely or
//! not at all (on error the schema is unchanged); after a successful load every attribute
//! type and object class is found by its OID and each of its names, has a syntax (own or
//! inherited), and its superior chain ends; loading the same definitions twice fails
//! (duplicates).
#![no_main]

use std::cell::RefCell;

use heracles_core::schema::{parse_attribute_type, parse_object_class, Schema, BUILTIN_FILES};
use heracles_core::ErrorCode;
use libfuzzer_sys::fuzz_target;

/// The base schema the inputs are loaded onto besides the empty one: the first files of the
/// built-in schema (slapd's system schema and core.ldif), so inputs can refer to `name`,
/// `cn`, `top`, `person`... `Schema::load_ldif` clones the schema it loads into, so the
/// whole built-in schema would make every input several times slower.
fn base() -> Schema {
    let mut schema = Schema::new();
    for (label, text) in BUILTIN_FILES.iter().take(2) {
        if let Err(e) = schema.load_ldif(label, text) {
            panic!("built-in schema file {label} does not load: {e}");
        }
    }
    schema
}

thread_local! {
    /// A failed load leaves the schema unchanged (which the target checks), so the base is
    /// reused across inputs and rebuilt only after a successful load.
    static BASE: RefCell<Schema> = RefCell::new(base());
}

fn counts(s: &Schema) -> (usize, usize) {
    (s.attribute_type_count(), s.object_class_count())
}

fn check_loaded(schema: &Schema, input: &str) {
    for at in schema.attribute_types() {
        let oid = at.oid();
        assert!(
            schema.attribute(oid).is_some(),
            "{input:?}: attribute {oid} not found by OID"
        );
        for name in at.names() {
            assert!(
                schema.attribute(name).is_some(),
                "{input:?}: attribute {name} not found"
            );
        }
        assert!(
            schema.effective_syntax(oid).is_some(),
            "{input:?}: attribute {oid} has no syntax"
        );
        let sups = schema.superior_types(oid);
        assert!(
            sups.len() <= schema.attribute_type_count(),
            "{input:?}: superior loop"
        );
    }
    for oc in schema.object_classes() {
        let oid = oc.oid();
        assert!(
            schema.object_class(oid).is_some(),
            "{input:?}: class {oid} not found by OID"
        );
        for name in oc.names() {
            assert!(
                schema.object_class(name).is_some(),
                "{input:?}: class {name} not found"
            );
        }
        let sups = schema.superclasses(oid);
        assert!(
            sups.len() <= schema.object_class_count(),
            "{input:?}: superclass loop"
        );
        let _ = (schema.must(oid), schema.may(oid));
    }
}

/// Loads `input` into `schema`; returns whether it changed the schema.
fn load(schema: &mut Schema, input: &str) -> bool {
    let before = counts(schema);
    match schema.load_ldif("fuzz", input) {
        Ok(()) => {
            check_loaded(schema, input);
            let after = counts(schema);
            if after != before {
                assert!(
                    schema.load_ldif("fuzz", input).is_err(),
                    "{input:?}: the same definitions loaded twice"
                );
                assert_eq!(
                    counts(schema),
                    after,
                    "{input:?}: a failed load changed the schema"
                );
            }
            true
        }
        Err(e) => {
            assert_eq!(e.code(), ErrorCode::InvalidConfig, "{input:?}: {e}");
            assert_eq!(
                counts(schema),
                before,
                "{input:?}: a failed load changed the schema"
            );
            let lines = input.split('\n').count() as u64;
            let line = e.details().get("line").and_then(|l| l.as_u64());
            assert!(
                line.is_some_and(|l| l <= lines),
                "{input:?}: line out of range ({lines} lines): {e}"
            );
            false
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    load(&mut Schema::new(), input);
    BASE.with(|b| {
        let mut schema = b.borrow_mut();
        if load(&mut schema, input) {
            *schema = base();
        }
    });
    let _ = parse_attribute_type(input);
    let _ = parse_object_class(input);
});
