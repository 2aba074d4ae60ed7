//! Certificates made at test time with the `openssl` CLI (nothing secret
//! in the repository): a CA, server certificates signed by it in HAProxy's
//! one-file layout (certificate, CA, key), OCSP responses for them, and
//! the serial number a TLS client was served.

use super::TestDir;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// Runs `openssl ARGS` in `dir`; panics with its stderr on failure.
pub fn openssl(dir: &TestDir, args: &[&str]) -> String {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .output()
        .expect("openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A CA in a test directory, which signs server certificates.
pub struct Ca<'a> {
    pub dir: &'a TestDir,
    /// The CA certificate, PEM (for clients' `--cacert`).
    pub pem: PathBuf,
}

impl<'a> Ca<'a> {
    pub fn new(dir: &'a TestDir) -> Ca<'a> {
        openssl(
            dir,
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "2",
                "-subj",
                "/CN=pollux test CA",
            ],
        );
        Ca {
            dir,
            pem: dir.join("ca.pem"),
        }
    }

    /// A P-256 certificate for `dns` (its SAN), as `NAME.pem` holding the
    /// certificate, the CA and the key; `NAME.crt` holds the certificate
    /// alone. Returns the `.pem` path.
    pub fn issue(&self, name: &str, dns: &str) -> PathBuf {
        let (key, csr, crt) = (
            format!("{name}.key"),
            format!("{name}.csr"),
            format!("{name}.crt"),
        );
        openssl(
            self.dir,
            &[
                "req",
                "-new",
                "-nodes",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-keyout",
                &key,
                "-out",
                &csr,
                "-subj",
                "/CN=test",
            ],
        );
        let ext = self.dir.write(
            &format!("{name}.ext"),
            &format!("subjectAltName=DNS:{dns}\n"),
        );
        openssl(
            self.dir,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                &crt,
                "-days",
                "2",
                "-extfile",
                ext.to_str().unwrap(),
            ],
        );
        let read = |f: &str| std::fs::read_to_string(self.dir.join(f)).unwrap();
        self.dir.write(
            &format!("{name}.pem"),
            &(read(&crt) + &read("ca.pem") + &read(&key)),
        )
    }

    /// The serial number of certificate `NAME`, as openssl prints it.
    pub fn serial(&self, name: &str) -> String {
        let crt = format!("{name}.crt");
        let out = openssl(self.dir, &["x509", "-in", &crt, "-noout", "-serial"]);
        out.trim().trim_start_matches("serial=").to_string()
    }

    /// A DER OCSP response, signed by the CA, saying certificate `NAME` is
    /// good; written to `out`.
    pub fn ocsp_good(&self, name: &str, out: &str) {
        let crt = format!("{name}.crt");
        let serial = self.serial(name);
        // openssl's responder database: status, expiry, revocation, serial, file, subject.
        self.dir.write(
            "index.txt",
            &format!("V\t991231235959Z\t\t{serial}\tunknown\t/CN=test\n"),
        );
        openssl(
            self.dir,
            &[
                "ocsp",
                "-issuer",
                "ca.pem",
                "-cert",
                &crt,
                "-no_nonce",
                "-reqout",
                "ocsp.req",
            ],
        );
        openssl(
            self.dir,
            &[
                "ocsp",
                "-index",
                "index.txt",
                "-rsigner",
                "ca.pem",
                "-rkey",
                "ca.key",
                "-CA",
                "ca.pem",
                "-reqin",
                "ocsp.req",
                "-respout",
                out,
                "-ndays",
                "1",
            ],
        );
    }
}

/// `openssl s_client` to `to` with `args` (e.g. `-servername`, `-status`):
/// its whole output, stdout and stderr.
pub fn s_client(to: SocketAddr, args: &[&str]) -> String {
    let connect = to.to_string();
    let out = Command::new("openssl")
        .args(["s_client", "-connect", &connect])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("openssl s_client");
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

/// The serial number of the certificate `to` serves for `sni` (empty when
/// the handshake failed).
pub fn served_serial(to: SocketAddr, sni: &str) -> String {
    let out = s_client(to, &["-servername", sni]);
    let pem: String = out
        .split_inclusive('\n')
        .skip_while(|l| !l.starts_with("-----BEGIN CERTIFICATE"))
        .take_while(|l| !l.starts_with("-----END CERTIFICATE"))
        .collect::<String>()
        + "-----END CERTIFICATE-----\n";
    let mut child = Command::new("openssl")
        .args(["x509", "-noout", "-serial"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl x509");
    use std::io::Write;
    let _ = child.stdin.take().unwrap().write_all(pem.as_bytes());
    let out = child.wait_with_output().expect("openssl x509");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .trim_start_matches("serial=")
        .to_string()
}

/// `curl https://HOST:PORT/` resolved to 127.0.0.1, verified with `ca`:
/// the status code and the body.
pub fn curl_https(port: u16, ca: &str, host: &str) -> (String, String) {
    let out = Command::new("curl")
        .args([
            "-sS",
            "--max-time",
            "5",
            "--cacert",
            ca,
            "--resolve",
            &format!("{host}:{port}:127.0.0.1"),
            "-w",
            "\n%{http_code}",
            &format!("https://{host}:{port}/"),
        ])
        .output()
        .expect("curl");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", &text));
    (code.to_string(), body.to_string())
}

/// Standard base64 with padding, for payloads the runtime API takes.
pub fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            out.push(if i <= chunk.len() {
                char::from(T[(n >> (18 - 6 * i)) as usize & 63])
            } else {
                '='
            });
        }
    }
    out
}

/// `threads` clients sending HTTPS requests to `port` (`host`, trusting
/// `ca`) one after the other, until [`HttpsLoad::finish`].
pub struct HttpsLoad {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    threads: Vec<std::thread::JoinHandle<Vec<(String, String)>>>,
}

impl HttpsLoad {
    pub fn start(threads: usize, port: u16, ca: &str, host: &str) -> HttpsLoad {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let threads = (0..threads)
            .map(|_| {
                let (stop, ca, host) = (stop.clone(), ca.to_string(), host.to_string());
                std::thread::spawn(move || {
                    let mut answers = Vec::new();
                    while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                        answers.push(curl_https(port, &ca, &host));
                    }
                    answers
                })
            })
            .collect();
        HttpsLoad { stop, threads }
    }

    /// Stop the clients and check that every answer was `200 ok`, and that
    /// there were more than five (`logs`: the proxy's, shown on failure).
    pub fn finish(self, logs: &str) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let answers: Vec<(String, String)> = self
            .threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect();
        let failed: Vec<_> = answers
            .iter()
            .filter(|(c, b)| c != "200" || b != "ok")
            .collect();
        assert!(
            failed.is_empty() && answers.len() > 5,
            "{} of {} HTTPS requests failed: {:?}\n{logs}",
            failed.len(),
            answers.len(),
            failed.iter().take(3).collect::<Vec<_>>(),
        );
    }
}
