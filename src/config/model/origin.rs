//! Where a keyword came from (file and line), kept in the model for
//! runtime messages; a leaf every other model file may use.

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    pub file: String,
    pub line: usize,
}
