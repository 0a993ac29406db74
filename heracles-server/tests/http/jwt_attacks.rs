//! Token attacks (issue 9): hand-made JWTs against the real server, all refused with 401
//! `UNAUTHENTICATED` in the error envelope — `alg: none` in every spelling, another
//! secret, algorithm confusion (RS/PS/ES/EdDSA headers signed by HMAC with the server's
//! own secret, HS384/HS512 with the right secret: verification is pinned to HS256), expired
//! by one second (no leeway), not yet valid, wrong `aud`/`iss`, each claim missing, claims of
//! the wrong type, values that would be LDAP injections in `sid`/`sub`, and malformed
//! tokens (truncated, bad base64, extra parts, JSON that is not an object). Tokens are
//! built by hand (base64url + jsonwebtoken's HMAC), and one built the same way with the
//! right secret and claims is accepted — so each refusal is about its one defect. Also:
//! after logout neither the tokens nor a token re-signed for the same session work, on
//! any route; a reused refresh token kills the session (SPEC §2). `auth.rs` covers the
//! basics (expired, immature, none, foreign secret, rotation, refresh reuse).

// Corpora read best as one list each.
#![allow(clippy::too_many_lines)]

use base64ct::{Base64UrlUnpadded, Encoding};
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{json, Value};

use crate::blackbox::{call, ADMIN_PW};
use crate::support::{Resp, Server, JWT_SECRET};

fn b64(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

/// `header.claims.signature`, HMAC-signed with `secret` by `alg` (an HS algorithm).
fn hmac_token(header: &Value, claims: &Value, secret: &str, alg: Algorithm) -> String {
    let message = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let key = EncodingKey::from_secret(secret.as_bytes()).unwrap();
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), &key, alg).unwrap();
    format!("{message}.{signature}")
}

fn hs256(claims: &Value) -> String {
    hmac_token(
        &json!({"alg": "HS256", "typ": "JWT"}),
        claims,
        JWT_SECRET,
        Algorithm::HS256,
    )
}

/// The claims of a real token.
fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&Base64UrlUnpadded::decode_vec(payload).unwrap()).unwrap()
}

fn now() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

fn me(s: &Server, token: &str) -> Resp {
    call(s, "GET", "/api/v1/auth/me", Some(token), None, &[])
}

fn refresh(s: &Server, token: &Value) -> Resp {
    call(
        s,
        "POST",
        "/api/v1/auth/refresh",
        None,
        Some(&json!({ "refresh_token": token })),
        &[],
    )
}

fn assert_401(r: &Resp, what: &str) {
    assert_eq!(r.status, 401, "{what}: {}", r.text());
    let v = r.assert_error(401, "UNAUTHENTICATED");
    assert!(v["error"]["message"].is_string(), "{what}");
}

/// Variants of valid `claims` (of type `typ`), each wrong in one way.
fn bad_claims(claims: &Value) -> Vec<(String, Value)> {
    let t = now();
    let with = |k: &str, v: Value| {
        let mut c = claims.clone();
        c[k] = v;
        c
    };
    let mut out = vec![
        ("exp one second ago".into(), with("exp", json!(t - 1))),
        ("exp an hour ago".into(), with("exp", json!(t - 3600))),
        ("exp 0".into(), with("exp", json!(0))),
        ("exp negative".into(), with("exp", json!(-1))),
        ("exp as a string".into(), with("exp", json!("99999999999"))),
        ("exp as a float".into(), with("exp", json!(1e30))),
        ("nbf a minute ahead".into(), with("nbf", json!(t + 60))),
        (
            "nbf and iat a day ahead".into(),
            with("iat", json!(t + 86400)),
        ),
        ("aud of another API".into(), with("aud", json!("other-api"))),
        ("aud as a list".into(), with("aud", json!(["other-api"]))),
        ("aud empty".into(), with("aud", json!(""))),
        ("iss of someone else".into(), with("iss", json!("evil"))),
        ("iss in other case".into(), with("iss", json!("Heracles"))),
        ("iss null".into(), with("iss", Value::Null)),
        ("typ unknown".into(), with("typ", json!("admin"))),
        ("typ null".into(), with("typ", Value::Null)),
        ("sid unknown".into(), with("sid", json!("0".repeat(32)))),
        ("sid empty".into(), with("sid", json!(""))),
        ("sid a filter".into(), with("sid", json!("*"))),
        (
            "sid an injection".into(),
            with("sid", json!("*)(objectClass=*")),
        ),
        (
            "sid a DN".into(),
            with("sid", json!("ou=sessions,ou=heracles,dc=example,dc=com")),
        ),
        ("sid a number".into(), with("sid", json!(5))),
        ("sub a number".into(), with("sub", json!(5))),
    ];
    // The second "nbf" case needs nbf ahead too (iat alone is not checked).
    out[7].1["nbf"] = json!(t + 86400);
    for k in [
        "sub", "uid", "iat", "exp", "nbf", "jti", "typ", "iss", "aud", "sid",
    ] {
        let mut c = claims.clone();
        c.as_object_mut().unwrap().remove(k);
        out.push((format!("without {k}"), c));
    }
    out
}

