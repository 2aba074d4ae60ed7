//! Cipher string evaluation and the mapping onto rustls. The comparison with
//! OpenSSL itself over a large corpus is tests/tls_ciphers.rs.

use super::*;

fn names(spec: &str) -> Vec<&'static str> {
    evaluate(spec)
        .unwrap()
        .suites
        .iter()
        .map(|s| s.name)
        .collect()
}

const DEBIAN: &str = "ECDH+AESGCM:DH+AESGCM:ECDH+AES256:DH+AES256:ECDH+AES128:DH+AES:\
RSA+AESGCM:RSA+AES:!aNULL:!MD5:!DSS";

#[test]
fn table_is_consistent() {
    // Collect order: decreasing id, each suite once, names unique.
    assert!(SUITES.windows(2).all(|w| w[0].id > w[1].id));
    for s in SUITES {
        assert_eq!(SUITES.iter().filter(|o| o.name == s.name).count(), 1);
        assert!(s.iana.starts_with("TLS_"), "{}", s.iana);
    }
    for n in RUSTLS_TLS12 {
        let s = SUITES.iter().find(|s| s.iana == *n).unwrap();
        assert!(s.kx == K_ECDHE && s.mac == M_AEAD && s.min_tls == V_TLS12);
    }
}

#[test]
fn default_order_starts_like_openssl() {
    assert_eq!(
        names("DEFAULT")[..9],
        [
            "ECDHE-ECDSA-AES256-GCM-SHA384",
            "ECDHE-RSA-AES256-GCM-SHA384",
            "DHE-RSA-AES256-GCM-SHA384",
            "ECDHE-ECDSA-CHACHA20-POLY1305",
            "ECDHE-RSA-CHACHA20-POLY1305",
            "DHE-RSA-CHACHA20-POLY1305",
            "ECDHE-ECDSA-AES128-GCM-SHA256",
            "ECDHE-RSA-AES128-GCM-SHA256",
            "DHE-RSA-AES128-GCM-SHA256",
        ]
    );
    // DEFAULT leaves out anonymous, NOT_DEFAULT (DSS, CCM, ARIA...) and NULL.
    let d = evaluate("DEFAULT").unwrap();
    assert!(d
        .suites
        .iter()
        .all(|s| s.auth != A_NULL && s.enc != E_NULL && s.strength & S_NOT_DEFAULT == 0));
    assert_eq!(d.seclevel, DEFAULT_SECLEVEL);
}

#[test]
fn operators() {
    // Explicit names keep the written order.
    assert_eq!(
        names("AES128-SHA:ECDHE-RSA-AES128-GCM-SHA256"),
        ["AES128-SHA", "ECDHE-RSA-AES128-GCM-SHA256"]
    );
    // `+` moves to the end, `-` removes but a later add restores, `!` bans.
    assert_eq!(
        names("ECDHE-RSA-AES128-GCM-SHA256:AES128-SHA:ECDHE-RSA-AES256-GCM-SHA384:+AES128-SHA"),
        [
            "ECDHE-RSA-AES128-GCM-SHA256",
            "ECDHE-RSA-AES256-GCM-SHA384",
            "AES128-SHA"
        ]
    );
    assert_eq!(
        names("AES128-SHA:AES256-SHA:-AES128-SHA:AES128-SHA"),
        ["AES256-SHA", "AES128-SHA"]
    );
    assert_eq!(
        names("AES128-SHA:!AES128-SHA:AES128-SHA:AES256-SHA"),
        ["AES256-SHA"]
    );
    // Intersections, and an empty one skips the whole item.
    assert_eq!(
        names("ECDHE+aECDSA+AES128+SHA256"),
        ["ECDHE-ECDSA-AES128-SHA256"]
    );
    assert_eq!(names("ECDHE+kRSA:AES128-SHA"), ["AES128-SHA"]);
    // @STRENGTH: 256-bit suites before 128-bit ones, ties kept.
    let s = names("AES128-SHA:AES256-SHA:AES128-SHA256:@STRENGTH");
    assert_eq!(s, ["AES256-SHA", "AES128-SHA", "AES128-SHA256"]);
    // Separators and unknown words.
    assert_eq!(
        names("FOO, AES256-SHA;3DES AES128-SHA"),
        ["AES256-SHA", "AES128-SHA"]
    );
    // TLSv1.2 is a protocol class; ALL excludes eNULL.
    assert!(evaluate("TLSv1.2")
        .unwrap()
        .suites
        .iter()
        .all(|s| s.min_tls == V_TLS12));
    assert!(evaluate("ALL")
        .unwrap()
        .suites
        .iter()
        .all(|s| s.enc != E_NULL));
    assert_eq!(
        evaluate("ALL:COMPLEMENTOFALL").unwrap().suites.len(),
        SUITES.len()
    );
}

