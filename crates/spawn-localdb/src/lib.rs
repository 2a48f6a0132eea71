//! spawn-localdb (being written).