/// Tokens with the right claims but a header or signature the server must refuse.
fn bad_signatures(claims: &Value) -> Vec<(String, String)> {
    let payload = b64(claims.to_string().as_bytes());
    let good = hs256(claims);
    let signature = good.split('.').nth(2).unwrap().to_owned();
    let mut out = Vec::new();
    for alg in ["none", "None", "NONE", "nOnE"] {
        let header = b64(json!({"alg": alg, "typ": "JWT"}).to_string().as_bytes());
        out.push((
            format!("alg {alg}, no signature"),
            format!("{header}.{payload}."),
        ));
        out.push((
            format!("alg {alg}, no signature part"),
            format!("{header}.{payload}"),
        ));
        out.push((
            format!("alg {alg}, a valid HS256 signature"),
            format!("{header}.{payload}.{signature}"),
        ));
    }
    // Algorithm confusion: an asymmetric algorithm in the header, HMAC-signed with the
    // server's secret (as if the secret were the public key).
    for alg in [
        "RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA",
    ] {
        out.push((
            format!("{alg} header, HMAC by the server's secret"),
            hmac_token(
                &json!({"alg": alg, "typ": "JWT"}),
                claims,
                JWT_SECRET,
                Algorithm::HS256,
            ),
        ));
        let header = b64(json!({"alg": alg, "typ": "JWT"}).to_string().as_bytes());
        let junk = b64(&[7u8; 256]);
        out.push((
            format!("{alg} header, a made-up signature"),
            format!("{header}.{payload}.{junk}"),
        ));
    }
    // Other HMAC algorithms with the right secret: pinned to HS256.
    for alg in [Algorithm::HS384, Algorithm::HS512] {
        out.push((
            format!("{alg:?} with the server's secret"),
            hmac_token(
                &json!({"alg": format!("{alg:?}"), "typ": "JWT"}),
                claims,
                JWT_SECRET,
                alg,
            ),
        ));
    }
    // Another secret; the right secret with a suffix, a prefix, one byte.
    let suffixed = format!("{JWT_SECRET}x");
    for (what, secret) in [
        ("another secret", "another-secret-another-secret-0123456"),
        ("the secret with a suffix", suffixed.as_str()),
        ("a prefix of the secret", &JWT_SECRET[..20]),
        ("a one-byte secret", "x"),
    ] {
        out.push((
            format!("HS256 by {what}"),
            hmac_token(
                &json!({"alg": "HS256", "typ": "JWT"}),
                claims,
                secret,
                Algorithm::HS256,
            ),
        ));
    }
    // A header that asks for a key from elsewhere, or carries extra fields.
    out.push((
        "jku/jwk/kid headers with a foreign key".into(),
        hmac_token(
            &json!({"alg": "HS256", "typ": "JWT", "kid": "../../dev/null",
                    "jku": "http://evil.example/keys",
                    "jwk": {"kty": "oct", "k": b64(b"evil")}}),
            claims,
            "evil",
            Algorithm::HS256,
        ),
    ));
    // The payload of another token under this signature.
    let mut other = claims.clone();
    other["uid"] = json!("someone-else");
    out.push((
        "signature of other claims".into(),
        format!(
            "{}.{}.{signature}",
            good.split('.').next().unwrap(),
            b64(other.to_string().as_bytes())
        ),
    ));
    // Malformed tokens.
    let (h, p) = (good.split('.').next().unwrap(), payload.as_str());
    for (what, token) in [
        ("empty", String::new()),
        ("one dot", ".".into()),
        ("two dots", "..".into()),
        ("three parts of nothing", "a.b.c".into()),
        ("header only", h.to_owned()),
        ("truncated", good[..good.len() - 5].to_owned()),
        (
            "signature cut off",
            good[..good.rfind('.').unwrap()].to_owned(),
        ),
        ("an extra part", format!("{good}.x")),
        ("padded base64", format!("{h}==.{p}.{signature}")),
        (
            "standard base64 alphabet",
            good.replace('-', "+").replace('_', "/") + "+/",
        ),
        ("invalid base64", format!("{h}.{p}!!.{signature}")),
        ("not JSON", format!("{h}.{}.{signature}", b64(b"not json"))),
        (
            "a JSON array",
            hmac_token(
                &json!({"alg": "HS256"}),
                &json!([1, 2]),
                JWT_SECRET,
                Algorithm::HS256,
            ),
        ),
        (
            "JSON null",
            hmac_token(
                &json!({"alg": "HS256"}),
                &Value::Null,
                JWT_SECRET,
                Algorithm::HS256,
            ),
        ),
        (
            "a header that is not JSON",
            format!("{}.{p}.{signature}", b64(b"{alg")),
        ),
        ("8 KiB of junk", "A".repeat(8192)),
        ("8 KiB of dots", ".".repeat(8192)),
    ] {
        out.push((format!("malformed: {what}"), token));
    }
    out
}

