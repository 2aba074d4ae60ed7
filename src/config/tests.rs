//! Whole-loader tests: config text written to real files in a temp dir,
//! loaded through `load_with_env`, checked as `FILE:LINE: message`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::*;

/// A fresh, empty directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "pollux-config-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Makes a message relative to this directory: `pollux.cfg:3: ...`.
    fn rel(&self, s: &str) -> String {
        s.replace(&format!("{}/", self.0.display()), "")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn test_env(name: &str) -> Option<String> {
    let vars: HashMap<&str, &str> = [
        ("PORT", "8443"),
        ("LISTEN_FD", "3"),
        ("ENABLE_EXTRA", "yes"),
        ("BACKEND_HOST", "127.0.0.1"),
    ]
    .into();
    vars.get(name).map(|v| v.to_string())
}

fn load_text(dir: &TempDir, text: &str) -> Result<Config, Vec<ConfigError>> {
    let path = dir.write("pollux.cfg", text);
    load_with_env(&[path], &test_env).map(super::without_timeout_notes)
}

/// Loads `text` and returns its errors, relative to the temp dir.
fn errors_of(text: &str) -> Vec<String> {
    let dir = TempDir::new();
    match load_text(&dir, text) {
        Ok(_) => Vec::new(),
        Err(errors) => errors.iter().map(|e| dir.rel(&e.to_string())).collect(),
    }
}

fn ok(text: &str) -> Config {
    let dir = TempDir::new();
    match load_text(&dir, text) {
        Ok(config) => config,
        Err(errors) => panic!(
            "unexpected errors: {:#?}",
            errors
                .iter()
                .map(|e| dir.rel(&e.to_string()))
                .collect::<Vec<_>>()
        ),
    }
}

/// Minimal valid lines appended to error cases so that only the error under
/// test is reported.
const BE: &str = "backend be\n";

/// Each row: config text, and the one expected error as `FILE:LINE: fragment`
/// (the error must be at that place and contain the fragment).
const ERROR_TABLE: &[(&str, &str)] = &[
    // Unknown keywords, in each section type and out of any section.
    ("global\n  frobnicate 1\n", "pollux.cfg:2: unknown keyword 'frobnicate' in 'global' section"),
    ("defaults\n  frobnicate\n", "pollux.cfg:2: unknown keyword 'frobnicate' in 'defaults' section"),
    ("frontend fe\n  bind :8080\n  frobnicate\n  default_backend fe\nbackend fe\n", "pollux.cfg:3: unknown keyword 'frobnicate' in 'frontend' section"),
    ("backend be\n  frobnicate\n", "pollux.cfg:2: unknown keyword 'frobnicate' in 'backend' section"),
    ("listen li\n  bind :8080\n  frobnicate\n", "pollux.cfg:3: unknown keyword 'frobnicate' in 'listen' section"),
    ("\n# comment\nmaxconn 10\n", "pollux.cfg:3: unknown keyword 'maxconn' out of section"),
    ("backend be\n  no frobnicate\n", "pollux.cfg:2: unknown keyword 'no' in 'backend' section"),
    // Missing, extra and bad arguments.
    ("global\n  maxconn\n", "pollux.cfg:2: 'maxconn' expects an integer"),
    ("global\n  maxconn ten\n", "pollux.cfg:2: 'maxconn': expected an integer, got 'ten'"),
    ("global\n  maxconn 0\n", "pollux.cfg:2: 'maxconn': value '0' out of range"),
    ("global\n  daemon now\n", "pollux.cfg:2: unexpected argument 'now' after 'daemon'"),
    ("global\n  pidfile\n", "pollux.cfg:2: 'pidfile' expects a file path"),
    ("global\n  tune.bufsize 512\n", "pollux.cfg:2: 'tune.bufsize': value '512' out of range"),
    ("global\n  tune.maxaccept -2\n", "pollux.cfg:2: 'tune.maxaccept': expected an integer"),
    ("global\n  nbthread 65\n", "pollux.cfg:2: 'nbthread': value '65' out of range"),
    ("global\n  nbthread 2\nbackend b\n  server s 127.0.0.1:1 maxconn 1\n", "pollux.cfg:4: server 'b/s': maxconn 1 is lower than nbthread 2 (each thread enforces an equal share of it)"),
    ("global\n  nbthread 2\nbackend b\n  server s 127.0.0.1:1 check observe layer7\n", "pollux.cfg:4: server 'b/s': 'observe' is not supported with nbthread > 1 (its state is per thread)"),
    ("global\n  nbthread 3\n  maxconn 2\n", "pollux.cfg:2: global maxconn 2 is lower than nbthread 3 (each thread enforces an equal share of it)"),
    ("global\n  stats socket /tmp/x.sock level root\n", "pollux.cfg:2: 'stats socket' option 'level' expects 'user', 'operator' or 'admin', got 'root'"),
    ("global\n  stats socket /tmp/x.sock mode 8x\n", "pollux.cfg:2: 'stats socket' option 'mode': '8x' is not an octal mode"),
    ("global\n  stats socket /tmp/x.sock mode 1777\n", "pollux.cfg:2: 'stats socket' option 'mode': '1777' is not an octal mode"),
    ("global\n  stats socket /tmp/x.sock expose-fd all\n", "pollux.cfg:2: 'stats socket' option 'expose-fd' only supports 'listeners'"),
    ("global\n  stats socket ipv4@127.0.0.1:99999\n", "pollux.cfg:2: 'stats socket' invalid port '99999' in 'ipv4@127.0.0.1:99999' (expected 1..65535)"),
    ("global\n  stats socket /tmp/x.sock process 1\n", "pollux.cfg:2: 'stats socket' option 'process' is not supported yet"),
    ("global\n  stats socket /tmp/x.sock\n  stats socket /tmp/x.sock\n", "pollux.cfg:3: 'stats socket /tmp/x.sock' declared twice"),
    ("global\n  stats timeout 0\n", "pollux.cfg:2: 'stats timeout' must be greater than 0"),
    ("global\n  stats maxconn 10\n", "pollux.cfg:2: 'stats maxconn' is not supported yet"),
    ("global\n  stats socket\n", "pollux.cfg:2: 'stats socket' expects a socket address"),
    ("backend be\n  load-server-state-from-file sometimes\n", "pollux.cfg:2: 'load-server-state-from-file' expects 'global', 'local' or 'none', got 'sometimes'"),
    ("frontend fe\n  bind :80\n  load-server-state-from-file global\n", "pollux.cfg:3: 'load-server-state-from-file'"),
    ("global\n  server-state-file\n", "pollux.cfg:2: a path"),
    ("frontend fe\n  bind :80\n  grace soon\n", "pollux.cfg:3: 'grace': invalid time 'soon'"),
    ("backend be\n  grace 1s\n", "pollux.cfg:2: 'grace' not allowed in 'backend' section"),
    ("backend be\n  retries many\n", "pollux.cfg:2: 'retries': expected an integer, got 'many'"),
    ("backend be\n  server s1 127.0.0.1:80 weight 300\n", "pollux.cfg:2: server option 'weight': value '300' out of range 0..256"),
    ("backend be\n  server s1 127.0.0.1:80 maxconn\n", "pollux.cfg:2: server option 'maxconn' expects an integer"),
    ("backend be\n  server s1\n", "pollux.cfg:2: 'server s1' expects an address"),
    ("backend be\n  mode\n", "pollux.cfg:2: 'mode' expects 'tcp' or 'http'"),
    ("backend be\n  mode udp\n", "pollux.cfg:2: 'mode' expects 'tcp' or 'http', got 'udp'"),
    ("backend be\n  option\n", "pollux.cfg:2: 'option' expects an option name"),
    ("backend be\n  option frobnicate\n", "pollux.cfg:2: unknown option 'frobnicate'"),
    ("backend be\n  option redispatch now\n", "pollux.cfg:2: unexpected argument 'now'"),
    ("backend a/b\n", "pollux.cfg:1: character '/' is not permitted in backend name 'a/b'"),
    ("backend\n", "pollux.cfg:1: 'backend' expects a name"),
    // Times.
    ("defaults\n  timeout client 5x\n", "pollux.cfg:2: 'timeout client': invalid time '5x'"),
    ("defaults\n  timeout connect 1.5s\n", "pollux.cfg:2: 'timeout connect': invalid time '1.5s'"),
    ("defaults\n  timeout server 30d\n", "pollux.cfg:2: 'timeout server': time '30d' is too large"),
    ("defaults\n  timeout client\n", "pollux.cfg:2: 'timeout client' expects a time value"),
    ("defaults\n  timeout\n", "pollux.cfg:2: 'timeout' expects a timeout name"),
    ("defaults\n  timeout frobnicate 5s\n", "pollux.cfg:2: unknown timeout 'frobnicate'"),
    ("defaults\n  timeout client-fin 5s\n", "pollux.cfg:2: 'timeout client-fin' is not supported yet"),
    ("defaults\n  clitimeout soon\n", "pollux.cfg:2: 'timeout client': invalid time 'soon'"),
    // Addresses and port ranges.
    ("listen li\n  bind 1.2.3.999:80\n", "pollux.cfg:2: invalid address '1.2.3.999:80'"),
    ("listen li\n  bind 127.0.0.1\n", "pollux.cfg:2: missing port in bind address '127.0.0.1'"),
    ("listen li\n  bind :http\n", "pollux.cfg:2: invalid port 'http'"),
    ("listen li\n  bind :8010-8000\n", "pollux.cfg:2: invalid port range '8010-8000'"),
    ("listen li\n  bind :65530-65536\n", "pollux.cfg:2: invalid port '65536'"),
    ("listen li\n  bind :80,:0\n", "pollux.cfg:2: invalid port '0'"),
    ("listen li\n  bind fd@three\n", "pollux.cfg:2: invalid file descriptor in 'fd@three'"),
    ("listen li\n  bind /run/pollux.sock\n", "pollux.cfg:2: UNIX socket address '/run/pollux.sock' is not supported yet"),
    ("listen li\n  bind :80 ssl crt /nonexistent/x.pem\n", "pollux.cfg:2: listen 'li': bind '0.0.0.0:80': unable to load '/nonexistent/x.pem': No such file or directory"),
    ("listen li\n  bind :80 ssl npn h2\n", "pollux.cfg:2: bind option 'npn' is not supported yet"),
    ("listen li\n  bind :80 id 3\n  bind :81 id 3\n", "pollux.cfg:3: bind ':81': custom id 3 already used at pollux.cfg:2"),
    ("listen li\n  bind :80-81 id 3\n", "pollux.cfg:2: bind ':80-81': 'id' can only be used with a single socket"),
    ("listen li\n  bind\n", "pollux.cfg:2: 'bind' expects an address"),
    ("backend be\n  server s1 bad!host:80\n", "pollux.cfg:2: invalid address 'bad!host:80'"),
    ("backend be\n  server s1 no-such-host.invalid:80\n", "pollux.cfg:2: cannot resolve 'no-such-host.invalid'"),
    ("backend be\n  server s1 127.0.0.1:80-90\n", "pollux.cfg:2: a server takes one port"),
    // Balance.
    ("backend be\n  balance magic\n", "pollux.cfg:2: unknown balance algorithm 'magic'"),
    ("backend be\n  balance\n", "pollux.cfg:2: 'balance' expects an algorithm"),
    ("backend be\n  balance uri len\n", "pollux.cfg:2: 'balance uri len' expects an integer"),
    ("backend be\n  balance uri depth x\n", "pollux.cfg:2: 'balance uri depth': expected an integer, got 'x'"),
    ("backend be\n  balance uri len 0\n", "pollux.cfg:2: 'balance uri len': value '0' out of range"),
    ("backend be\n  balance uri deep 3\n", "pollux.cfg:2: unknown 'balance uri' option 'deep'"),
    ("backend be\n  balance url_param\n", "pollux.cfg:2: 'balance url_param' expects a parameter name"),
    ("backend be\n  balance url_param id check_post\n", "pollux.cfg:2: 'balance url_param' option 'check_post' is not supported yet"),
    ("backend be\n  balance url_param id extra\n", "pollux.cfg:2: unexpected argument 'extra' after 'balance url_param id'"),
    ("backend be\n  balance hdr\n", "pollux.cfg:2: 'balance hdr' expects a header name: 'hdr(NAME)'"),
    ("backend be\n  balance hdr()\n", "pollux.cfg:2: 'balance hdr()': expected 'hdr' or 'hdr(ARG)'"),
    ("backend be\n  balance hdr(host) domain\n", "pollux.cfg:2: unexpected argument 'domain' after 'balance hdr(host)'"),
    ("backend be\n  balance hdr(host) use_domain_only x\n", "pollux.cfg:2: unexpected argument 'x' after 'balance hdr(host) use_domain_only'"),
    ("backend be\n  balance random(0)\n", "pollux.cfg:2: 'balance random': value '0' out of range"),
    ("backend be\n  balance random(two)\n", "pollux.cfg:2: 'balance random': expected an integer, got 'two'"),
    ("backend be\n  balance random[2]\n", "pollux.cfg:2: 'balance random[2]': expected 'random' or 'random(ARG)'"),
    ("backend be\n  balance rdp-cookie(\n", "pollux.cfg:2: 'balance rdp-cookie(': expected 'rdp-cookie' or 'rdp-cookie(ARG)'"),
    ("backend be\n  balance response-time 2\n", "pollux.cfg:2: unexpected argument '2' after 'balance response-time'"),
    ("backend be\n  balance hash req.cookie(id)\n", "pollux.cfg:2: 'balance hash' is not supported yet"),
    ("backend be\n  hash-type\n", "pollux.cfg:2: 'hash-type' expects a method (map-based or consistent)"),
    ("backend be\n  hash-type ring\n", "pollux.cfg:2: unknown hash-type method 'ring'"),
    ("backend be\n  hash-type consistent md5\n", "pollux.cfg:2: unknown hash-type function 'md5'"),
    ("backend be\n  hash-type consistent none\n", "pollux.cfg:2: 'hash-type' function 'none' is not supported yet"),
    ("backend be\n  hash-type consistent sdbm avalanche x\n", "pollux.cfg:2: unexpected argument 'x' after 'hash-type consistent sdbm avalanche'"),
    ("backend be\n  hash-type map-based avalanche sdbm\n", "pollux.cfg:2: unexpected argument 'sdbm' after 'hash-type map-based avalanche'"),
    ("frontend fe\n  bind :80\n  hash-type consistent\n  default_backend be\nbackend be\n", "pollux.cfg:3: 'hash-type' not allowed in 'frontend' section"),
    ("backend be\n  balance roundrobin now\n", "pollux.cfg:2: unexpected argument 'now' after 'balance roundrobin'"),
    ("backend be\n  hash-balance-factor 150\n", "pollux.cfg:2: 'hash-balance-factor' is not supported yet"),
    ("backend be\n  server a 127.0.0.1:1 id 0\n", "pollux.cfg:2: server option 'id': value '0' out of range"),
    ("backend be\n  server a 127.0.0.1:1 id\n", "pollux.cfg:2: server option 'id' expects an integer"),
    ("backend be\n  server a 127.0.0.1:1 id 3\n  server b 127.0.0.1:2 id 3\n", "pollux.cfg:3: server 'b': id 3 already used by server 'a' at pollux.cfg:2"),
    ("backend be\n  default-server id 3\n", "pollux.cfg:2: default-server option 'id' is not accepted"),
    // Known but unsupported keywords.
    ("global\n  daemon\n  insecure-fork-wanted\n", "pollux.cfg:3: 'insecure-fork-wanted' is not supported yet"),
    // Process management.
    ("global\n  user no-such-user-pollux\n", "pollux.cfg:2: cannot find user id for 'no-such-user-pollux'"),
    ("global\n  group no-such-group-pollux\n", "pollux.cfg:2: cannot find group id for 'no-such-group-pollux'"),
    ("global\n  user\n", "pollux.cfg:2: 'user' expects a user name"),
    ("global\n  uid nobody\n", "pollux.cfg:2: 'uid': expected an integer, got 'nobody'"),
    ("global\n  gid -1\n", "pollux.cfg:2: 'gid': expected an integer, got '-1'"),
    ("global\n  chroot\n", "pollux.cfg:2: 'chroot' expects a directory"),
    ("global\n  chroot /a /b\n", "pollux.cfg:2: unexpected argument '/b' after 'chroot /a'"),
    ("global\n  ulimit-n 0\n", "pollux.cfg:2: 'ulimit-n': value '0' out of range"),
    ("global\n  hard-stop-after soon\n", "pollux.cfg:2: 'hard-stop-after': invalid time 'soon'"),
    ("global\n  master-worker no-exit-on-failure\n", "pollux.cfg:2: 'master-worker' option 'no-exit-on-failure' is not supported yet"),
    ("global\n  stats\n", "pollux.cfg:2: 'stats' expects 'socket', 'timeout' or 'maxconn'"),
    ("global\n  noreuseport 1\n", "pollux.cfg:2: unexpected argument '1' after 'noreuseport'"),
    ("global\n  tune.ssl.capture-buffer-size 96\n", "pollux.cfg:2: 'tune.ssl.capture-buffer-size' is not supported yet"),
    // Logging (manual §4.2 `log`).
    ("global\n  log 127.0.0.1:514\n", "pollux.cfg:2: 'log 127.0.0.1:514' expects a facility"),
    ("global\n  log 127.0.0.1 local9\n", "pollux.cfg:2: unknown log facility 'local9'"),
    ("global\n  log 127.0.0.1 local0 loud\n", "pollux.cfg:2: unknown log level 'loud'"),
    ("global\n  log 127.0.0.1 local0 info debug extra\n", "pollux.cfg:2: unexpected argument 'extra'"),
    ("global\n  log 127.0.0.1:99999 local0\n", "pollux.cfg:2: invalid port '99999' in log address"),
    ("global\n  log [::1 local0\n", "pollux.cfg:2: invalid log address '[::1'"),
    ("global\n  log ${POLLUX_T_NOPE} local0\n", "pollux.cfg:2: invalid log address ''"),
    ("global\n  log 127.0.0.1 len 10 local0\n", "pollux.cfg:2: 'log ... len'"),
    ("global\n  log 127.0.0.1 format json local0\n", "pollux.cfg:2: unknown log format 'json'"),
    ("global\n  log 127.0.0.1 sample 1:x local0\n", "pollux.cfg:2: 'log ... sample 1:x': 'x' is not a number above 0"),
    ("global\n  log 127.0.0.1 sample 3:2 local0\n", "pollux.cfg:2: 'log ... sample 3:2': range '3' goes past the sample size 2"),
    ("global\n  log 127.0.0.1 sample 2-1:2 local0\n", "pollux.cfg:2: 'log ... sample 2-1:2': range '2-1' ends before it starts"),
    ("global\n  log 127.0.0.1 sample 2 local0\n", "pollux.cfg:2: 'log ... sample 2': expected RANGES:SIZE"),
    ("global\n  log fd@x local0\n", "pollux.cfg:2: invalid file descriptor in log address 'fd@x'"),
    ("global\n  log 127.0.0.1 profile p local0\n", "pollux.cfg:2: 'log ... profile' is not supported yet"),
    ("global\n  log tcp@127.0.0.1:514 local0\n", "pollux.cfg:2: log address 'tcp@127.0.0.1:514' is not supported yet"),
    ("global\n  log global\n", "pollux.cfg:2: 'log global' is not allowed in the 'global' section"),
    ("global\n  log-tag\n", "pollux.cfg:2: 'log-tag' expects a tag"),
    ("defaults\n  log global extra\n", "pollux.cfg:2: unexpected argument 'extra' after 'log global'"),
    ("defaults\n  no log now\n", "pollux.cfg:2: unexpected argument 'now' after 'no log'"),
    ("defaults\n  log-format \"%ci %frob\"\n", "pollux.cfg:2: no such log-format variable '%frob'"),
    ("defaults\n  log-format \"%lc\"\n", "pollux.cfg:2: log-format variable '%lc' is not supported yet"),
    ("defaults\n  log-format-sd \"[x@1 a=%[req.hdr(host)]]\"\n", "pollux.cfg:2: sample fetch <req.hdr(host)> may not be reliably used here"),
    ("defaults\n  log-format-sd\n", "pollux.cfg:2: 'log-format-sd' expects a format string"),
    ("backend be\n  log-format-sd x\n", "pollux.cfg:2: 'log-format-sd' not allowed in 'backend' section"),
    ("defaults\n  log-format \"%[req.hdr(host)]\"\n", "pollux.cfg:2: sample fetch <req.hdr(host)> may not be reliably used here because it needs 'HTTP request headers' which is not available here"),
    ("defaults\n  log-format \"%[src\"\n", "pollux.cfg:2: missing ']' after '%['"),
    ("defaults\n  log-format \"%[src,frob]\"\n", "pollux.cfg:2: converter 'frob'"),
    ("defaults\n  log-format \"%{+Y}Ts\"\n", "pollux.cfg:2: unknown log-format flag '+Y'"),
    ("defaults\n  unique-id-format \"%Tt\"\n", "pollux.cfg:2: log-format variable '%Tt' is not supported yet outside 'log-format' and 'unique-id-format'"),
    ("defaults\n  unique-id-format \"%[res.hdr(x)]\"\n", "pollux.cfg:2: sample fetch <res.hdr(x)> may not be reliably used here because it needs 'HTTP response headers'"),
    ("defaults\n  unique-id-format\n", "pollux.cfg:2: 'unique-id-format' expects a format string"),
    ("defaults\n  unique-id-header\n", "pollux.cfg:2: 'unique-id-header' expects a header name"),
    ("backend be\n  unique-id-format %ci\n", "pollux.cfg:2: 'unique-id-format' not allowed in 'backend' section"),
    ("defaults\n  log-format \"%{+Z}Ts\"\n", "pollux.cfg:2: unknown log-format flag '+Z'"),
    ("defaults\n  log-format \"%{+Q\"\n", "pollux.cfg:2: missing '}'"),
    ("defaults\n  log-format \"a % b\"\n", "pollux.cfg:2: a '%' without a variable name"),
    ("backend be\n  log-format %ci\n", "pollux.cfg:2: 'log-format' not allowed in 'backend' section"),
    ("defaults\n  option httplog clf\n", "pollux.cfg:2: 'option httplog clf' is not supported yet"),
    ("defaults\n  option dontlognull now\n", "pollux.cfg:2: unexpected argument 'now' after 'option dontlognull'"),
    ("frontend fe\n  bind :80\n  use_backend be if x\n  default_backend be\nbackend be\n", "pollux.cfg:3: no such ACL : 'x'"),
    ("defaults\n  option spop-check\n", "pollux.cfg:2: 'option spop-check' is not supported yet"),
    ("backend be\n  server s1 127.0.0.1:80 check-send-proxy\n", "pollux.cfg:2: server option 'check-send-proxy' is not supported yet"),
    ("backend be\n  server s1 127.0.0.1:80 frobnicate\n", "pollux.cfg:2: unknown server option 'frobnicate'"),
    ("peers mypeers\n  peer a 127.0.0.1:1024\n", "pollux.cfg:1: 'peers' sections are not supported yet"),
    ("backend be\n  mode health\n", "pollux.cfg:2: 'mode health' is not supported yet"),
    // Keywords in the wrong section.
    ("frontend fe\n  bind :80\n  server s1 127.0.0.1:80\n  default_backend be\nbackend be\n", "pollux.cfg:3: 'server' not allowed in 'frontend' section"),
    ("backend be\n  bind :80\n", "pollux.cfg:2: 'bind' not allowed in 'backend' section"),
    ("backend be\n  default_backend other\n", "pollux.cfg:2: 'default_backend' not allowed in 'backend' section"),
    ("backend be\n  maxconn 10\n", "pollux.cfg:2: 'maxconn' not allowed in 'backend' section"),
    ("defaults\n  bind :80\n", "pollux.cfg:2: 'bind' not allowed in 'defaults' section"),
    ("defaults\n  server s1 127.0.0.1:80\n", "pollux.cfg:2: 'server' not allowed in 'defaults' section"),
    ("frontend fe\n  bind :80\n  balance first\n  default_backend be\nbackend be\n", "pollux.cfg:3: 'balance' not allowed in 'frontend' section"),
    // Duplicates.
    ("frontend fe\n  bind :80\n  default_backend be\nfrontend fe\n  bind :81\nbackend be\n", "pollux.cfg:4: frontend 'fe' has the same name as frontend 'fe' declared at pollux.cfg:1"),
    ("backend be\nbackend be\n", "pollux.cfg:2: backend 'be' has the same name as backend 'be' declared at pollux.cfg:1"),
    ("backend be\nlisten be\n  bind :80\n", "pollux.cfg:2: listen 'be' has the same name as backend 'be'"),
    ("backend be\n  server s1 127.0.0.1:80\n  server s1 127.0.0.1:81\n", "pollux.cfg:3: server 's1' already defined in backend 'be' at pollux.cfg:2"),
    // Cross-references and post-checks.
    ("frontend fe\n  bind :80\n  default_backend nowhere\n", "pollux.cfg:3: default_backend 'nowhere' of frontend 'fe': no such backend"),
    ("defaults\n  default_backend nowhere\nfrontend fe\n  bind :80\n", "pollux.cfg:2: default_backend 'nowhere' of frontend 'fe': no such backend"),
    ("frontend fe\n  default_backend be\nbackend be\n", "pollux.cfg:1: frontend 'fe' has no 'bind' line"),
    ("listen li\n  server s1 127.0.0.1:80\n", "pollux.cfg:1: listen 'li' has no 'bind' line"),
    ("backend be\n  server s1 127.0.0.1 check\n", "pollux.cfg:2: server 's1' has neither service port nor check port"),
    // Lexer.
    ("global\n  pidfile \"/run/pollux.pid\n", "pollux.cfg:2: unterminated double quote"),
    ("global\n  pidfile '/run/pollux.pid\n", "pollux.cfg:2: unterminated single quote"),
    ("global\n  pidfile /run/\\xZZ\n", "pollux.cfg:2: truncated or invalid hexadecimal sequence"),
    ("global\n  pidfile \"${PIDFILE\"\n", "pollux.cfg:2: missing '}' after '${PIDFILE'"),
    // Conditional blocks.
    ("global\n.if 1\n  daemon\n", "pollux.cfg:2: '.if' is never closed (missing '.endif')"),
    ("global\n.if 1\n.endif\n.endif\n", "pollux.cfg:4: '.endif' without matching '.if'"),
    ("global\n.else\n", "pollux.cfg:2: '.else' without matching '.if'"),
    ("global\n.elif 1\n", "pollux.cfg:2: '.elif' without matching '.if'"),
    ("global\n.if 0\n.else\n.elif 1\n.endif\n", "pollux.cfg:4: '.elif' after '.else'"),
    ("global\n.if nonsense(1)\n.endif\n", "pollux.cfg:2: unknown predicate 'nonsense'"),
    ("global\n.if streq(a)\n.endif\n", "pollux.cfg:2: predicate 'streq' expects 2 arguments, got 1"),
    ("global\n.if 1 &&\n.endif\n", "pollux.cfg:2: missing term in conditional expression"),
    ("global\n.if !feature(POLL)\n.elif !feature(SELECT)\n.else\n  .alert \"no poller\"\n.endif\n", "pollux.cfg:5: no poller"),
    ("global\n  .frobnicate\n", "pollux.cfg:2: unknown directive '.frobnicate'"),
    // "Did you mean", as HAProxy says it.
    ("backend be\n  balanse roundrobin\n", "pollux.cfg:2: unknown keyword 'balanse' in 'backend' section; did you mean 'balance' maybe ?"),
    ("global\n  maxcon 10\n", "pollux.cfg:2: unknown keyword 'maxcon' in 'global' section; did you mean 'maxconn' maybe ?"),
    ("backend be\n  option redispach\n", "pollux.cfg:2: unknown option 'redispach'; did you mean 'redispatch' maybe ?"),
    ("backend be\n  mode http\n  http-request denny\n", "pollux.cfg:3: unknown 'http-request' action 'denny'; did you mean 'deny' maybe ?"),
    ("backend be\n  mode http\n  http-request set-header X %[req.hdrr(host)]\n", "pollux.cfg:3: unknown fetch method 'req.hdrr'; did you mean 'req.hdr' maybe ? in log-format '%[req.hdrr(host)]'"),
    ("backend be\n  mode http\n  http-request set-header X %[path,lowr]\n", "pollux.cfg:3: unknown converter 'lowr'; did you mean 'lower' maybe ?"),
    ("http-errors\n", "pollux.cfg:1: 'http-errors' expects a name"),
    ("http-errors e\nhttp-errors e\n", "pollux.cfg:2: http-errors section 'e' already exists"),
    ("http-errors e\n  errorfile 999 /x\n", "pollux.cfg:2: 'errorfile': status code '999' not handled"),
    ("http-errors e\n  errorfile 403\n", "pollux.cfg:2: 'errorfile' expects a status code and a file"),
    ("http-errors e\n  errorloc 403 /x\n", "pollux.cfg:2: unknown keyword 'errorloc' in 'http-errors' section (expected 'errorfile')"),
];

#[test]
fn every_error_class_is_reported_at_its_file_and_line() {
    let mut failures = Vec::new();
    for (text, expected) in ERROR_TABLE {
        let (loc, fragment) = expected.split_once(": ").unwrap();
        let errors = errors_of(&format!(
            "{text}{}",
            if text.contains("backend be") { "" } else { BE }
        ));
        let found = errors.len() == 1
            && errors[0].starts_with(&format!("{loc}: "))
            && errors[0].contains(fragment);
        if !found {
            failures.push(format!(
                "config:\n{text}expected exactly: {expected}\ngot: {errors:#?}\n"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n{}",
        failures.len(),
        ERROR_TABLE.len(),
        failures.join("\n")
    );
}

#[test]
fn missing_file_is_an_error_naming_it() {
    let dir = TempDir::new();
    let missing = dir.0.join("nope.cfg");
    let errors = load_with_env(&[missing], &test_env).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert!(
        dir.rel(&errors[0].to_string())
            .starts_with("nope.cfg: cannot open: "),
        "{}",
        errors[0]
    );
}

#[test]
fn all_errors_are_collected_not_only_the_first() {
    let errors = errors_of(
        "global\n  frobnicate\n  maxconn x\nbackend be\n  balance magic\n  retries 3\n  bind :80\n",
    );
    let places: Vec<_> = errors
        .iter()
        .map(|e| e.split(": ").next().unwrap())
        .collect();
    assert_eq!(
        places,
        [
            "pollux.cfg:2",
            "pollux.cfg:3",
            "pollux.cfg:5",
            "pollux.cfg:7"
        ]
    );
}

#[test]
fn unterminated_quote_is_an_error_at_its_line() {
    let errors = errors_of("global\n\n  pidfile 'x\nbackend be\n");
    assert_eq!(
        errors,
        ["pollux.cfg:3: unterminated single quote starting at column 11"]
    );
}

#[test]
fn alert_is_fatal_at_its_line() {
    let errors = errors_of("global\n.alert \"stop here\"\nbackend be\n");
    assert_eq!(errors, ["pollux.cfg:2: stop here"]);
}

fn ms(n: u64) -> Option<Duration> {
    Some(Duration::from_millis(n))
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn inet(s: &str) -> BindAddr {
    BindAddr::Inet(addr(s))
}

const FULL: &str = r#"# A complete TCP configuration.
global
    maxconn 2000
    daemon
    quiet
    pidfile "/run/pollux.pid"   # quoted
    nbthread 1
    tune.bufsize 32k
    tune.maxrewrite 2048
    tune.maxaccept -1
    noepoll
    nopoll

defaults base
    mode tcp
    timeout connect 5s
    timeout client 1m
    timeout server 1m
    timeout queue 250ms
    timeout tunnel 1h
    retries 5
    balance leastconn
    option redispatch
    option tcpka
    maxconn 500

frontend fe_main
    description main\ entry point
    bind "${BIND_ADDR-127.0.0.1}:${PORT}",[::1]:9000-9001
    bind ipv6@:9100
    bind "fd@${LISTEN_FD}"
    maxconn 0
    no option clitcpka
    default_backend be_app

backend be_app
    balance static-rr
    no option redispatch
    contimeout 2000
    server app1 "${BACKEND_HOST}":8001 weight 10 maxconn 50
    server app2 127.0.0.1:8002 backup
    server app3 127.0.0.1:8003 disabled weight 0

.if streq("$ENABLE_EXTRA",yes) && feature(POLL)
listen li_extra
    bind :7000
    timeout client 0
    server x1 127.0.0.1:7001
.else
listen li_extra
    frobnicate
.endif

.if defined(NOT_SET)
    .alert "never seen"
.elif version_atleast(2.6)
    .warning "pollux follows HAProxy 2.6 or later"
.endif
"#;

#[test]
fn full_tcp_config_parses_into_the_model() {
    let dir = TempDir::new();
    let path = dir.write("pollux.cfg", FULL);
    let config =
        load_with_env(std::slice::from_ref(&path), &test_env).unwrap_or_else(|e| panic!("{e:#?}"));
    let file = path.display().to_string();
    let at = |line| Origin {
        file: file.clone(),
        line,
    };

    let g = &config.global;
    assert_eq!(g.maxconn, 2000);
    assert!(g.daemon && g.quiet);
    assert_eq!(g.pidfile, Some(PathBuf::from("/run/pollux.pid")));
    assert_eq!(g.bufsize, 32768);
    assert_eq!(g.maxrewrite, 2048);
    assert_eq!(g.maxaccept, u32::MAX);
    assert_eq!(g.disabled_pollers, ["epoll", "poll"]);

    let defaults_timeouts = Timeouts {
        connect: ms(5000),
        client: ms(60_000),
        server: ms(60_000),
        queue: ms(250),
        tunnel: ms(3_600_000),
        http_request: None,
        http_keep_alive: None,
        tarpit: None,
        check: None,
    };
    assert_eq!(config.frontends.len(), 2);
    assert_eq!(
        config.frontends[0],
        Frontend {
            name: "fe_main".into(),
            origin: at(27),
            mode: Mode::Tcp,
            binds: vec![
                Bind {
                    addrs: vec![
                        inet("127.0.0.1:8443"),
                        inet("[::1]:9000"),
                        inet("[::1]:9001")
                    ],
                    origin: at(29),
                    ..Default::default()
                },
                Bind {
                    addrs: vec![inet("[::]:9100")],
                    origin: at(30),
                    ..Default::default()
                },
                Bind {
                    addrs: vec![BindAddr::Fd(3)],
                    origin: at(31),
                    ..Default::default()
                },
            ],
            maxconn: None,
            default_backend: Some("be_app".into()),
            timeouts: defaults_timeouts,
            clitcpka: false,
            grace: None,
            disabled: false,
            http: HttpProxy::default(),
            rules: FrontendRules::default(),
            log: None,
        }
    );
    let li = &config.frontends[1];
    assert_eq!(li.name, "li_extra");
    assert_eq!(li.default_backend.as_deref(), Some("li_extra"));
    assert_eq!(li.maxconn, Some(500));
    assert!(li.clitcpka);
    assert_eq!(li.timeouts.client, None, "timeout 0 means no timeout");
    assert_eq!(li.binds[0].addrs, [inet("0.0.0.0:7000")]);

    assert_eq!(config.backends.len(), 2);
    assert_eq!(
        config.backends[0],
        Backend {
            name: "be_app".into(),
            origin: at(36),
            mode: Mode::Tcp,
            balance: Balance::StaticRr,
            hash_type: HashType::default(),
            servers: vec![
                Server {
                    name: "app1".into(),
                    origin: at(40),
                    id: None,
                    addr: addr("127.0.0.1:8001"),
                    map_ports: None,
                    weight: 10,
                    backup: false,
                    disabled: false,
                    maxconn: Some(50),
                    minconn: None,
                    maxqueue: None,
                    check: None,
                    cookie: None,
                    ssl: Default::default(),
                },
                Server {
                    name: "app2".into(),
                    origin: at(41),
                    id: None,
                    addr: addr("127.0.0.1:8002"),
                    map_ports: None,
                    weight: 1,
                    backup: true,
                    disabled: false,
                    maxconn: None,
                    minconn: None,
                    maxqueue: None,
                    check: None,
                    cookie: None,
                    ssl: Default::default(),
                },
                Server {
                    name: "app3".into(),
                    origin: at(42),
                    id: None,
                    addr: addr("127.0.0.1:8003"),
                    map_ports: None,
                    weight: 0,
                    backup: false,
                    disabled: true,
                    maxconn: None,
                    minconn: None,
                    maxqueue: None,
                    check: None,
                    cookie: None,
                    ssl: Default::default(),
                },
            ],
            timeouts: Timeouts {
                connect: ms(2000),
                ..defaults_timeouts
            },
            retries: 5,
            redispatch: false,
            fullconn: None,
            load_state: crate::config::LoadState::None,
            state_file_name: None,
            abortonclose: false,
            srvtcpka: true,
            disabled: false,
            http: HttpProxy::default(),
            health: HealthConfig::default(),
            persist: Persistence::default(),
            log_targets: Vec::new(),
        }
    );
    let li = &config.backends[1];
    assert_eq!(
        (li.name.as_str(), li.balance.clone(), li.redispatch),
        ("li_extra", Balance::LeastConn, true)
    );
    assert_eq!(li.servers[0].addr, addr("127.0.0.1:7001"));

    assert_eq!(
        config.warnings,
        [
            format!("{file}:57: pollux follows HAProxy 2.6 or later"),
            // `timeout client 0` is no timeout, as in HAProxy.
            format!("{file}:45: missing timeouts for listen 'li_extra': connections may stay open forever; set 'timeout client', 'timeout connect' and 'timeout server'"),
        ]
    );
}

#[test]
fn server_state_paths_follow_global_local_and_base() {
    let c = ok("global\n  server-state-base /var/lib/p\n  server-state-file all.state\ndefaults\n  load-server-state-from-file global\nbackend a\n  server s 127.0.0.1:1\nbackend b\n  load-server-state-from-file local\n  server s 127.0.0.1:1\nbackend c\n  load-server-state-from-file local\n  server-state-file-name /abs/c.state\n  server s 127.0.0.1:1\nbackend d\n  load-server-state-from-file none\n  server s 127.0.0.1:1\n");
    let path = |n: &str| c.server_state_path(c.backends.iter().position(|b| b.name == n).unwrap());
    assert_eq!(path("a"), Some(PathBuf::from("/var/lib/p/all.state")));
    assert_eq!(path("b"), Some(PathBuf::from("/var/lib/p/b")));
    assert_eq!(path("c"), Some(PathBuf::from("/abs/c.state")));
    assert_eq!(path("d"), None);
}

#[test]
fn stats_socket_options_parse() {
    let c = ok("global\n  stats socket unix@/run/p.sock mode 660 level admin expose-fd listeners\n  stats socket /run/q.sock\n  stats timeout 2m\n");
    let s = &c.global.stats_sockets;
    assert_eq!(s.len(), 2);
    assert_eq!(s[0].addr.path(), Some(&PathBuf::from("/run/p.sock")));
    assert_eq!(s[0].mode, Some(0o660));
    assert_eq!(s[0].level, crate::config::stats_socket::Level::Admin);
    assert!(s[0].expose_fd);
    assert_eq!(s[1].level, crate::config::stats_socket::Level::Operator);
    assert!(!s[1].expose_fd);
    assert_eq!(c.global.stats_timeout, Duration::from_secs(120));
}

#[test]
fn stats_socket_addresses_are_paths_inet_or_inherited_fds() {
    use crate::config::stats_socket::CliAddr;
    let c = ok("global
  stats socket \"fd@5\" level admin
  stats socket ipv4@127.0.0.1:9999
  stats socket 127.0.0.1:9998
  stats socket relative.sock
");
    let a: Vec<_> = c
        .global
        .stats_sockets
        .iter()
        .map(|s| s.addr.clone())
        .collect();
    assert_eq!(
        a,
        [
            CliAddr::Fd(5),
            CliAddr::Inet("127.0.0.1:9999".parse().unwrap()),
            CliAddr::Inet("127.0.0.1:9998".parse().unwrap()),
            CliAddr::Unix(PathBuf::from("relative.sock")),
        ]
    );
    let dir = TempDir::new();
    for (text, want) in [
        ("global\n  stats socket fd@x\n", "pollux.cfg:2: 'stats socket' invalid file descriptor in 'fd@x'"),
        ("global\n  stats socket 127.0.0.1:9000 expose-fd listeners\n", "pollux.cfg:2: 'stats socket 127.0.0.1:9000': 'expose-fd listeners' needs a Unix socket"),
        ("global\n  stats socket abns@x\n", "pollux.cfg:2: 'stats socket' 'abns@x': abstract namespace sockets are not supported"),
    ] {
        let errs = load_text(&dir, text).unwrap_err();
        assert!(dir.rel(&errs[0].to_string()).starts_with(want), "{text}: {}", errs[0]);
    }
}

#[test]
fn directory_loads_its_cfg_files_in_lexical_order() {
    let dir = TempDir::new();
    dir.write("20-backends.cfg", "backend b2\nbackend b3\n");
    dir.write(
        "10-front.cfg",
        "frontend fe\n  bind :80\n  default_backend b3\nbackend b1\n",
    );
    dir.write("README.txt", "not a config\n");
    let config = load_with_env(std::slice::from_ref(&dir.0), &test_env).unwrap();
    let names: Vec<_> = config.backends.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(names, ["b1", "b2", "b3"]);
}

#[test]
fn each_file_starts_outside_any_section() {
    let dir = TempDir::new();
    let a = dir.write("a.cfg", "backend be\n");
    let b = dir.write("b.cfg", "  server s1 127.0.0.1:80\n");
    let errors = load_with_env(&[a, b], &test_env).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(
        dir.rel(&errors[0].to_string()),
        "b.cfg:1: unknown keyword 'server' out of section"
    );
}

#[test]
fn an_if_block_must_close_in_its_own_file() {
    let dir = TempDir::new();
    let a = dir.write("a.cfg", "global\n.if 1\n");
    let b = dir.write("b.cfg", ".endif\nbackend be\n");
    let errors: Vec<_> = load_with_env(&[a, b], &test_env)
        .unwrap_err()
        .iter()
        .map(|e| dir.rel(&e.to_string()))
        .collect();
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(errors[0].starts_with("a.cfg:2: "));
    assert!(errors[1].starts_with("b.cfg:1: "));
}

#[test]
fn a_new_defaults_section_replaces_the_previous_one() {
    let config =
        ok("defaults\n  retries 7\n  timeout connect 3s\nbackend a\ndefaults\nbackend b\n");
    assert_eq!(
        (
            config.backends[0].retries,
            config.backends[0].timeouts.connect
        ),
        (7, ms(3000))
    );
    assert_eq!(
        (
            config.backends[1].retries,
            config.backends[1].timeouts.connect
        ),
        (3, None)
    );
}

#[test]
fn balance_algorithms_and_hash_type_parse() {
    let cases: &[(&str, Balance)] = &[
        (
            "uri",
            Balance::Uri {
                len: None,
                depth: None,
                whole: false,
                path_only: false,
            },
        ),
        (
            "uri depth 2 whole len 10 path-only",
            Balance::Uri {
                len: Some(10),
                depth: Some(2),
                whole: true,
                path_only: true,
            },
        ),
        (
            "url_param sid",
            Balance::UrlParam {
                name: "sid".into(),
                check_post: None,
            },
        ),
        (
            "hdr(Host)",
            Balance::Hdr {
                name: "Host".into(),
                use_domain_only: false,
            },
        ),
        (
            "hdr(host) use_domain_only",
            Balance::Hdr {
                name: "host".into(),
                use_domain_only: true,
            },
        ),
        ("random", Balance::Random { draws: 2 }),
        ("random(5)", Balance::Random { draws: 5 }),
        (
            "rdp-cookie",
            Balance::RdpCookie {
                name: "mstshash".into(),
            },
        ),
        (
            "rdp-cookie(user)",
            Balance::RdpCookie {
                name: "user".into(),
            },
        ),
        ("response-time", Balance::ResponseTime),
    ];
    for (text, want) in cases {
        let config = ok(&format!("backend be\n  balance {text}\n"));
        assert_eq!(&config.backends[0].balance, want, "balance {text}");
        assert_eq!(config.backends[0].hash_type, HashType::default());
    }
    let ht = |method, function, avalanche| HashType {
        method,
        function,
        avalanche,
    };
    let cases = [
        ("map-based", ht(HashMethod::Map, HashFunction::Sdbm, false)),
        (
            "consistent",
            ht(HashMethod::Consistent, HashFunction::Sdbm, true),
        ),
        (
            "consistent sdbm",
            ht(HashMethod::Consistent, HashFunction::Sdbm, false),
        ),
        (
            "consistent djb2",
            ht(HashMethod::Consistent, HashFunction::Djb2, false),
        ),
        (
            "consistent wt6 avalanche",
            ht(HashMethod::Consistent, HashFunction::Wt6, true),
        ),
        (
            "map-based crc32",
            ht(HashMethod::Map, HashFunction::Crc32, false),
        ),
        (
            "map-based avalanche",
            ht(HashMethod::Map, HashFunction::Sdbm, true),
        ),
    ];
    for (text, want) in cases {
        // From defaults, inherited by the backend.
        let config = ok(&format!(
            "defaults\n  hash-type {text}\nbackend be\n  balance uri\n"
        ));
        assert_eq!(config.backends[0].hash_type, want, "hash-type {text}");
    }
}

/// Server ids as HAProxy 2.6 numbers them (checked with its `show servers
/// state`): an `id` is kept; the others take the first id no `id` names,
/// from a counter that moves one past every server.
#[test]
fn server_ids_follow_haproxy_numbering() {
    let ids = |lines: &str| ok(&format!("backend be\n{lines}")).backends[0].server_ids();
    let srv = |opts: &[&str]| {
        opts.iter()
            .enumerate()
            .map(|(i, o)| format!("  server s{i} 127.0.0.1:{} {o}\n", 1000 + i))
            .collect::<String>()
    };
    assert_eq!(ids(&srv(&["", "", ""])), [1, 2, 3]);
    assert_eq!(
        ids(&srv(&["id 7", "", "id 1", "", "id 4"])),
        [7, 2, 1, 5, 4]
    );
    assert_eq!(ids(&srv(&["", "id 1", ""])), [2, 1, 4]);
    assert_eq!(ids(&srv(&["id 3", "", "", ""])), [3, 2, 4, 5]);
    let config = ok(&format!("backend be\n{}", srv(&["id 42"])));
    assert_eq!(config.backends[0].servers[0].id, Some(42));
}

#[test]
fn defaults_apply_only_to_later_sections() {
    let config = ok("backend a\ndefaults\n  balance first\nbackend b\n");
    assert_eq!(config.backends[0].balance, Balance::RoundRobin);
    assert_eq!(config.backends[1].balance, Balance::First);
}

#[test]
fn default_backend_from_defaults_applies_to_frontends_but_not_listens() {
    let config = ok("defaults\n  default_backend be\nfrontend fe\n  bind :80\nlisten li\n  bind :81\nbackend be\n");
    assert_eq!(config.frontends[0].default_backend.as_deref(), Some("be"));
    assert_eq!(config.frontends[1].default_backend.as_deref(), Some("li"));
}

#[test]
fn listen_is_a_frontend_and_a_backend_of_the_same_name() {
    let config = ok("listen app\n  bind :80\n  server s1 127.0.0.1:81\n");
    assert_eq!(config.frontends[0].name, "app");
    assert_eq!(config.frontends[0].default_backend.as_deref(), Some("app"));
    assert_eq!(config.backends[0].name, "app");
    assert_eq!(config.backends[0].servers.len(), 1);
}

#[test]
fn frontend_and_backend_may_share_a_name() {
    let config = ok("frontend app\n  bind :80\n  default_backend app\nbackend app\n");
    assert_eq!((config.frontends.len(), config.backends.len()), (1, 1));
}

#[test]
fn frontend_without_backend_is_only_a_warning() {
    let dir = TempDir::new();
    let config = load_text(&dir, "frontend fe\n  bind :80\n").unwrap();
    assert_eq!(config.warnings.len(), 1);
    assert!(dir
        .rel(&config.warnings[0])
        .starts_with("pollux.cfg:1: frontend 'fe' has no backend"));
}

#[test]
fn disabled_frontend_needs_no_bind() {
    let config = ok("frontend fe\n  disabled\n  default_backend be\nbackend be\n");
    assert!(config.frontends[0].disabled);
}

#[test]
fn tcpka_sets_each_side_the_section_has() {
    let config = ok("frontend fe\n  bind :80\n  option tcpka\n  default_backend be\nbackend be\n  option tcpka\n");
    assert!(config.frontends[0].clitcpka);
    assert!(config.backends[0].srvtcpka);
    let config = ok("defaults\n  option tcpka\n  no option srvtcpka\nbackend be\n");
    assert!(!config.backends[0].srvtcpka);
}

#[test]
fn message_directives_go_to_warnings_with_their_place() {
    let dir = TempDir::new();
    let config = load_text(
        &dir,
        "global\n.diag \"d\"\n.notice n1 n2\n.warning 'w'\nbackend be\n",
    )
    .unwrap();
    let warnings: Vec<_> = config.warnings.iter().map(|w| dir.rel(w)).collect();
    assert_eq!(
        warnings,
        ["pollux.cfg:2: d", "pollux.cfg:3: n1 n2", "pollux.cfg:4: w"]
    );
}

#[test]
fn lines_in_a_false_branch_are_not_parsed() {
    let config =
        ok(".if 0\nfrobnicate\n.alert \"no\"\n.elif 0\n  nonsense(\n.else\nbackend be\n.endif\n");
    assert_eq!(config.backends[0].name, "be");
}

#[test]
fn conditions_see_expanded_environment_variables() {
    let config = ok(".if streq(\"$PORT\",8443)\nbackend yes\n.else\nbackend no\n.endif\n");
    assert_eq!(config.backends[0].name, "yes");
}

#[test]
fn maxrewrite_is_capped_at_half_a_buffer() {
    let config = ok("global\n  tune.bufsize 4096\n  tune.maxrewrite 4096\n");
    assert_eq!(config.global.maxrewrite, 2048);
}

#[test]
fn empty_path_list_is_an_empty_config() {
    let config = load_with_env(&[], &test_env).unwrap();
    assert_eq!(config.global, Global::default());
    assert!(config.frontends.is_empty() && config.backends.is_empty());
}

#[test]
fn load_reads_the_process_environment() {
    // HOME or PATH is set in any test environment; only reading is done.
    let dir = TempDir::new();
    let path = dir.write("pollux.cfg", ".if defined(PATH)\nbackend seen\n.endif\n");
    let config = load(&[path]).unwrap();
    assert_eq!(config.backends[0].name, "seen");
}

#[test]
fn crlf_line_endings_are_accepted() {
    let config = ok("global\r\n  maxconn 7\r\nbackend be\r\n");
    assert_eq!(config.global.maxconn, 7);
}

/// HTTP keyword errors; each body is placed in a frontend in HTTP mode whose
/// first body line is line 4, followed by an HTTP backend `be`.
const HTTP_ERROR_TABLE: &[(&str, &str)] = &[
    ("http-request deny if { path_reg ( }\n", "pollux.cfg:4: anonymous ACL: regex '(' is invalid: unclosed group"),
    ("acl bad path_reg (\n", "pollux.cfg:4: acl 'bad': regex '(' is invalid: unclosed group"),
    ("http-request deny if nope\n", "pollux.cfg:4: no such ACL : 'nope'"),
    ("acl x nosuch(1) foo\n", "pollux.cfg:4: acl 'x': unknown fetch method 'nosuch'"),
    ("acl x src 1.2.3.999\n", "pollux.cfg:4: acl 'x': '1.2.3.999' is not a valid IPv4 or IPv6 address"),
    ("acl x\n", "pollux.cfg:4: 'acl x' expects a criterion"),
    ("acl x req.hdr(host),lowr -m str a\n", "pollux.cfg:4: acl 'x': unknown converter 'lowr'"),
    ("acl x req.hdr(host),map(/nonexistent/h.map) -m str a\n", "pollux.cfg:4: acl 'x': converter 'map': failed to load map file '/nonexistent/h.map'"),
    ("http-request set-header X %[src,field(0,/)]\n", "pollux.cfg:4: converter 'field': Unexpected value 0 for index"),
    ("http-request set-header X %[str(a),regsub(a,b,q)]\n", "pollux.cfg:4: converter 'regsub': invalid regex flag 'q'"),
    ("http-request set-header X %[str(a),bytes(x)]\n", "pollux.cfg:4: converter 'bytes': failed to parse 'x'"),
    ("http-request set-header X %[bool(maybe)]\n", "pollux.cfg:4: fetch method 'bool': Expects 'true', 'false', '0' or '1'"),
    ("http-request deny deny_status 99\n", "pollux.cfg:4: 'http-request deny': invalid status code '99'"),
    ("http-request deny deny_status\n", "pollux.cfg:4: 'http-request deny' expects a status code"),
    ("http-request deny status 418 default-errorfiles\n", "pollux.cfg:4: 'http-request deny': status code '418' not handled by default with 'default-errorfiles'"),
    ("http-request add-header X-A\n", "pollux.cfg:4: 'http-request add-header' expects exactly 2 argument(s)"),
    ("http-request replace-header X ( y\n", "pollux.cfg:4: 'http-request replace-header': invalid regex '('"),
    ("http-request set-path\n", "pollux.cfg:4: 'http-request set-path' expects exactly 1 argument(s)"),
    ("http-request\n", "pollux.cfg:4: 'http-request' expects an action"),
    ("http-request frobnicate\n", "pollux.cfg:4: unknown 'http-request' action 'frobnicate'"),
    ("http-request set-map(/x) a b\n", "pollux.cfg:4: 'http-request set-map(/x)' is not supported yet"),
    ("http-request set-var(foo.x) str(1)\n", "pollux.cfg:4: 'http-request set-var(foo.x)': invalid variable name 'foo.x'. A variable name must be start by its scope. The scope can be 'proc', 'sess', 'txn', 'req' or 'res'"),
    ("http-request set-var(txn) str(1)\n", "pollux.cfg:4: 'http-request set-var(txn)': invalid variable name 'txn'"),
    ("http-request set-var(txn.a-b) str(1)\n", "pollux.cfg:4: 'http-request set-var(txn.a-b)': invalid variable name 'txn.a-b': invalid syntax at char '-b'"),
    ("http-request set-var(check.x) str(1)\n", "pollux.cfg:4: 'http-request set-var(check.x)': variable 'check.x': the 'check' scope (health checks) is not supported yet"),
    ("http-request set-var(txn.x,ifbogus) str(1)\n", "pollux.cfg:4: 'http-request set-var(txn.x,ifbogus)': unknown condition \"ifbogus\""),
    ("http-request unset-var(txn.x,ifexists)\n", "pollux.cfg:4: 'http-request unset-var(txn.x,ifexists)': unset-var does not expect parameters after the variable name"),
    ("http-request unset-var(txn.x) str(1)\n", "pollux.cfg:4: 'http-request unset-var(txn.x)' expects either 'if' or 'unless' followed by a condition but found 'str(1)'"),
    ("http-request set-var(txn.x)\n", "pollux.cfg:4: 'http-request set-var(txn.x)': missing fetch method"),
    ("http-request set-var(txn.x) str(1) str(2)\n", "pollux.cfg:4: 'http-request set-var(txn.x)' expects either 'if' or 'unless' followed by a condition but found 'str(2)'"),
    ("http-request set-var(txn.x str(1)\n", "pollux.cfg:4: 'http-request set-var(txn.x': invalid or incomplete action"),
    ("http-request set-var-fmt(txn.x)\n", "pollux.cfg:4: 'http-request set-var-fmt(txn.x)' expects a log-format string"),
    ("http-request set-var(txn.x) nosuch\n", "pollux.cfg:4: 'http-request set-var(txn.x)': unknown fetch method 'nosuch'"),
    ("http-request set-var(req.x) res.hdr(x)\n", "pollux.cfg:4: request rule uses a fetch that extracts information from response contents"),
    ("http-response set-var-fmt(res.x,ifnope) %[status]\n", "pollux.cfg:4: 'http-response set-var-fmt(res.x,ifnope)': unknown condition \"ifnope\""),
    ("http-request set-header X %[var(bad.x)]\n", "pollux.cfg:4: fetch method 'var': invalid variable name 'bad.x'"),
    ("http-request set-header X %[var()]\n", "pollux.cfg:4: fetch method 'var': Empty variable name cannot be accepted"),
    ("http-request set-header X %[var(txn.x,1,2)]\n", "pollux.cfg:4: fetch method 'var' expects 1 to 2 arguments"),
    ("http-request set-header X %[str(a),set-var(txn.x,ifbad)]\n", "pollux.cfg:4: converter 'set-var': unknown condition \"ifbad\""),
    ("http-request set-header X %[str(a),unset-var(txn.x,a)]\n", "pollux.cfg:4: converter 'unset-var': end of arguments expected at position 2"),
    ("http-request set-header X %[str(a),set-var(sess)]\n", "pollux.cfg:4: converter 'set-var': invalid variable name 'sess'"),
    ("acl x var(txn.a) foo\n", "pollux.cfg:4: acl 'x': matching method must be specified first (using '-m') when using a sample fetch of this type ('var')"),
    ("http-request track-sc0 src\n", "pollux.cfg:4: 'http-request track-sc0' in frontend 'fe': no stick-table in this section (add one or use 'table NAME')"),
    ("http-request set-header X %Tt\n", "pollux.cfg:4: log-format variable '%Tt' is not supported yet outside 'log-format' and 'unique-id-format' ('%Tt')"),
    ("tcp-request content accept if { capture.req.hdr(0) -m found }\n", "pollux.cfg:4: the 'unique-id', 'capture.req.hdr' and 'capture.res.hdr' fetches are not supported yet in tcp-request content rules"),
    ("http-request capture req.hdr(x)\n", "pollux.cfg:4: 'http-request capture' expects a sample expression followed by 'len N' or 'id N'"),
    ("http-request capture req.hdr(x) size 3\n", "pollux.cfg:4: 'http-request capture' expects a sample expression followed by 'len N' or 'id N'"),
    ("http-request capture req.hdr(x) len 0\n", "pollux.cfg:4: 'http-request capture ... len': value '0' out of range"),
    ("http-request capture req.hdr(x) id 0\n", "pollux.cfg:4: 'http-request capture ... id 0': no request capture slot 0 declared"),
    ("http-request capture nosuch len 5\n", "pollux.cfg:4: 'http-request capture': unknown fetch method 'nosuch'"),
    ("http-request capture res.hdr(x) len 5\n", "pollux.cfg:4: request rule uses a fetch that extracts information from response contents"),
    ("http-response capture res.hdr(x) id 0\n", "pollux.cfg:4: 'http-response capture ... id 0': no response capture slot 0 declared (see 'declare capture response len N')"),
    ("http-response capture res.hdr(x) len 3\n", "pollux.cfg:4: 'http-response capture' expects a sample expression followed by 'id N'"),
    ("declare capture request\n", "pollux.cfg:4: 'declare' expects 'capture request len N' or 'capture response len N'"),
    ("declare capture sideways len 3\n", "pollux.cfg:4: 'declare' expects 'capture request len N' or 'capture response len N'"),
    ("declare capture request len 3 more\n", "pollux.cfg:4: unexpected argument 'more'"),
    ("http-request set-header X %[req.hdr(host)\n", "pollux.cfg:4: missing ']' after '%[' in log-format '%[req.hdr(host)'"),
    ("http-request set-header X %{+Q\n", "pollux.cfg:4: missing '}' in log-format '%{+Q'"),
    ("http-request set-header X %[nosuch]\n", "pollux.cfg:4: unknown fetch method 'nosuch' in log-format '%[nosuch]'"),
    ("http-request set-header X %[src,json_query($.a)]\n", "pollux.cfg:4: converter 'json_query' is not supported yet"),
    ("http-request deny if { status 500 }\n", "pollux.cfg:4: request rule uses a fetch that extracts information from response contents"),
    ("http-request return status 200 string hi\n", "pollux.cfg:4: 'http-request return': a content type must be defined"),
    ("http-request return status 204 content-type text/plain string hi\n", "pollux.cfg:4: 'http-request return': no payload may be sent with status 204"),
    ("http-request return status 700\n", "pollux.cfg:4: 'http-request return': invalid status code '700'"),
    ("http-request return file /nonexistent/x.html content-type text/html\n", "pollux.cfg:4: 'http-request return': cannot read file '/nonexistent/x.html'"),
    ("http-request return errorfile /nonexistent/x.http\n", "pollux.cfg:4: 'http-request return': cannot read '/nonexistent/x.http'"),
    ("http-request return errorfile /etc/hostname\n", "pollux.cfg:4: 'http-request return': '/etc/hostname' is not an HTTP response (it must start with 'HTTP/')"),
    ("http-request return errorfiles nosuch\n", "pollux.cfg:4: unable to find http-errors section 'nosuch'"),
    ("http-request deny errorfiles nosuch\n", "pollux.cfg:4: unable to find http-errors section 'nosuch'"),
    ("http-request deny deny_status 403 errorfiles\n", "pollux.cfg:4: 'http-request deny': 'errorfiles' expects an argument"),
    ("http-request deny default-errorfiles hdr x y\n", "pollux.cfg:4: 'http-request deny': 'content-type' and 'hdr' cannot be used with an error file"),
    ("http-request return default-errorfiles string x\n", "pollux.cfg:4: 'http-request return': only one payload may be given"),
    ("errorfiles nosuch 404\n", "pollux.cfg:4: unable to find http-errors section 'nosuch'"),
    ("errorfiles\n", "pollux.cfg:4: 'errorfiles' expects the name of an 'http-errors' section"),
    ("errorfiles x 999\n", "pollux.cfg:4: 'errorfiles': status code '999' not handled"),
    ("http-error status 999\n", "pollux.cfg:4: 'http-error': status code '999' not handled"),
    ("http-error 403\n", "pollux.cfg:4: 'http-error' expects 'status' and a status code"),
    ("http-error status 403 status 404\n", "pollux.cfg:4: 'http-error': 'status' may be given only once"),
    ("http-error status 403 errorfiles nosuch\n", "pollux.cfg:4: unable to find http-errors section 'nosuch'"),
    ("http-response set-status 1000\n", "pollux.cfg:4: 'http-response set-status': invalid status code '1000'"),
    ("http-response tarpit\n", "pollux.cfg:4: 'http-response tarpit' is not supported yet"),
    ("http-after-response strict-mode on\n", "pollux.cfg:4: 'http-after-response strict-mode' is not supported yet"),
    ("http-after-response deny\n", "pollux.cfg:4: unknown 'http-after-response' action 'deny'"),
    ("http-after-response set-map(/x) a b\n", "pollux.cfg:4: unknown 'http-after-response' action 'set-map(/x)'"),
    ("http-after-response\n", "pollux.cfg:4: 'http-after-response' expects an action"),
    ("http-after-response if TRUE\n", "pollux.cfg:4: 'http-after-response' expects an action"),
    ("http-after-response del-header x -m beg\n", "pollux.cfg:4: 'http-after-response del-header ... -m' is not supported yet"),
    ("http-after-response set-status 1000\n", "pollux.cfg:4: 'http-after-response set-status': invalid status code '1000'"),
    ("http-after-response capture res.hdr(x) id 0\n", "pollux.cfg:4: 'http-after-response capture ... id 0': no response capture slot 0 declared"),
    ("http-after-response set-header X %[nosuch]\n", "pollux.cfg:4: unknown fetch method 'nosuch'"),
    ("http-response set-path /x\n", "pollux.cfg:4: 'http-response set-path' is not supported yet"),
    ("reqrep ^foo\n", "pollux.cfg:4: 'reqrep' expects <search> and <replace> as arguments"),
    ("reqirep ( x\n", "pollux.cfg:4: 'reqirep': invalid regex '('"),
    ("reqadd\n", "pollux.cfg:4: 'reqadd' expects a header line as argument"),
    ("reqadd NoColon\n", "pollux.cfg:4: 'reqadd': 'NoColon' is not a 'Name: value' header line"),
    ("reqdeny ^x extra\n", "pollux.cfg:4: unexpected argument 'extra' after 'reqdeny'"),
    ("reqsetbe ^x be\n", "pollux.cfg:4: 'reqsetbe' is not supported yet"),
    ("rspdeny ^x if nope\n", "pollux.cfg:4: no such ACL : 'nope'"),
    ("redirect\n", "pollux.cfg:4: 'redirect' expects 'location', 'prefix' or 'scheme'"),
    ("redirect prefix\n", "pollux.cfg:4: 'redirect' expects 'location', 'prefix' or 'scheme'"),
    ("redirect prefix /x code 304\n", "pollux.cfg:4: 'redirect': unsupported HTTP code '304'"),
    ("redirect prefix /x set-cookie A=1\n", "pollux.cfg:4: 'redirect' option 'set-cookie' is not supported yet"),
    ("redirect scheme https frob\n", "pollux.cfg:4: 'redirect': unknown option 'frob'"),
    ("use_backend\n", "pollux.cfg:4: 'use_backend' expects a backend name"),
    ("use_backend nowhere if TRUE\n", "pollux.cfg:4: use_backend 'nowhere' of frontend 'fe': no such backend"),
    ("use_backend be when x\n", "pollux.cfg:4: unexpected argument 'when' after 'use_backend be'"),
    ("use_backend %[req.hdr(host)\n", "pollux.cfg:4: missing ']' after '%['"),
    ("use_backend %[res.hdr(x)]\n", "pollux.cfg:4: request rule uses a fetch that extracts information from response contents"),
    ("use_backend be_%Tt\n", "pollux.cfg:4: log-format variable '%Tt' is not supported yet outside"),
    ("monitor-uri\n", "pollux.cfg:4: 'monitor-uri' expects a URI"),
    ("capture request header Host\n", "pollux.cfg:4: 'capture' expects"),
    ("capture cookie SID len 0\n", "pollux.cfg:4: 'capture ... len': value '0' out of range"),
    ("capture cookie A len 8\n  capture cookie B len 8\n", "pollux.cfg:5: only one 'capture cookie' is allowed"),
    ("tcp-request connection reject if { req.len gt 0 }\n", "pollux.cfg:4: tcp-request connection rule uses a fetch that extracts information from request buffer contents"),
    ("tcp-request connection reject if { path / }\n", "pollux.cfg:4: tcp-request connection rule uses a fetch that extracts information from HTTP request contents"),
    ("tcp-request content track-sc0 src\n", "pollux.cfg:4: 'tcp-request content track-sc0' in frontend 'fe': no stick-table in this section (add one or use 'table NAME')"),
    ("tcp-request content sc-set-gpt0(0) 1\n", "pollux.cfg:4: 'tcp-request content sc-set-gpt0(0)' is not supported yet"),
    ("tcp-request content frob\n", "pollux.cfg:4: unknown 'tcp-request content' action 'frob'"),
    ("tcp-request content set-var(txn.x) status\n", "pollux.cfg:4: tcp-request content rule uses a fetch that extracts information from response contents"),
    ("tcp-request connection set-var(sess.x) req.len\n", "pollux.cfg:4: tcp-request connection rule uses a fetch that extracts information from request buffer contents"),
    ("tcp-request content set-var(foo.x) src\n", "pollux.cfg:4: 'tcp-request content set-var(foo.x)': invalid variable name 'foo.x'"),
    ("tcp-request content accept now\n", "pollux.cfg:4: unexpected argument 'now' after 'tcp-request content accept'"),
    ("tcp-request inspect-delay soon\n", "pollux.cfg:4: 'tcp-request inspect-delay': invalid time 'soon'"),
    ("tcp-request session accept\n", "pollux.cfg:4: 'tcp-request session' is not supported yet"),
    ("tcp-request frob\n", "pollux.cfg:4: 'tcp-request' expects 'connection', 'content' or 'inspect-delay', got 'frob'"),
    ("errorfile 999 /x\n", "pollux.cfg:4: 'errorfile': status code '999' not handled"),
    ("errorfile 503 /nonexistent/503.http\n", "pollux.cfg:4: 'errorfile 503': cannot read '/nonexistent/503.http'"),
    ("option forwardfor except bad\n", "pollux.cfg:4: 'option forwardfor': invalid IP address or network 'bad'"),
    ("option forwardfor foo\n", "pollux.cfg:4: 'option forwardfor': unknown parameter 'foo'"),
    ("option originalto if-none\n", "pollux.cfg:4: 'option originalto': unknown parameter 'if-none'"),
    ("option httpclose now\n", "pollux.cfg:4: unexpected argument 'now' after 'option httpclose'"),
    ("option http-no-delay\n", "pollux.cfg:4: 'option http-no-delay' is not supported yet"),
    ("option http-buffer-request now\n", "pollux.cfg:4: unexpected argument 'now' after 'option http-buffer-request'"),
    ("http-request wait-for-body\n", "pollux.cfg:4: 'http-request wait-for-body' expects time <time> [ at-least <bytes> ]"),
    ("http-request wait-for-body at-least 1k\n", "pollux.cfg:4: 'http-request wait-for-body' expects time <time> [ at-least <bytes> ]"),
    ("http-request wait-for-body time\n", "pollux.cfg:4: 'http-request wait-for-body': missing argument for 'time'"),
    ("http-request wait-for-body time 1x\n", "pollux.cfg:4: 'http-request wait-for-body time': invalid time '1x' (expected an integer with optional unit us, ms, s, m, h or d)"),
    ("http-request wait-for-body time 1s at-least lots\n", "pollux.cfg:4: 'http-request wait-for-body at-least': expected a size (integer with optional k, m, g), got 'lots'"),
    ("http-request wait-for-body time 1s now\n", "pollux.cfg:4: unexpected argument 'now' after 'http-request wait-for-body'"),
    ("http-response wait-for-body time 1s\n", "pollux.cfg:4: 'http-response wait-for-body' is not supported yet"),
    ("stick on src\n", "pollux.cfg:4: 'stick' not allowed in 'frontend' section"),
    ("timeout http-request x\n", "pollux.cfg:4: 'timeout http-request': invalid time 'x'"),
];

#[test]
fn every_http_keyword_error_is_reported_at_its_file_and_line() {
    let mut failures = Vec::new();
    for (body, expected) in HTTP_ERROR_TABLE {
        let text = format!(
            "frontend fe\n  mode http\n  bind :80\n  {body}  default_backend be\nbackend be\n  mode http\n"
        );
        let (loc, fragment) = expected.split_once(": ").unwrap();
        let errors = errors_of(&text);
        let found = errors.len() == 1
            && errors[0].starts_with(&format!("{loc}: "))
            && errors[0].contains(fragment);
        if !found {
            failures.push(format!(
                "config:\n{text}expected exactly: {expected}\ngot: {errors:#?}\n"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n{}",
        failures.len(),
        HTTP_ERROR_TABLE.len(),
        failures.join("\n")
    );
}

#[test]
fn http_errors_outside_a_frontend() {
    for (text, expected) in [
        ("defaults\n  acl a src 1.2.3.4\nbackend be\n", "pollux.cfg:2: 'acl' not allowed in 'defaults' section"),
        ("defaults\n  http-request deny\nbackend be\n", "pollux.cfg:2: 'http-request' not allowed in 'defaults' section"),
        ("defaults\n  mode http\n  http-after-response allow\nbackend be\n", "pollux.cfg:3: 'http-after-response' not allowed in anonymous 'defaults' section"),
        ("defaults d\n  mode http\n  http-after-response allow\nlisten ls\n", "pollux.cfg:4: a listen section cannot inherit from a defaults section defining TCP/HTTP rules"),
        ("defaults d\n  mode http\n  http-after-response allow\nbackend b1\nbackend b2\nfrontend fe\n", "pollux.cfg:6: frontends and backends cannot inherit from the same defaults section if it defines TCP/HTTP rules (defaults section at pollux.cfg:1)"),
        ("defaults d\n  mode http\n  http-after-response capture res.hdr(x) id 0\nbackend be\n", "pollux.cfg:3: 'http-after-response capture' in a 'defaults' section is not supported yet"),
        ("backend be\n  mode http\n  http-after-response capture res.hdr(x) id 0\n", "pollux.cfg:3: 'http-after-response capture' in a 'backend' section is not supported yet"),
        ("backend be\n  capture cookie A len 8\n", "pollux.cfg:2: 'capture' not allowed in 'backend' section"),
        ("backend be\n  mode http\n  http-request capture src len 8\n", "pollux.cfg:3: 'http-request capture' in a 'backend' section is not supported yet"),
        ("backend be\n  declare capture request len 8\n", "pollux.cfg:2: 'declare' not allowed in 'backend' section"),
        ("backend be\n  unique-id-header X-Id\n", "pollux.cfg:2: 'unique-id-header' not allowed in 'backend' section"),
        ("backend be\n  mode http\n  use-server s1\n  server s1 127.0.0.1:80\n", "pollux.cfg:3: 'use-server' requires either 'if' or 'unless' followed by a condition"),
        ("backend be\n  mode http\n  use-server nosuch if TRUE\n  server s1 127.0.0.1:80\n", "pollux.cfg:3: backend 'be': unable to find server 'nosuch' referenced in a 'use-server' rule"),
        ("backend be\n  use-server s1 if TRUE\n  server s1 127.0.0.1:80\n", "pollux.cfg:2: 'use-server' in a TCP backend is not supported yet"),
        ("frontend fe\n  bind :80\n  use-server s1 if TRUE\n", "pollux.cfg:3: 'use-server' not allowed in 'frontend' section"),
        ("backend be\n  mode http\n  use-server %[res.hdr(x)] if TRUE\n", "pollux.cfg:3: request rule uses a fetch that extracts information from response contents, none of which is available here"),
        ("backend be\n  mode http\n  http-request set-header x %[ssl_bc]\n", "pollux.cfg:3: request rule uses a fetch that extracts information from the server connection, none of which is available here"),
        ("frontend fe\n  mode http\n  bind :80\n  unique-id-format %[ssl_bc_cipher]\n", "pollux.cfg:4: sample fetch <ssl_bc_cipher> may not be reliably used here because it needs 'the server connection' which is not available here"),
        ("backend be\n  mode http\n  http-response set-header x %[ssl_bc_session_id]\n", "pollux.cfg:3: fetch method 'ssl_bc_session_id' is not supported yet in log-format '%[ssl_bc_session_id]'"),
        ("backend be\n  mode http\n  use-server %[unique-id] if TRUE\n", "pollux.cfg:3: the 'unique-id', 'capture.req.hdr' and 'capture.res.hdr' fetches are not supported yet in 'use-server'"),
        ("backend be\n  mode http\n  use-server\n", "pollux.cfg:3: 'use-server' expects a server name"),
        ("backend be\n  use_backend x\n", "pollux.cfg:2: 'use_backend' not allowed in 'backend' section"),
        ("backend be\n  tcp-request content reject\n", "pollux.cfg:2: 'tcp-request content' in a backend is not supported yet"),
        ("backend be\n  tcp-request connection reject\n", "pollux.cfg:2: 'tcp-request connection' not allowed in 'backend' section"),
        ("backend be\n  cookie SRV dynamic\n", "pollux.cfg:2: 'cookie' option 'dynamic' is not supported yet"),
        ("frontend fe\n  mode http\n  bind :80\n  default_backend be\nbackend be\n  mode tcp\n", "pollux.cfg:4: frontend 'fe': unable to use proxy 'be' with wrong mode, required: http, has: tcp"),
        ("frontend fe\n  bind :80\n  use_backend web if TRUE\n  default_backend be\nbackend be\nbackend web\n  mode http\n", "pollux.cfg:3: frontend 'fe': unable to use proxy 'web' with wrong mode, required: tcp, has: http"),
        // ACLs belong to their section.
        ("frontend fe\n  bind :80\n  acl local src 127.0.0.1\n  default_backend be\nbackend be\n  http-request deny if local\n", "pollux.cfg:6: no such ACL : 'local'"),
    ] {
        assert_eq!(errors_of(text), [expected], "{text}");
    }
}

fn http_config(dir: &TempDir) -> String {
    let errfile = dir.write("503.http", "HTTP/1.1 503 Busy\r\ncontent-length: 0\r\n\r\n");
    let page = dir.write("page.html", "<p>hi</p>\n");
    format!(
        r#"defaults
    mode http
    timeout http-request 10s
    timeout http-keep-alive 2s
    option http-server-close
    option forwardfor except 127.0.0.0/8 header X-Client if-none
    errorfile 503 {errfile}

frontend web
    bind :8080
    acl is_api path_beg /api
    acl is_api hdr(host) -i api.example.com
    acl local src 127.0.0.1
    tcp-request inspect-delay 5s
    tcp-request connection reject unless {{ src 0.0.0.0/0 }}
    tcp-request content accept if {{ req.len gt 0 }}
    capture request header Host len 64
    capture response header Server len 32
    capture cookie SID len 16
    monitor-uri /healthz
    redirect scheme https code 301 if !local
    reqadd X-Legacy:\ 1
    reqirep ^Host:\ www\.(.*) Host:\ \1
    http-request set-header X-Path %[path] if is_api
    http-response del-header Server
    rspadd X-Frame-Options:\ DENY
    use_backend api if is_api
    default_backend static
    option originalto

backend api
    no option http-server-close
    option httpclose
    http-request return status 200 content-type text/html file {page}
    server a1 127.0.0.1:9001

backend static
    server s1 127.0.0.1:9002

listen both
    bind :8081
    http-request deny if {{ path /x }}
    server b1 127.0.0.1:9003
"#,
        errfile = errfile.display(),
        page = page.display()
    )
}

#[test]
fn full_http_config_parses_into_the_model() {
    use crate::http::rules::{Action, TcpAction};
    let dir = TempDir::new();
    let text = http_config(&dir);
    let config = load_text(&dir, &text).unwrap_or_else(|e| panic!("{e:#?}"));
    let fe = &config.frontends[0];
    assert_eq!(fe.mode, Mode::Http);
    assert_eq!(fe.timeouts.http_request, ms(10_000));
    assert_eq!(fe.timeouts.http_keep_alive, ms(2_000));
    assert_eq!(fe.http.conn_mode, ConnMode::ServerClose);
    assert_eq!(
        fe.http.forwardfor,
        Some(ForwardFor {
            except: Some(("127.0.0.0".parse().unwrap(), 8)),
            header: "X-Client".into(),
            if_none: true,
        })
    );
    assert_eq!(fe.http.originalto.as_ref().unwrap().header, "X-Original-To");
    assert_eq!(fe.http.errorfiles.len(), 1);
    assert_eq!(fe.http.errorfiles[0].0, 503);
    assert!(fe.http.errorfiles[0].1.starts_with(b"HTTP/1.1 503 Busy"));
    // http-request first, then req* with reqadd last, then redirect.
    let kinds: Vec<&str> = fe
        .http
        .rules_req
        .iter()
        .map(|r| match r.action {
            Action::SetHeader(..) => "set-header",
            Action::LineReplace(..) => "reqirep",
            Action::LineAdd(..) => "reqadd",
            Action::Redirect(..) => "redirect",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["set-header", "reqirep", "reqadd", "redirect"]);
    assert_eq!(fe.http.rules_res.len(), 2);
    assert!(
        matches!(fe.http.rules_res[1].action, Action::LineAdd(ref l) if l == "X-Frame-Options: DENY")
    );
    assert!(!fe.http.listen);
    let r = &fe.rules;
    assert_eq!(r.use_backend.len(), 1);
    assert_eq!(r.use_backend[0].0, UseBackend::Name("api".into()));
    assert!(r.use_backend[0].1.is_some());
    assert_eq!(r.monitor_uri.as_deref(), Some("/healthz"));
    assert_eq!(r.captures_req, [("Host".to_string(), 64)]);
    assert_eq!(r.captures_res, [("Server".to_string(), 32)]);
    assert_eq!(r.capture_cookie, Some(("SID".to_string(), 16)));
    assert_eq!(r.inspect_delay, ms(5_000));
    assert_eq!(r.tcp_conn.len(), 1);
    assert_eq!(r.tcp_conn[0].action, TcpAction::Reject);
    assert_eq!(r.tcp_content[0].action, TcpAction::Accept);

    let api = &config.backends[0];
    assert_eq!(api.http.conn_mode, ConnMode::Close);
    assert!(matches!(&api.http.rules_req[0].action, Action::Return(r) if r.status == 200));
    let both_fe = &config.frontends[1];
    let both_be = config.backends.iter().find(|b| b.name == "both").unwrap();
    assert!(both_fe.http.listen && both_be.http.listen);
    assert_eq!(both_fe.http.rules_req, both_be.http.rules_req);
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
}

#[test]
fn http_rules_in_tcp_mode_are_a_warning() {
    let dir = TempDir::new();
    let config = load_text(
        &dir,
        "frontend fe\n  bind :80\n  http-request deny\n  default_backend be\nbackend be\n",
    )
    .unwrap();
    let warnings: Vec<_> = config.warnings.iter().map(|w| dir.rel(w)).collect();
    assert_eq!(
        warnings,
        ["pollux.cfg:3: 'http-request' rules ignored for frontend 'fe' as they require HTTP mode"]
    );
}

#[test]
fn no_option_resets_the_connection_mode() {
    let config = ok("defaults\n  mode http\n  option httpclose\nbackend a\n  no option httpclose\nbackend b\n  no option http-server-close\n");
    assert_eq!(config.backends[0].http.conn_mode, ConnMode::KeepAlive);
    assert_eq!(config.backends[1].http.conn_mode, ConnMode::Close);
}

#[test]
fn tcp_mode_inspection_config() {
    let config = ok("frontend fe\n  bind :443\n  tcp-request inspect-delay 5s\n  tcp-request content accept if { req.ssl_ver 3.0: }\n  tcp-request content reject if { req.payload(0,4) -m str SSH- }\n  default_backend be\nbackend be\n");
    assert_eq!(config.frontends[0].rules.tcp_content.len(), 2);
    assert!(config.warnings.is_empty());
}

#[test]
fn misplaced_timeouts_and_options_are_ignored_with_a_warning_as_haproxy() {
    let cfg = "frontend fe\n  bind :80\n  timeout server 5s\n  option redispatch\n  default_backend be\nbackend be\n  timeout client 5s\n  server s 127.0.0.1:80\n";
    let dir = std::env::temp_dir().join(format!("pollux-cfg-misplaced-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("pollux.cfg");
    std::fs::write(&path, cfg).unwrap();
    let c = super::load(&[path]).expect("misplaced timeouts are not errors");
    let joined = c.warnings.join("\n");
    assert!(joined.contains("pollux.cfg:3: 'timeout server' ignored because frontend 'fe' has no backend capability"), "{joined}");
    assert!(
        joined.contains("pollux.cfg:4: 'option redispatch' ignored"),
        "{joined}"
    );
    assert!(joined.contains("pollux.cfg:7: 'timeout client' ignored because backend 'be' has no frontend capability"), "{joined}");
    assert_eq!(c.frontends[0].timeouts.server, None, "ignored, not applied");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn log_global_is_resolved_after_every_section_and_no_log_clears_it() {
    let dir = TempDir::new();
    let config = load_text(
        &dir,
        "defaults\n  log global\n  option httplog\n\
         frontend web\n  mode http\n  bind :80\n  default_backend be\n\
         frontend raw\n  mode tcp\n  bind :81\n  default_backend tb\n\
         frontend quiet\n  mode http\n  bind :82\n  no log\n  default_backend be\n\
         backend be\n  mode http\n\
         backend tb\n  mode tcp\n\
         global\n  log 127.0.0.1:514 local0\n  log /dev/log local1 notice\n",
    )
    .unwrap();
    let fe = |n: &str| config.frontends.iter().find(|f| f.name == n).unwrap();
    let web = fe("web").log.as_ref().expect("web logs");
    assert_eq!(web.targets.len(), 2, "the global section's two targets");
    assert_eq!(web.targets[1].level, 5, "notice");
    assert_eq!(
        web.format,
        Some(crate::log::LogFormat::parse(crate::log::HTTPLOG).unwrap())
    );
    let raw = fe("raw").log.as_ref().expect("raw logs");
    assert_eq!(
        raw.format,
        Some(crate::log::LogFormat::parse(crate::log::TCPLOG).unwrap()),
        "httplog falls back to tcplog in TCP mode"
    );
    assert!(config.warnings.iter().any(|w| w.contains("frontend 'raw'")
        && w.contains("'option httplog' not usable with a TCP frontend")));
    assert!(fe("quiet").log.is_none(), "no log");
    assert_eq!(config.backends[0].log_targets.len(), 2);
}

#[test]
fn load_text_reports_errors_at_the_given_name_and_line() {
    let text = "global\n    maxconn 10\nfrontend fe\n    frobnicate on\n";
    let errors = super::load_text("mem.cfg", text, &|_| None).unwrap_err();
    let shown: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    assert!(
        shown
            .iter()
            .any(|e| e.starts_with("mem.cfg:4: ") && e.contains("frobnicate")),
        "{shown:?}"
    );
    let ok = "frontend fe\n    bind \"127.0.0.1:${P-8080}\"\n    mode tcp\n    default_backend be\nbackend be\n    mode tcp\n    server s 127.0.0.1:81\n";
    let config = super::load_text("mem.cfg", ok, &|_| None).expect("a valid config");
    assert_eq!(config.frontends.len(), 1);
}

#[test]
fn log_address_with_unset_variables_is_haproxys_any_address_and_syslog_port() {
    // What HAProxy's reg-tests write when no syslog server is declared.
    let c = ok("global\n  log ${POLLUX_T_NO_ADDR}:${POLLUX_T_NO_PORT} daemon\n");
    let t = &c.global.log.targets;
    assert_eq!(t.len(), 1);
    assert_eq!(
        t[0].addr,
        crate::log::LogAddr::Udp("0.0.0.0:514".parse().unwrap())
    );
}

#[test]
fn performance_only_tuning_is_accepted_with_a_warning() {
    let dir = TempDir::new();
    let config = load_text(
        &dir,
        "global\n  tune.idle-pool.shared on\n  tune.runqueue-depth 200\nbackend be\n",
    )
    .unwrap();
    let warnings: Vec<_> = config.warnings.iter().map(|w| dir.rel(w)).collect();
    assert_eq!(warnings.len(), 2);
    assert!(warnings[0].starts_with("pollux.cfg:2: 'tune.idle-pool.shared' only tunes"));
    assert!(warnings[1].contains("no effect in pollux"));
    // Values are still checked; other tune.* keywords are still refused.
    for (text, want) in [
        (
            "global\n  tune.idle-pool.shared maybe\n",
            "pollux.cfg:2: 'tune.idle-pool.shared' expects 'on' or 'off', got 'maybe'",
        ),
        (
            "global\n  tune.maxpollevents\n",
            "pollux.cfg:2: 'tune.maxpollevents' expects an integer",
        ),
        (
            "global\n  tune.vars.global-max-size 10\n",
            "pollux.cfg:2: 'tune.vars.global-max-size' is not supported yet",
        ),
    ] {
        let errs = load_text(&dir, text).unwrap_err();
        assert!(
            dir.rel(&errs[0].to_string()).starts_with(want),
            "{text}: {}",
            errs[0]
        );
    }
}

#[test]
fn global_set_var_takes_proc_variables_and_samples_without_traffic() {
    let c = ok("global\n  set-var proc.a int(12)\n  set-var-fmt proc.b \"%[var(proc.a)] and %%[src]\"\n  set-var proc.c var(proc.x,60),div(proc.a)\n");
    assert_eq!(c.global.set_vars.len(), 3);
    for (text, want) in [
        (
            "global\n  set-var txn.x int(1)\n",
            "pollux.cfg:2: 'set-var': cannot set variable 'txn.x', only scope 'proc' is permitted in the global section",
        ),
        (
            "global\n  set-var proc.x\n",
            "pollux.cfg:2: 'set-var' requires a process-wide variable name ('proc.<name>') and a sample expression",
        ),
        (
            "global\n  set-var proc.x src\n",
            "pollux.cfg:2: 'set-var proc.x': fetch method 'src' extracts information from a connection or a request",
        ),
        (
            "global\n  set-var-fmt proc.x \"a %[req.hdr(host),lower]\"\n",
            "pollux.cfg:2: 'set-var-fmt proc.x': fetch method 'req.hdr' extracts information",
        ),
        (
            "global\n  set-var proc.x int(1) int(2)\n",
            "pollux.cfg:2: 'set-var' requires",
        ),
        (
            "global\n  set-var proc.x-y int(1)\n",
            "pollux.cfg:2: 'set-var': invalid variable name 'proc.x-y': invalid syntax at char '-y'",
        ),
    ] {
        let errs = errors_of(text);
        assert!(
            errs.first().is_some_and(|e| e.starts_with(want)),
            "{text}: {errs:?}"
        );
    }
}

#[test]
fn after_response_rules_of_a_named_defaults_come_first() {
    use crate::http::rules::Action;
    let config = ok("defaults d\n  mode http\n  http-after-response set-header X-A a\nfrontend fe\n  bind :80\n  http-after-response del-header X-B\n  default_backend be\ndefaults e\n  mode http\nbackend be\n  http-after-response allow\n");
    let kinds = |rules: &[crate::http::rules::Rule]| -> Vec<&'static str> {
        rules
            .iter()
            .map(|r| match r.action {
                Action::SetHeader(..) => "set-header",
                Action::DelHeader(..) => "del-header",
                Action::Allow => "allow",
                _ => "other",
            })
            .collect()
    };
    assert_eq!(
        kinds(&config.frontends[0].http.rules_after),
        ["set-header", "del-header"]
    );
    assert_eq!(kinds(&config.backends[0].http.rules_after), ["allow"]);
    assert!(config.frontends[0].http.rules_res.is_empty());
}

#[test]
fn missing_timeouts_are_a_warning_as_haproxy() {
    let dir = TempDir::new();
    let path = dir.write(
        "pollux.cfg",
        "frontend fe\n  bind :80\n  default_backend be\nbackend be\n  timeout connect 1s\n  server s 127.0.0.1:80\n\
         backend empty\nlisten tun\n  bind :81\n  timeout client 1s\n  timeout connect 1s\n  timeout tunnel 1h\n  server s 127.0.0.1:80\n",
    );
    let config = load_with_env(&[path], &test_env).unwrap();
    let warnings: Vec<_> = config.warnings.iter().map(|w| dir.rel(w)).collect();
    // The frontend lacks `timeout client`, `be` `timeout server`; a backend
    // without servers and a TCP listen with `timeout tunnel` need none.
    assert_eq!(
        warnings,
        [
            "pollux.cfg:1: missing timeouts for frontend 'fe': connections may stay open forever; set 'timeout client', 'timeout connect' and 'timeout server'",
            "pollux.cfg:4: missing timeouts for backend 'be': connections may stay open forever; set 'timeout client', 'timeout connect' and 'timeout server'",
        ]
    );
}

#[test]
fn from_picks_a_named_defaults_section() {
    let c = ok("defaults base\n  mode http\n  timeout client 1s\n  timeout connect 1s\n  timeout server 1s\n\
                defaults\n  mode tcp\n\
                defaults child from base\n  timeout client 2s\n\
                frontend fe from child\n  bind :80\n  default_backend be\n\
                backend be from base\n  server s 127.0.0.1:80\n\
                backend plain\n  server s 127.0.0.1:80\n");
    let fe = &c.frontends[0];
    assert_eq!((fe.mode, fe.timeouts.client), (Mode::Http, ms(2000)));
    let be = &c.backends[0];
    assert_eq!((be.mode, be.timeouts.server), (Mode::Http, ms(1000)));
    // No `from`: the last defaults section (here, `child`).
    let plain = &c.backends[1];
    assert_eq!((plain.mode, plain.timeouts.client), (Mode::Http, ms(2000)));
    for (text, want) in [
        (
            "frontend fe from nope\n  bind :80\n",
            "pollux.cfg:1: 'from' references an unknown defaults section 'nope'",
        ),
        (
            "frontend fe from\n  bind :80\n",
            "pollux.cfg:1: 'from' expects a defaults section name",
        ),
        (
            "defaults a from\n",
            "pollux.cfg:1: unexpected argument 'from' after 'defaults'",
        ),
        (
            "backend be x y\n",
            "pollux.cfg:1: unexpected argument 'x' after 'backend be'",
        ),
    ] {
        let errors = errors_of(text);
        assert!(
            errors.iter().any(|e| e.contains(want)),
            "{text}: {errors:?}"
        );
    }
}
