//! Integration tests of heracles-core against a real slapd started by `ldap/test-slapd.sh`.
//!
//! One test binary (link time adds up). The conformance suite (`suite*.rs`) runs on both
//! backends. The README's test command starts a shared slapd and
//! points `HERACLES_TEST_SLAPD_ENV` at its env file; tests that stop or restart a server
//! start their own instance through the same script.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines,
    clippy::items_after_statements,
    clippy::unused_async,
    clippy::many_single_char_names
)]

mod acl;
mod audit;
mod audited;
mod dhcp;
mod dns;
mod embedded;
mod fixture;
mod ldap_faults;
mod ldap_transport;
mod moves;
mod recommended_acls;
mod services;
mod ssh_keys;
mod sudo;
mod suite;
mod suite_errors;
mod systems;
mod vlv;

/// Runs each suite function once on slapd and once on the embedded directory.
macro_rules! conformance {
    ($($module:ident :: $name:ident),* $(,)?) => {
        mod on_slapd {
            $( #[tokio::test]
            async fn $name() {
                crate::$module::$name(&crate::fixture::Target::slapd().await).await;
            } )*
        }
        mod on_embedded {
            $( #[tokio::test]
            async fn $name() {
                crate::$module::$name(&crate::fixture::Target::embedded().await).await;
            } )*
        }
    };
}

conformance!(
    suite::add_get_modify_delete,
    suite::search_with_each_filter_kind,
    suite::rename_in_place_and_to_new_superior,
    suite::compare_and_password_check,
    suite::paged_search_beyond_the_size_limit_as_service_account,
    suite::dn_values_are_escaped_end_to_end,
    suite::sorted_searches,
    suite::matching_rules_follow_the_schema,
    suite::conditional_writes,
    suite::fetch_reads_the_dns_asked_for,
    suite_errors::directory_errors_have_stable_codes,
    suite_errors::rename_and_modify_errors,
    suite_errors::hashed_passwords_verify_on_both,
    services::bootstrap_is_idempotent_and_admin_can_log_in,
    services::users_lifecycle,
    services::groups_keep_members_consistent,
    services::concurrent_uid_allocation_never_duplicates,
    services::a_user_becomes_posix_by_update,
    services::recursive_department_delete_cleans_up_memberships,
    services::conditional_writes_catch_a_change_between_read_and_write,
    services::lists_are_cached_and_never_stale,
    services::reads_are_cached_and_never_stale,
    acl::acl_matrix_through_the_core,
    acl::acl_groups_denies_attributes_and_delegation,
    audited::every_write_is_audited,
    systems::systems_round_trip,
    systems::systems_link_dns_and_dhcp_all_or_nothing,
    moves::users_move_between_departments,
    audit::audit_round_trip_and_list,
    audit::audit_records_logins,
    audit::audit_failures_follow_the_protocol,
    dns::dns_zones_and_records_round_trip,
    dns::dns_serial_is_monotonic_with_concurrent_writers,
    dns::dns_zone_file_passes_named_checkzone,
    dhcp::dhcp_tree_round_trip,
    sudo::sudo_rules_crud_validation_and_filters,
    sudo::sudo_defaults_entry,
    sudo::sudo_rules_read_back_by_cvtsudoers,
    ssh_keys::ssh_keys_lifecycle_and_stored_format,
    ssh_keys::ssh_keys_self_service_and_concurrent_writes,
);
