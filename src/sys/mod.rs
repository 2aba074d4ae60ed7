//! The few OS-specific helpers: daemonizing, signals, inherited fds.
