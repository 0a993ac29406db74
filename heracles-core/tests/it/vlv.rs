//! The sort and VLV control encodings against the project's slapd (sssvlv overlay): a
//! sorted window of a search, and the responses decoded.

use heracles_core::directory::ldap::controls::{
    decode_sort_response, decode_vlv_response, sort_request, SortKeySpec, VlvRequest,
    SORT_REQUEST_OID, SORT_RESPONSE_OID, VLV_REQUEST_OID, VLV_RESPONSE_OID,
};
use heracles_core::directory::{Directory, Entry};
use heracles_core::dn::Rdn;
use ldap3::controls::RawControl;
use ldap3::{LdapConnAsync, Scope, SearchEntry};

use crate::fixture::{sandbox, Slapd};

#[tokio::test]
async fn slapd_answers_our_sort_and_vlv_controls() {
    let slapd = Slapd::shared();
    let dir = slapd.service().await;
    let base = slapd.base();
    let ou = sandbox(&dir, &base, "vlv").await;
    for i in 0..30u32 {
        let uid = format!("v{:02}", (i * 7) % 30);
        dir.add(
            &Entry::new(ou.child(Rdn::new("uid", &uid).unwrap()))
                .with("objectClass", ["inetOrgPerson"])
                .with("uid", [uid.as_str()])
                .with("cn", [uid.as_str()])
                .with("sn", ["x"]),
        )
        .await
        .unwrap();
    }
    let (conn, mut ldap) = LdapConnAsync::new(slapd.get("LDAP_URI")).await.unwrap();
    ldap3::drive!(conn);
    ldap.simple_bind(slapd.get("SERVICE_DN"), slapd.get("SERVICE_PW"))
        .await
        .unwrap()
        .success()
        .unwrap();
    // Entries 11..15 (1-based offset 11, 5 of them) of the uids sorted descending.
    let controls = vec![
        RawControl {
            ctype: SORT_REQUEST_OID.into(),
            crit: true,
            // uid has no ORDERING rule of its own: name one (slapd: 18 otherwise).
            val: Some(sort_request(&[SortKeySpec::new("uid")
                .ordering_rule("caseIgnoreOrderingMatch")
                .reverse()])),
        },
        RawControl {
            ctype: VLV_REQUEST_OID.into(),
            crit: true,
            val: Some(VlvRequest::page(10, 5).encode()),
        },
    ];
    let (entries, result) = ldap
        .with_controls(controls)
        .search(
            &ou.to_string(),
            Scope::OneLevel,
            "(objectClass=inetOrgPerson)",
            vec!["uid"],
        )
        .await
        .unwrap()
        .success()
        .unwrap();
    let uids: Vec<String> = entries
        .into_iter()
        .map(|e| SearchEntry::construct(e).attrs["uid"][0].clone())
        .collect();
    assert_eq!(uids, ["v19", "v18", "v17", "v16", "v15"]);
    let sort = result
        .ctrls
        .iter()
        .find(|c| c.1.ctype == SORT_RESPONSE_OID)
        .and_then(|c| c.1.val.as_deref())
        .map(decode_sort_response)
        .expect("a sort response")
        .unwrap();
    assert_eq!(sort.result, 0);
    let vlv = result
        .ctrls
        .iter()
        .find(|c| c.1.ctype == VLV_RESPONSE_OID)
        .and_then(|c| c.1.val.as_deref())
        .map(decode_vlv_response)
        .expect("a VLV response")
        .unwrap();
    assert_eq!(
        (vlv.result, vlv.target_position, vlv.content_count),
        (0, 11, 30)
    );
    ldap.unbind().await.unwrap();
    for i in 0..30u32 {
        dir.delete(&ou.child(Rdn::new("uid", &format!("v{i:02}")).unwrap()))
            .await
            .unwrap();
    }
    dir.delete(&ou).await.unwrap();
}
