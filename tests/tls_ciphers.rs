//! Cipher strings against OpenSSL 3.0 itself: every string of the corpus goes
//! through `openssl ciphers -V` and through pollux's evaluator, and both must
//! select the same TLS <= 1.2 suites in the same order, or both refuse it.
//! The security-level filter is compared with `openssl ciphers -s -tls1_2`.
//! No pollux process runs: this compares the library with the reference.

use pollux::tls::ciphers::{evaluate, seclevel_allows, tls13_suites, RUSTLS_TLS13};
use std::process::Command;

const DEBIAN_HAPROXY: &str = "ECDH+AESGCM:DH+AESGCM:ECDH+AES256:DH+AES256:ECDH+AES128:DH+AES:\
RSA+AESGCM:RSA+AES:!aNULL:!MD5:!DSS";
const MOZILLA_INTERMEDIATE: &str = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:\
ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:\
ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:\
DHE-RSA-CHACHA20-POLY1305";
const MOZILLA_OLD: &str = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:\
ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:\
ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:\
DHE-RSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256:\
ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA384:ECDHE-RSA-AES256-SHA384:\
ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES256-SHA:DHE-RSA-AES128-SHA256:DHE-RSA-AES256-SHA256:\
AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-SHA256:AES256-SHA256:AES128-SHA:AES256-SHA:\
DES-CBC3-SHA";
const MOZILLA_MODERN_V4: &str = "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:\
ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256:\
ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-SHA384:ECDHE-RSA-AES256-SHA384:\
ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256";
const MOZILLA_INTERMEDIATE_V4: &str = "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:\
ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:\
ECDHE-RSA-AES256-GCM-SHA384:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:\
ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA:\
ECDHE-RSA-AES256-SHA384:ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA384:ECDHE-ECDSA-AES256-SHA:\
ECDHE-RSA-AES256-SHA:DHE-RSA-AES128-SHA256:DHE-RSA-AES128-SHA:DHE-RSA-AES256-SHA256:\
DHE-RSA-AES256-SHA:ECDHE-ECDSA-DES-CBC3-SHA:ECDHE-RSA-DES-CBC3-SHA:EDH-RSA-DES-CBC3-SHA:\
AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-SHA256:AES256-SHA256:AES128-SHA:AES256-SHA:\
DES-CBC3-SHA:!DSS";

