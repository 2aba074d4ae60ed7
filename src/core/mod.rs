//! The event loop, fd table, timers and buffer pool. Knows nothing of HTTP.