#[test]
fn seclevel() {
    assert_eq!(evaluate("HIGH:@SECLEVEL=3").unwrap().seclevel, 3);
    assert_eq!(
        evaluate("@SECLEVEL=0:HIGH:@SECLEVEL=5").unwrap().seclevel,
        5
    );
    let aes128 = SUITES
        .iter()
        .find(|s| s.name == "ECDHE-RSA-AES128-GCM-SHA256")
        .unwrap();
    let sha1 = SUITES
        .iter()
        .find(|s| s.name == "ECDHE-RSA-AES256-SHA")
        .unwrap();
    let rsa = SUITES
        .iter()
        .find(|s| s.name == "AES256-GCM-SHA384")
        .unwrap();
    let adh = SUITES
        .iter()
        .find(|s| s.name == "ADH-AES256-GCM-SHA384")
        .unwrap();
    assert!(seclevel_allows(aes128, 3) && !seclevel_allows(aes128, 4));
    assert!(seclevel_allows(sha1, 3) && !seclevel_allows(sha1, 4));
    assert!(seclevel_allows(rsa, 2) && !seclevel_allows(rsa, 3));
    assert!(seclevel_allows(adh, 0) && !seclevel_allows(adh, 1));
}

#[test]
fn errors() {
    for (spec, want) in [
        ("", "no cipher match"),
        ("RC4:3DES:FOO", "no cipher match"),
        ("HIGH:!HIGH", "no cipher match"),
        ("HIGH:*", "unexpected character '*'"),
        ("AES+", "missing name at the end"),
        ("!", "missing name"),
        ("HIGH:é", "unexpected character"),
        ("HIGH:@FOO", "unknown command '@FOO'"),
        ("HIGH:@SECLEVEL=6", "unknown command '@SECLEVEL=6'"),
        ("HIGH:@SECLEVEL=", "unknown command"),
        ("SUITEB128", "Suite B mode 'SUITEB128' is not supported yet"),
        (
            "SUITEB192:HIGH",
            "Suite B mode 'SUITEB192' is not supported yet",
        ),
    ] {
        let e = evaluate(spec).unwrap_err();
        assert!(e.contains(want), "'{spec}': {e}");
    }
    // A string NUL-terminated early, like C reads it.
    assert_eq!(names("AES256-SHA\0:AES128-SHA"), ["AES256-SHA"]);
}

#[test]
fn never_panics_on_odd_input() {
    let pieces = [
        "",
        "+",
        "-",
        "!",
        "@",
        ":",
        "HIGH",
        "AES+",
        "é",
        "\0",
        "=",
        ".",
        "@SECLEVEL=9",
    ];
    for a in pieces {
        for b in pieces {
            for c in pieces {
                let s = format!("{a}{b}{c}");
                let _ = evaluate(&s);
                let _ = tls12_suites(&s);
                let _ = tls13_suites(&s, 2);
            }
        }
    }
}