/// Strings OpenSSL accepts, from real configurations and odd corners.
const ACCEPTED: &[&str] = &[
    DEBIAN_HAPROXY,
    MOZILLA_INTERMEDIATE,
    MOZILLA_OLD,
    MOZILLA_MODERN_V4,
    MOZILLA_INTERMEDIATE_V4,
    "ECDH+AESGCM:ECDH+CHACHA20:DH+AESGCM:ECDH+AES256:DH+AES256:ECDH+AES128:DH+AES:RSA+AESGCM:RSA+AES:!aNULL:!MD5:!DSS",
    "HIGH:!aNULL:!MD5",
    "HIGH:MEDIUM:!aNULL:!MD5:!RC4",
    "DEFAULT",
    "DEFAULT:!RSA",
    "DEFAULT:@SECLEVEL=2",
    "DEFAULTX",
    "ALL",
    "ALL:@STRENGTH",
    "ALL:COMPLEMENTOFALL",
    "ALL:COMPLEMENTOFALL:@STRENGTH",
    "COMPLEMENTOFDEFAULT",
    "COMPLEMENTOFALL",
    "EECDH+AESGCM:EDH+AESGCM",
    "EECDH+AESGCM:EDH+AESGCM:AES256+EECDH:AES256+EDH",
    "kEECDH+aECDSA+AES128:kEECDH+aRSA+AES128",
    "AESGCM:-aRSA",
    "ALL:-AES:AES256",
    "HIGH:-AES256:AES256",
    "ECDHE:+AES128:+SHA1",
    "AES:+kRSA",
    "CHACHA20:AESGCM:+AES128",
    "TLSv1.2+ECDHE",
    "SHA256:SHA384:!aNULL",
    "aECDSA:aRSA+AES256",
    "ALL:!TLSv1.2",
    "NULL:eNULL",
    "eNULL:@STRENGTH",
    "ALL:!ADH:RC4+RSA:+HIGH:+MEDIUM:+LOW:+SSLv2:+EXP",
    "HIGH;!aNULL,!MD5 !DSS",
    "HIGH!aNULL",
    "PSK",
    "kPSK:aPSK:kRSAPSK:kDHEPSK:kECDHEPSK",
    "SRP:aSRP",
    "CAMELLIA:ARIA:@STRENGTH",
    "ARIA128:ARIA256:ARIAGCM:CAMELLIA128:CAMELLIA256",
    "FIPS",
    "AESCCM8:AESCCM",
    "SSLv3",
    "TLSv1.0:TLSv1",
    "CBC:!SHA1",
    "MEDIUM:HIGH",
    "ECDSA:DSS:+AES256",
    "COMPLEMENTOFDEFAULT+HIGH",
    "HIGH+COMPLEMENTOFDEFAULT",
    "AES128-SHA+HIGH",
    "ECDHE-RSA-AES128-GCM-SHA256+AES128",
    "ECDHE-RSA-AES128-GCM-SHA256+AES256:AES128-SHA",
    "ECDHE-ECDSA-AES128-GCM-SHA256:TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "kRSA:kEDH:kDHE:DH:kEECDH:kECDHE:ECDH",
    "EDH:DHE:EECDH:ECDHE:ADH:AECDH:RSA",
    "MD5:SHA1:SHA:+SHA",
    "ALL:!aNULL:!eNULL:!EXPORT:!DES:!RC4:!3DES:!MD5:!PSK:@STRENGTH",
    "ECDHE+AES:@STRENGTH:+AES128",
    "-ALL:HIGH",
    "!ECDHE:HIGH:ECDHE",
    "HIGH:!SHA1:!SHA256:!SHA384",
    "ALL:@SECLEVEL=0:!kRSA",
    "ECDHE+CHACHA20:ECDHE+AES128:RSA+AES128:ECDHE+AES256:RSA+AES256:ECDHE+3DES:RSA+3DES",
    "AES256+SHA256+kDHE+aDSS",
    "TLSv1.2+TLSv1:HIGH",
    "FOO:BAR:HIGH",
    ":HIGH::",
];

/// Strings OpenSSL refuses: nothing selected, or a malformed item.
const REFUSED: &[&str] = &[
    "",
    "RC4",
    "3DES",
    "FOO",
    "@STRENGTH",
    "HIGH:@FOO",
    "HIGH:@SECLEVEL=6",
    "HIGH:@SECLEVEL=12",
    "AES+",
    "!",
    "HIGH:*",
    "HIGH:_-",
    "HIGH:!HIGH",
    "-HIGH",
    "+HIGH",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "ECDHE+kRSA",
    "TLSv1.2+SSLv3",
    "HIGH:é",
];

/// `openssl ciphers` output as suite names, or None when it refuses.
fn openssl(args: &[&str], spec: &str) -> Option<Vec<String>> {
    openssl_with(args, "", spec)
}

fn openssl_with(args: &[&str], ciphersuites: &str, spec: &str) -> Option<Vec<String>> {
    let out = Command::new("openssl")
        .arg("ciphers")
        .args(args)
        .args(["-ciphersuites", ciphersuites, "--", spec])
        .output()
        .expect("openssl 3.0 is needed to compare cipher strings");
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    Some(
        text.trim()
            .split(':')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
    )
}

