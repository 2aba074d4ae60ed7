//! Frontends, backends, servers and load-balancing algorithms at run time.
