//! Frontends, backends, servers and load balancing at run time, and the
//! engine that owns them and runs the event loop over sessions.

pub mod checks;
pub mod counters;
pub mod decide;
pub mod engine;
pub mod lb;
pub mod listener;
pub mod locks;
pub mod persist;
pub mod stick;
pub mod takeover;

pub use engine::{Engine, Shared};