/// Whether the reference, OpenSSL 3.0's command line tool, is here. Without
/// it the comparison is skipped with a loud line (and fails in CI).
fn openssl_30() -> bool {
    let out = Command::new("openssl").arg("version").output();
    let v = out
        .map(|o| String::from_utf8_lossy(&o.stdout).to_string())
        .unwrap_or_default();
    if v.starts_with("OpenSSL 3.0.") {
        return true;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "openssl 3.0 is missing in CI, found '{v}'"
    );
    let test = std::thread::current().name().unwrap_or("?").to_string();
    eprintln!(
        "\n*** SKIP: {test}: the reference is OpenSSL 3.0, found '{}' ***\n",
        v.trim()
    );
    false
}

/// A short account of how two results differ.
fn diff(spec: &str, want: &Option<Vec<String>>, got: &Option<Vec<String>>) -> String {
    match (want, got) {
        (Some(w), Some(g)) => {
            let at = w.iter().zip(g).take_while(|(a, b)| a == b).count();
            format!(
                "'{spec}': {} vs {} suites, first difference at #{at}: openssl {:?}, pollux {:?}",
                w.len(),
                g.len(),
                &w[at.min(w.len())..(at + 3).min(w.len())],
                &g[at.min(g.len())..(at + 3).min(g.len())]
            )
        }
        _ => format!("'{spec}': openssl {want:?}, pollux {got:?}"),
    }
}

fn ours(spec: &str) -> Option<Vec<String>> {
    evaluate(spec)
        .ok()
        .map(|l| l.suites.iter().map(|s| s.name.to_string()).collect())
}