#[test]
fn rustls_mapping_of_common_strings() {
    let sel = tls12_suites(DEBIAN).unwrap();
    assert_eq!(
        sel.offered,
        [
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        ]
    );
    assert_eq!(
        sel.unavailable[..3],
        [
            "DHE-RSA-AES256-GCM-SHA384",
            "DHE-RSA-AES128-GCM-SHA256",
            "ECDHE-ECDSA-AES256-CCM8"
        ]
    );
    assert!(sel.unavailable.contains(&"AES128-SHA"));

    let intermediate = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:\
ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:\
ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:\
DHE-RSA-CHACHA20-POLY1305";
    let sel = tls12_suites(intermediate).unwrap();
    assert_eq!(
        sel.offered,
        [
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        ]
    );
    assert_eq!(
        sel.unavailable,
        [
            "DHE-RSA-AES128-GCM-SHA256",
            "DHE-RSA-AES256-GCM-SHA384",
            "DHE-RSA-CHACHA20-POLY1305"
        ]
    );
    let w = sel.warning("ciphers", intermediate).unwrap();
    assert!(w.starts_with("ciphers 'ECDHE-ECDSA-AES128"), "{w}");
    assert!(
        w.contains(": 3 suites selected cannot be offered by rustls"),
        "{w}"
    );
    assert!(w.ends_with("; offering TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256:TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256:TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384:TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384:TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256:TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"), "{w}");

    // The six suites rustls has, DEFAULT order: no warning.
    let sel = tls12_suites("ECDHE+AESGCM:ECDHE+CHACHA20").unwrap();
    assert_eq!(sel.offered.len(), 6);
    assert!(sel.unavailable.is_empty());
    assert_eq!(sel.warning("ciphers", "x"), None);

    // Only CBC and static RSA: nothing offered, all reported.
    let sel = tls12_suites("AES128-SHA:AES256-GCM-SHA384").unwrap();
    assert!(sel.offered.is_empty());
    assert_eq!(sel.unavailable, ["AES128-SHA", "AES256-GCM-SHA384"]);
    assert!(sel
        .warning("ciphers", "x")
        .unwrap()
        .ends_with("; offering none"));

    // @SECLEVEL=4 forbids 128-bit suites; HIGH:!aNULL:!MD5 keeps the rest.
    let sel = tls12_suites("ECDHE+AESGCM:@SECLEVEL=4").unwrap();
    assert_eq!(
        sel.offered,
        [
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"
        ]
    );
    assert_eq!(sel.seclevel, 4);
    assert_eq!(tls12_suites("HIGH:!aNULL:!MD5").unwrap().offered.len(), 6);
    assert!(tls12_suites("RC4").is_err());
}

#[test]
fn tls13_ciphersuites() {
    let sel = tls13_suites("TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256", 2).unwrap();
    assert_eq!(
        sel.offered,
        ["TLS_AES_128_GCM_SHA256", "TLS_CHACHA20_POLY1305_SHA256"]
    );
    assert!(sel.unavailable.is_empty());
    // OpenSSL's default list, blanks and empty items, duplicates once.
    let sel = tls13_suites(
        " TLS_AES_256_GCM_SHA384 ::TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384",
        1,
    )
    .unwrap();
    assert_eq!(
        sel.offered,
        [
            "TLS_AES_256_GCM_SHA384",
            "TLS_CHACHA20_POLY1305_SHA256",
            "TLS_AES_128_GCM_SHA256"
        ]
    );
    // Unknown names are skipped; CCM is known but not in rustls.
    let sel = tls13_suites("FOO:TLS_AES_128_CCM_SHA256:TLS_AES_128_GCM_SHA256", 1).unwrap();
    assert_eq!(sel.offered, ["TLS_AES_128_GCM_SHA256"]);
    assert_eq!(sel.unavailable, ["TLS_AES_128_CCM_SHA256"]);
    // The security level applies: 128-bit suites are below level 4.
    let sel = tls13_suites(
        "TLS_AES_128_CCM_8_SHA256:TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384",
        4,
    )
    .unwrap();
    assert_eq!(sel.offered, ["TLS_AES_256_GCM_SHA384"]);
    assert!(sel.unavailable.is_empty());
    // Empty disables TLS 1.3; nothing known is an error.
    assert!(tls13_suites("", 1).unwrap().offered.is_empty());
    let e = tls13_suites("FOO:BAR", 1).unwrap_err();
    assert!(e.contains("no cipher match"), "{e}");
    let e = tls13_suites("ECDHE-RSA-AES128-GCM-SHA256", 1).unwrap_err();
    assert!(e.contains("names no TLS 1.3 cipher suite"), "{e}");
    // OpenSSL takes a TLS 1.2 IANA name here; useless for TLS 1.3.
    let sel = tls13_suites("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", 1).unwrap();
    assert!(sel.offered.is_empty());
    assert_eq!(sel.unavailable, ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"]);
}