#[test]
fn forged_and_malformed_tokens_are_refused() {
    let s = Server::start_env(
        &["--jwt-secret", JWT_SECRET],
        &[("HERACLES_ADMIN_PASSWORD", ADMIN_PW)],
    );
    let r = crate::blackbox::login(&s, "admin", ADMIN_PW);
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    let access = v["access_token"].as_str().unwrap().to_owned();
    let refresh_token = v["refresh_token"].as_str().unwrap().to_owned();
    let access_claims = claims_of(&access);
    let refresh_claims = claims_of(&refresh_token);
    assert_eq!(access_claims["typ"], "access");
    assert_eq!(refresh_claims["typ"], "refresh");

    // The hand-made tokens are right when nothing is wrong with them: each refusal below
    // is about its one defect.
    let r = me(&s, &hs256(&access_claims));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["uid"], "admin");

    let mut refused = 0;
    for (what, claims) in bad_claims(&access_claims) {
        let token = hs256(&claims);
        assert_401(&me(&s, &token), &format!("access, {what}"));
        assert_401(
            &call(&s, "GET", "/api/v1/users", Some(&token), None, &[]),
            &format!("access on /users, {what}"),
        );
        refused += 1;
    }
    for (what, token) in bad_signatures(&access_claims) {
        assert_401(&me(&s, &token), &format!("access, {what}"));
        refused += 1;
    }
    // The same attacks on /auth/refresh, with refresh claims.
    for (what, claims) in bad_claims(&refresh_claims) {
        assert_401(
            &refresh(&s, &json!(hs256(&claims))),
            &format!("refresh, {what}"),
        );
        refused += 1;
    }
    for (what, token) in bad_signatures(&refresh_claims) {
        assert_401(&refresh(&s, &json!(token)), &format!("refresh, {what}"));
        refused += 1;
    }
    assert!(refused > 100, "{refused}");
    // A refresh token is not a bearer token on any route, nor an access token a refresh
    // token (auth.rs checks /auth/me; here a resource route and forged types).
    assert_401(
        &call(&s, "GET", "/api/v1/users", Some(&refresh_token), None, &[]),
        "a refresh token as bearer",
    );
    // Authorization headers that are not one bearer token.
    for header in [
        format!("Bearer {access} {access}"),
        format!("Bearer {access},{access}"),
        format!("Token {access}"),
        format!("Basic {access}"),
        "Bearer".to_owned(),
        "Bearer ".to_owned(),
        access.clone(),
    ] {
        let r = call(
            &s,
            "GET",
            "/api/v1/auth/me",
            None,
            None,
            &[("Authorization", &header)],
        );
        assert_401(&r, &header);
    }
    // Nothing above harmed the real session.
    assert_eq!(me(&s, &access).status, 200);
    let mut as_refresh = access_claims.clone();
    as_refresh["typ"] = json!("refresh");
    assert_401(
        &refresh(&s, &json!(hs256(&as_refresh))),
        "access claims typed refresh",
    );
    // A correctly signed refresh token of the session whose jti is not the current one
    // counts as the reuse of a spent token: the session is revoked.
    assert_401(&me(&s, &access), "after a refresh with a stale jti");
    let (access, refresh_token) = {
        let v = crate::blackbox::login(&s, "admin", ADMIN_PW).json();
        (
            v["access_token"].as_str().unwrap().to_owned(),
            v["refresh_token"].as_str().unwrap().to_owned(),
        )
    };
    let access_claims = claims_of(&access);

    // Logout: the tokens, and any token for that session — even correctly signed with a
    // new jti and lifetime — stop working on every route.
    let r = call(&s, "POST", "/api/v1/auth/logout", Some(&access), None, &[]);
    assert_eq!(r.status, 204, "{}", r.text());
    let mut fresh = access_claims.clone();
    fresh["jti"] = json!("another-jti");
    fresh["iat"] = json!(now());
    fresh["nbf"] = json!(now());
    fresh["exp"] = json!(now() + 600);
    for token in [access.clone(), hs256(&fresh)] {
        assert_401(&me(&s, &token), "after logout");
        for path in ["/api/v1/users", "/api/v1/groups", "/api/v1/acl/policies"] {
            assert_401(
                &call(&s, "GET", path, Some(&token), None, &[]),
                &format!("{path} after logout"),
            );
        }
        assert_401(
            &call(&s, "POST", "/api/v1/auth/logout", Some(&token), None, &[]),
            "logout after logout",
        );
    }
    assert_401(&refresh(&s, &json!(refresh_token)), "refresh after logout");
    // Bodies of the wrong shape are validation errors, not crashes.
    for body in [json!(5), json!(null), json!(["x"]), json!({"x": 1})] {
        let r = refresh(&s, &body);
        assert!(matches!(r.status, 400 | 401), "{body}: {}", r.text());
        assert!(r.json()["error"]["code"].is_string(), "{}", r.text());
    }
    assert!(!s.stderr().contains("panicked"), "{}", s.stderr());
}

