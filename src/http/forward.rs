//! What a head may and may not lose on its way through: the edits pollux makes
//! to every forwarded message that are about the connection rather than the
//! content. Pure functions over owned heads, shared by the session's
//! analysers and the fuzz targets, so the property "what we emit is framed by
//! exactly the headers we emit" is checked against the code that runs.
//!
//! - `Connection` options (RFC 9110 §7.6.1) remove the headers they name,
//!   except the ones that frame or route the message (`PROTECTED`): a client
//!   writing `Connection: Content-Length` must not make the body that header
//!   framed look like a second request. Such nominations are ignored, as
//!   HAProxy does.
//! - `Upgrade: h2c` and `HTTP2-Settings` (RFC 7540 §3.2) are removed from
//!   requests: pollux does not speak HTTP/2 to servers, and a server switching
//!   a connection to HTTP/2 under pollux would carry later requests past every
//!   rule. A `101` must name a protocol the forwarded request offered.
//! - The authority (RFC 9112 §3.2.2): for an absolute-form target it is the
//!   one that counts, so a `Host` that differs from it is a 400 (HAProxy 2.6
//!   answers the same), a missing `Host` is added from it, and userinfo, an
//!   empty authority or host, or a scheme other than http/https are 400.
//! - The final framing: after every rule and edit, the framing headers are
//!   set again from the framing pollux decided when it parsed the head, so no
//!   rule can leave a body that its headers do not describe.

use super::body::{self, Framing};
use super::message::{Headers, Request, Response};

