//! The measured data the performance model is fitted to and checked against (copies in
//! tests/fixtures/measured, attribution in SOURCES.md there): one reader per measured file,
//! each with the rows it yields, and [`MeasuredData`], all of them read from one directory.

mod csv;
pub mod measured;
pub mod microbench;
pub mod serving;
pub mod splitwise;
pub mod throughput;

pub use measured::{MeasuredData, serving_rows, splitwise_rows};
pub use microbench::{
    ATTENTION_CSV, AttentionRow, DECODE_ATTENTION_CSV, GEMM_CSV, GemmRow, NCCL_CSV, NcclRow,
};
pub use serving::{SERVING_CSV, ServingPoint, catalog_model_id, parse_serving};
pub use splitwise::{SPLITWISE_CSV, SplitwisePoint, parse_splitwise};
pub use throughput::{THROUGHPUT_CSV, ThroughputPoint, parse_throughput};
