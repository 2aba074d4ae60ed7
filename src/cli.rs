//! Command-line parsing (HAProxy-compatible flags).