#[test]
fn cipher_strings_select_what_openssl_selects() {
    if !openssl_30() {
        return;
    }
    let mut failures = Vec::new();
    for spec in ACCEPTED.iter().chain(REFUSED) {
        let want = openssl(&[], spec);
        let got = ours(spec);
        if want != got {
            failures.push(diff(spec, &want, &got));
        }
    }
    for spec in ACCEPTED {
        assert!(openssl(&[], spec).is_some(), "openssl refuses '{spec}'");
    }
    for spec in REFUSED {
        assert!(openssl(&[], spec).is_none(), "openssl accepts '{spec}'");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// What a TLS 1.2 server would use: OpenSSL's security level filter; PSK and
/// SRP suites are dropped by `-s` too (no callbacks), and by rustls anyway.
#[test]
fn security_levels_filter_like_openssl() {
    if !openssl_30() {
        return;
    }
    let mut failures = Vec::new();
    for base in [
        "ALL:COMPLEMENTOFALL",
        DEBIAN_HAPROXY,
        MOZILLA_OLD,
        "HIGH:!aNULL:!MD5",
    ] {
        for level in 0..=5u8 {
            let spec = format!("{base}:@SECLEVEL={level}");
            let want = openssl(&["-s", "-tls1_2"], &spec);
            let got = evaluate(&spec).ok().map(|l| {
                assert_eq!(l.seclevel, level);
                l.suites
                    .iter()
                    .filter(|s| {
                        seclevel_allows(s, level)
                            && !s.name.contains("PSK")
                            && !s.name.contains("SRP")
                    })
                    .map(|s| s.name.to_string())
                    .collect::<Vec<_>>()
            });
            // `-s` fails when the filter leaves nothing; ours then is empty.
            let got = got.filter(|v| !v.is_empty());
            if want != got {
                failures.push(diff(&spec, &want, &got));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Words, operators and separators for random strings: a fixed-seed corpus
/// reaching combinations nobody would write by hand.
const WORDS: &[&str] = &[
    "ALL",
    "COMPLEMENTOFALL",
    "COMPLEMENTOFDEFAULT",
    "DEFAULT",
    "HIGH",
    "MEDIUM",
    "LOW",
    "FIPS",
    "kRSA",
    "kEDH",
    "kDHE",
    "DH",
    "kEECDH",
    "kECDHE",
    "ECDH",
    "kPSK",
    "kRSAPSK",
    "kECDHEPSK",
    "kDHEPSK",
    "kSRP",
    "aRSA",
    "aDSS",
    "DSS",
    "aNULL",
    "aECDSA",
    "ECDSA",
    "aPSK",
    "aSRP",
    "EDH",
    "DHE",
    "EECDH",
    "ECDHE",
    "NULL",
    "RSA",
    "ADH",
    "AECDH",
    "PSK",
    "SRP",
    "eNULL",
    "AES128",
    "AES256",
    "AES",
    "AESGCM",
    "AESCCM",
    "AESCCM8",
    "CAMELLIA128",
    "CAMELLIA256",
    "CAMELLIA",
    "CHACHA20",
    "ARIA",
    "ARIAGCM",
    "ARIA128",
    "ARIA256",
    "CBC",
    "MD5",
    "SHA1",
    "SHA",
    "SHA256",
    "SHA384",
    "SSLv3",
    "TLSv1",
    "TLSv1.0",
    "TLSv1.2",
    "3DES",
    "RC4",
    "SEED",
    "GOST89",
    "FOO",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    "AES128-SHA",
    "DHE-RSA-AES256-SHA256",
    "PSK-AES128-CCM8",
    "SRP-AES-128-CBC-SHA",
    "NULL-SHA256",
    "ADH-AES128-SHA",
    "ECDHE-PSK-NULL-SHA",
    "DES-CBC3-SHA",
    "EDH-RSA-DES-CBC3-SHA",
];

#[test]
fn random_cipher_strings_select_what_openssl_selects() {
    if !openssl_30() {
        return;
    }
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = |n: usize| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((seed >> 33) as usize) % n
    };
    let mut failures = Vec::new();
    for _ in 0..300 {
        let mut spec = String::new();
        for i in 0..1 + next(6) {
            if i > 0 {
                spec.push([':', ':', ',', ';', ' '][next(5)]);
            }
            if next(12) == 0 {
                spec.push_str(["@STRENGTH", "@SECLEVEL=3", "@SECLEVEL=0"][next(3)]);
                continue;
            }
            spec.push_str(["", "", "", "!", "-", "+"][next(6)]);
            for j in 0..[1, 1, 1, 2, 2, 3][next(6)] {
                if j > 0 {
                    spec.push('+');
                }
                spec.push_str(WORDS[next(WORDS.len())]);
            }
        }
        let (want, got) = (openssl(&[], &spec), ours(&spec));
        if want != got {
            failures.push(diff(&spec, &want, &got));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// TLS 1.3 `ciphersuites`: what `openssl ciphers -s -tls1_3` keeps, split
/// into what rustls offers and what it does not, both in OpenSSL's order.
#[test]
fn tls13_ciphersuites_select_what_openssl_selects() {
    if !openssl_30() {
        return;
    }
    let mut failures = Vec::new();
    for spec in [
        "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256",
        "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256",
        "TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256:TLS_AES_256_GCM_SHA384",
        " TLS_AES_128_GCM_SHA256 : FOO ::TLS_AES_256_GCM_SHA384",
        "TLS_AES_128_GCM_SHA256:TLS_AES_128_GCM_SHA256",
        "FOO:BAR",
        "tls_aes_128_gcm_sha256",
    ] {
        for level in [1u8, 4] {
            let want = openssl_with(&["-s", "-tls1_3"], spec, &format!("HIGH:@SECLEVEL={level}"));
            let got = tls13_suites(spec, level)
                .ok()
                .map(|s| (s.offered, s.unavailable));
            let ok = match (&want, &got) {
                (None, None) => true,
                (Some(w), Some((offered, unavailable))) => {
                    let mut w = w.clone();
                    w.dedup();
                    let (o, u): (Vec<String>, Vec<String>) = w
                        .into_iter()
                        .partition(|n| RUSTLS_TLS13.contains(&n.as_str()));
                    o == *offered && u == *unavailable
                }
                // `-s` refuses an empty result that the parser accepted.
                (None, Some((o, u))) => o.is_empty() && u.is_empty(),
                _ => false,
            };
            if !ok {
                failures.push(format!(
                    "'{spec}' @SECLEVEL={level}: openssl {want:?}, pollux {got:?}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
