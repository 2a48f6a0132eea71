//! spawn-schema: catalog inspection and schema diff (being written).
