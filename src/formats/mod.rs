//! Log formats in the core (logkit/formats/): what the format files describe, applied per
//! record. Here so far: the two things a format file can say that are not "one line, one
//! record" — `[explode]` (one line holds many records) and `[partial]` (a writer split one
//! record over several lines).

pub mod explode;
pub mod partial;
pub mod path;
