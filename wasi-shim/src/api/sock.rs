//! sock_* functions.
