//! systemd's notification protocol (`Type=notify`, used with `-Ws`): one
//! datagram of `KEY=VALUE` lines to the Unix socket named by $NOTIFY_SOCKET,
//! which systemd sets for the service; a leading `@` names a socket in
//! Linux's abstract namespace.

use std::io;
use std::os::unix::net::UnixDatagram;

/// Send `state` (e.g. "READY=1\nMAINPID=42\n") to systemd. Ok(false) when
/// no NOTIFY_SOCKET is set: not started by systemd, nothing to tell.
pub fn notify(state: &str) -> io::Result<bool> {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return Ok(false);
    };
    let sock = UnixDatagram::unbound()?;
    let path = path.to_string_lossy().into_owned();
    match path.strip_prefix('@') {
        Some(name) => send_abstract(&sock, name, state)?,
        None => {
            sock.send_to(state.as_bytes(), &path)?;
        }
    }
    Ok(true)
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn send_abstract(sock: &UnixDatagram, name: &str, state: &str) -> io::Result<()> {
    #[cfg(target_os = "android")]
    use std::os::android::net::SocketAddrExt;
    #[cfg(target_os = "linux")]
    use std::os::linux::net::SocketAddrExt;
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())?;
    sock.send_to_addr(state.as_bytes(), &addr).map(|_| ())
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn send_abstract(_: &UnixDatagram, name: &str, _: &str) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        format!("abstract socket '@{name}': only Linux has them"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_datagram_reaches_the_socket_path_and_none_without_one() {
        let dir = std::env::temp_dir().join(format!("pollux-notify-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("n.sock");
        let rx = UnixDatagram::bind(&path).unwrap();
        // The environment is the process's: set and unset within this test only.
        std::env::set_var("NOTIFY_SOCKET", &path);
        assert!(notify("READY=1\n").unwrap());
        std::env::remove_var("NOTIFY_SOCKET");
        assert!(!notify("READY=1\n").unwrap());
        let mut buf = [0u8; 64];
        let n = rx.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"READY=1\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