#[test]
fn a_reused_refresh_token_revokes_every_token_of_the_session() {
    let s = Server::start_env(
        &["--jwt-secret", JWT_SECRET],
        &[("HERACLES_ADMIN_PASSWORD", ADMIN_PW)],
    );
    let r = crate::blackbox::login(&s, "admin", ADMIN_PW);
    let v = r.json();
    let access1 = v["access_token"].as_str().unwrap().to_owned();
    let refresh1 = v["refresh_token"].as_str().unwrap().to_owned();
    // A second, independent session of the same user.
    let other = crate::blackbox::token(&s, "admin", ADMIN_PW);

    let r = refresh(&s, &json!(refresh1));
    assert_eq!(r.status, 200, "{}", r.text());
    let access2 = r.json()["access_token"].as_str().unwrap().to_owned();
    let refresh2 = r.json()["refresh_token"].as_str().unwrap().to_owned();
    // The spent token again: 401, and the session is gone — even a token correctly signed
    // for it later is refused.
    assert_401(&refresh(&s, &json!(refresh1)), "reuse");
    let mut forged = claims_of(&access2);
    forged["jti"] = json!("after-reuse");
    for token in [&access1, &access2, &hs256(&forged)] {
        assert_401(&me(&s, token), "a token of the revoked session");
        assert_401(
            &call(&s, "GET", "/api/v1/users", Some(token), None, &[]),
            "a token of the revoked session on /users",
        );
    }
    assert_401(&refresh(&s, &json!(refresh2)), "the rotated refresh token");
    // The other session is untouched.
    assert_eq!(me(&s, &other).status, 200);
}