/// Status and reason of a request refused before its rules run.
pub type Refusal = (u16, &'static str);

/// Everything a request goes through before its rules see it, in order:
/// its framing decided and normalised (RFC 9112 §6.3), duplicate `Host`
/// lines folded (400 when they differ: two hops could route on different
/// ones), the absolute-form authority checked, the headers `Connection`
/// names removed, HTTP/2 taken out of `Upgrade`. The rules then judge the
/// message as it will be forwarded.
pub fn before_rules(req: &mut Request) -> Result<Framing, Refusal> {
    let framing = body::request_framing(req).map_err(|e| (e.status, e.reason))?;
    body::normalize_request_framing(req, &framing);
    let fold = {
        let mut hosts = req.header_values("host");
        match hosts.next() {
            None => None,
            Some(first) => {
                let mut several = false;
                for h in hosts {
                    if !h.eq_ignore_ascii_case(first) {
                        return Err((400, "differing Host headers"));
                    }
                    several = true;
                }
                several.then(|| first.to_string())
            }
        }
    };
    if let Some(first) = fold {
        req.set_header("Host", &first);
    }
    check_authority(req).map_err(|why| (400, why))?;
    let named = connection_tokens(req);
    strip_nominated(req, &named);
    drop_http2_upgrade(req);
    Ok(framing)
}

/// Replace the connection-management headers by pollux's own `Connection`
/// line (none: `None`). The last edit is `impose_request_framing`.
pub fn set_connection<H: Headers>(m: &mut H, connection: Option<&str>) {
    strip_connection_headers(m);
    if let Some(c) = connection {
        m.add_header("Connection", c);
    }
}

/// Headers a `Connection` option can never remove: they frame the message,
/// route it, or say how the connection itself goes on.
const PROTECTED: &[&str] = &[
    "content-length",
    "transfer-encoding",
    "host",
    "te",
    "trailer",
    "upgrade",
    "connection",
];

/// Lower-cased comma-separated tokens of every `Connection` header.
pub fn connection_tokens<H: Headers>(m: &H) -> Vec<String> {
    m.header_values("connection")
        .flat_map(|v| v.split(','))
        .map(|t| t.trim_matches([' ', '\t']).to_ascii_lowercase())
        .filter(|t| !t.is_empty())
        .collect()
}

/// Remove the headers `Connection` names (RFC 9110 §7.6.1), never a
/// `PROTECTED` one. Runs before the rules, so they see what is forwarded and
/// a header a rule adds stays, even if the peer named it.
pub fn strip_nominated<H: Headers>(m: &mut H, named: &[String]) {
    for n in named {
        if !PROTECTED.contains(&n.as_str()) && !matches!(n.as_str(), "close" | "keep-alive") {
            m.del_header(n);
        }
    }
}

/// Remove the connection-management headers before pollux writes its own
/// `Connection` line.
pub fn strip_connection_headers<H: Headers>(m: &mut H) {
    let is = |n: &str| {
        ["connection", "keep-alive", "proxy-connection"]
            .iter()
            .any(|h| n.eq_ignore_ascii_case(h))
    };
    if m.headers().iter().any(|(n, _)| is(n)) {
        m.headers_mut().retain(|(n, _)| !is(n));
    }
}

/// HTTP/2 in any form: `h2c` (cleartext upgrade) and `h2`.
fn is_http2(protocol: &str) -> bool {
    let name = protocol.split('/').next().unwrap_or("");
    name.eq_ignore_ascii_case("h2c") || name.eq_ignore_ascii_case("h2")
}

/// Remove HTTP/2 from a request's `Upgrade` list and its `HTTP2-Settings`;
/// the `Upgrade` header goes when nothing else is offered. True if anything
/// was removed.
pub fn drop_http2_upgrade(req: &mut Request) -> bool {
    let mut changed = req.del_header("http2-settings") > 0;
    if !req
        .header_values("upgrade")
        .any(|v| v.split(',').any(is_http2))
    {
        return changed;
    }
    let kept: Vec<String> = upgrade_protocols(req)
        .into_iter()
        .filter(|p| !is_http2(p))
        .collect();
    changed |= req.del_header("upgrade") > 0;
    if !kept.is_empty() {
        req.add_header("Upgrade", &kept.join(", "));
    }
    changed
}

/// The protocols of every `Upgrade` line, trimmed, in order.
pub fn upgrade_protocols<H: Headers>(m: &H) -> Vec<String> {
    m.header_values("upgrade")
        .flat_map(|v| v.split(','))
        .map(|p| p.trim_matches([' ', '\t']).to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

/// May a `101 Switching Protocols` answer the request as forwarded? Only to
/// a protocol the request offered (RFC 9110 §7.8), and never to HTTP/2.
pub fn switch_allowed(req: &Request, res: &Response) -> bool {
    let offered = upgrade_protocols(req);
    let chosen = upgrade_protocols(res);
    let asked = connection_tokens(req).iter().any(|t| t == "upgrade");
    asked
        && !chosen.is_empty()
        && chosen.iter().all(|c| {
            !is_http2(c)
                && offered.iter().any(|o| {
                    let name = |p: &str| p.split('/').next().unwrap_or("").to_ascii_lowercase();
                    name(o) == name(c)
                })
        })
}

/// The authority of an absolute-form target (`scheme://authority/...`), or
/// None for origin-form, authority-form and `*`. Err: a 400 reason.
pub fn absolute_authority(target: &str) -> Result<Option<&str>, &'static str> {
    let Some((scheme, rest)) = target.split_once("://") else {
        return Ok(None);
    };
    if scheme.is_empty()
        || !scheme
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'+' || c == b'-' || c == b'.')
    {
        // `/a://b` is an origin-form path that happens to contain "://".
        return Ok(None);
    }
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return Err("scheme other than http or https in request target");
    }
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..end];
    if authority.contains('@') {
        return Err("userinfo in request target");
    }
    if authority.is_empty() || authority.starts_with(':') {
        return Err("empty authority in request target");
    }
    Ok(Some(authority))
}

/// `host[:port]` lower-cased, without the scheme's default port.
fn normalized_host(authority: &str, https: bool) -> String {
    let a = authority.to_ascii_lowercase();
    let default = if https { ":443" } else { ":80" };
    match a.strip_suffix(default) {
        // Not the tail of an IPv6 literal without brackets.
        Some(h) if !h.is_empty() && !h.ends_with(':') => h.to_string(),
        _ => a,
    }
}

