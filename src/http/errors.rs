//! Error responses pollux sends itself, and `errorfile` loading.
