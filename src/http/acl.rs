//! ACLs: fetches, match methods and if/unless conditions.