/// RFC 9112 §3.2.2: one authority. For an absolute-form target, `Host` must
/// agree with it (400 otherwise) and is added when missing. Err: a 400 reason.
pub fn check_authority(req: &mut Request) -> Result<(), &'static str> {
    let Some(authority) = absolute_authority(&req.uri)? else {
        return check_target_form(req);
    };
    let https = req.uri.len() > 5 && req.uri[..5].eq_ignore_ascii_case("https");
    let want = normalized_host(authority, https);
    match req.header("host") {
        None => {
            let a = authority.to_string();
            req.add_header("Host", &a);
            Ok(())
        }
        Some("") => Err("empty Host with an absolute request target"),
        Some(h) if normalized_host(h, https) != want => {
            Err("Host differs from the authority of the request target")
        }
        Some(_) => Ok(()),
    }
}

/// RFC 9112 §3.2: a target that is not absolute-form must be origin-form
/// (`/...`), `*` for OPTIONS, or anything for CONNECT (authority-form,
/// checked where the tunnel is opened). `a/b` or `http:/x` would reach a
/// server that may resolve them against a path no rule saw: 400, as HAProxy.
fn check_target_form(req: &Request) -> Result<(), &'static str> {
    match req.uri.as_bytes().first() {
        Some(b'/') => Ok(()),
        _ if req.method == "CONNECT" => Ok(()),
        Some(b'*') if req.uri == "*" && req.method == "OPTIONS" => Ok(()),
        Some(b'*') if req.uri == "*" => {
            Err("asterisk-form request target with a method other than OPTIONS")
        }
        _ => Err("request target is neither a path nor an absolute URI"),
    }
}

fn is_te(n: &str) -> bool {
    n.eq_ignore_ascii_case("transfer-encoding")
}

fn is_cl(n: &str) -> bool {
    n.eq_ignore_ascii_case("content-length")
}

/// Transfer codings of every TE line, lower case, without `chunked`.
fn codings_but_chunked(h: &[(String, String)]) -> Vec<String> {
    h.iter()
        .filter(|(n, _)| is_te(n))
        .flat_map(|(_, v)| v.split(','))
        .map(|e| e.trim_matches([' ', '\t']).to_ascii_lowercase())
        .filter(|e| !e.is_empty() && e != "chunked")
        .collect()
}

/// Replaces every line named like `is_name` by `line`, at the place of the
/// first one (or at the end); `None` just removes them.
fn replace_all(
    h: &mut Vec<(String, String)>,
    is_name: fn(&str) -> bool,
    line: Option<(&str, String)>,
) {
    let at = h.iter().position(|(n, _)| is_name(n)).unwrap_or(h.len());
    if at < h.len() {
        h.retain(|(n, _)| !is_name(n));
    }
    if let Some((n, v)) = line {
        h.insert(at.min(h.len()), (n.to_string(), v));
    }
}

/// Make the framing headers say exactly `f`: one `Content-Length: N`; or one
/// `Transfer-Encoding` whose last and only `chunked` is the final coding; or,
/// close-delimited, no `Content-Length` and no `chunked`. `None` on a request
/// means neither header; on a response (HEAD, 1xx, 204, 304) they describe
/// the representation and stay as they are.
fn impose(h: &mut Vec<(String, String)>, f: &Framing, request: bool) {
    match f {
        Framing::Length(n) => {
            replace_all(h, is_te, None);
            replace_all(h, is_cl, Some(("Content-Length", n.to_string())));
        }
        Framing::Chunked => {
            let mut te = codings_but_chunked(h);
            te.push("chunked".into());
            replace_all(h, is_cl, None);
            replace_all(h, is_te, Some(("Transfer-Encoding", te.join(", "))));
        }
        Framing::UntilClose => {
            let te = codings_but_chunked(h);
            replace_all(h, is_cl, None);
            let line = (!te.is_empty()).then(|| ("Transfer-Encoding", te.join(", ")));
            replace_all(h, is_te, line);
        }
        Framing::None if request => {
            replace_all(h, is_cl, None);
            replace_all(h, is_te, None);
        }
        Framing::None => {}
    }
}

/// Framing headers of a request to forward: exactly what `f` says.
pub fn impose_request_framing(req: &mut Request, f: &Framing) {
    impose(&mut req.headers, f, true);
}

/// Framing headers of a response to forward: exactly what `f` says.
pub fn impose_response_framing(res: &mut Response, f: &Framing) {
    impose(&mut res.headers, f, false);
}

#[cfg(test)]
#[path = "forward_tests.rs"]
mod tests;
